"""What every helpdesk API view shares: policies pinned per view (a host site's
``REST_FRAMEWORK`` settings never change our API), the body size limit, and the
``X-Request-Id`` / ``X-Api-Version`` headers on every response, errors included."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from ..conf import helpdesk_settings
from .authentication import APIKeyAuthentication
from .exceptions import RequestTooLarge, exception_handler
from .idempotency import IdempotencyMixin
from .openapi import HelpdeskAutoSchema
from .pagination import HelpdeskPagination
from .parsers import SafeJSONParser
from .permissions import IsHelpdeskUser
from .renderers import EnvelopeJSONRenderer, HelpdeskBrowsableAPIRenderer, unwrapped
from .throttling import AnonThrottle, UpsertThrottle, UserThrottle

# A caller's request id is echoed only if it is short and plain (it ends up in logs).
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def request_id(request: Any) -> str:
    """The caller's ``X-Request-Id`` if sane, else a new one; the same for the whole request."""
    django_request = getattr(request, "_request", request)
    rid = getattr(django_request, "helpdesk_request_id", None)
    if rid is None:
        given = django_request.META.get("HTTP_X_REQUEST_ID", "")
        rid = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        django_request.helpdesk_request_id = rid
    return rid


class HelpdeskAPIMixin(IdempotencyMixin):
    """Mix into any DRF view of the helpdesk API (before the DRF base class).

    Carries ``IdempotencyMixin``: every unsafe method honours ``Idempotency-Key``.
    """

    renderer_classes = [EnvelopeJSONRenderer, HelpdeskBrowsableAPIRenderer]
    parser_classes = [SafeJSONParser, FormParser, MultiPartParser]
    authentication_classes = [APIKeyAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated, IsHelpdeskUser]
    throttle_classes = [AnonThrottle, UserThrottle, UpsertThrottle]
    content_negotiation_class = DefaultContentNegotiation
    pagination_class = HelpdeskPagination
    filter_backends = [DjangoFilterBackend]
    versioning_class = None
    schema = HelpdeskAutoSchema()
    #: Actions whose success body is sent without the envelope (see ``renderers.unwrapped``).
    unwrapped_actions: tuple[str, ...] = ()

    def get_exception_handler(self) -> Any:
        return exception_handler

    def max_body_bytes(self, request: Any) -> int:
        """The largest body this request may send; the bulk upsert overrides it."""
        return helpdesk_settings.MAX_BODY_BYTES

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        # Refuse an oversized body before anything reads it.
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > self.max_body_bytes(request):
            raise RequestTooLarge(
                _("The request body is %(n)d bytes; the limit is %(max)d.") % {"n": length, "max": self.max_body_bytes(request)}
            )
        super().initial(request, *args, **kwargs)  # type: ignore[misc]

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        if response.status_code >= 400 and isinstance(getattr(response, "data", None), dict) and "error" in response.data:
            unwrapped(response)
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        response["X-Request-Id"] = request_id(request)
        response["X-Api-Version"] = helpdesk_settings.API_VERSION
        return response


class NotFoundView(HelpdeskAPIMixin, APIView):
    """The last route of ``helpdesk.api.urls``: any other path under the API is a JSON 404."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    throttle_classes: list[Any] = []

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        raise NotFound(_("No such endpoint: %(path)s") % {"path": request.path})
