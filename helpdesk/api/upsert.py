"""``PUT /tickets``: the bulk upsert in the Planhat dialect (``BulkUpsertMixin`` of ``TicketViewSet``).

The view only reads the body and answers; the rules live in ``helpdesk.sync``. The body is
read here, not by DRF's parsers, so that the upsert's own limits apply
(``UPSERT_MAX_BYTES``, not Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE``; ``UPSERT_MAX_ITEMS``)
and an oversized request is refused (413) before anything is written.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import IntegrityError, OperationalError
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ParseError, PermissionDenied, UnsupportedMediaType
from rest_framework.response import Response

from ..conf import helpdesk_settings
from ..permissions import is_agent
from ..sync import ticket_bulk_upsert
from ..busy import is_database_busy
from .exceptions import DatabaseBusy, RequestTooLarge
from .openapi import ErrorSerializer
from .renderers import unwrapped

#: Form fields that carry lists (``-d tags=a -d tags=b`` or ``tags[]=a``).
_LIST_FIELDS = ("tags", "domains")



class UpsertKeySerializer(serializers.Serializer):
    _id = serializers.IntegerField(help_text="Our ticket id.")
    sourceId = serializers.CharField(allow_null=True)


class UpsertItemErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the item in the request, from 0.")
    sourceId = serializers.CharField(allow_null=True)
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()),
                                   help_text="Messages by the item's own field names.")


class UpsertResultSerializer(serializers.Serializer):
    """The response (schema only): Planhat's shape, without the envelope."""

    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    createdErrors = UpsertItemErrorSerializer(many=True)
    updatedErrors = UpsertItemErrorSerializer(many=True)
    insertsKeys = UpsertKeySerializer(many=True)
    updatesKeys = UpsertKeySerializer(many=True)


_SEED_EXAMPLE = [{
    "sourceId": "119", "source": "freshdesk", "status": "open",
    "history": [{"status": "open", "time": "2019-12-15T09:09:08.000Z"}],
    "title": "Test Ticket", "description": "Let have a chat?", "url": "http://urltoyourticket.com/119",
    "type": "ticket", "email": "ojpsoi57pzn@gmail.com", "name": "first-ojpsoi57pzn",
    "companyId": "61006bc89a3e0b702ed8ea49", "agentEmail": None, "domains": ["planhat.com", "google.com"],
}]


class UpsertConflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _lazy("Concurrent requests changed the same tickets; nothing was saved. Send it again.")
    default_code = "conflict"


def _form_item(body: bytes, encoding: str) -> dict[str, Any]:
    """A form-encoded body is one item; list fields may repeat, ``history`` is JSON text."""
    form = QueryDict(body, encoding=encoding)
    item: dict[str, Any] = {}
    for key in form:
        name = key.removesuffix("[]")
        if name in _LIST_FIELDS:
            item.setdefault(name, []).extend(form.getlist(key))
        else:
            item[name] = form.get(key)
    if isinstance(item.get("history"), str):
        try:
            item["history"] = json.loads(item["history"])
        except ValueError:
            raise ParseError(_("history must be a JSON array of {status, time} objects.")) from None
    return item


class BulkUpsertMixin:
    """Adds ``bulk_upsert`` (``PUT /tickets``) to ``TicketViewSet``.

    Agents only. Answers Planhat's top-level shape without the envelope: 200 when every
    item was saved, 206 when some were not (each one listed with its index). 400 for a body
    that is not JSON (or a form), 413 for one over ``UPSERT_MAX_BYTES`` or with more than
    ``UPSERT_MAX_ITEMS`` items: nothing is written then.
    """

    def read_upsert_items(self, request: Any) -> list[Any]:
        """The body as a list of items: override to accept another format."""
        django_request = getattr(request, "_request", request)
        limit = helpdesk_settings.UPSERT_MAX_BYTES
        if getattr(django_request, "_read_started", False):
            body = django_request.body
        else:
            # Read ourselves, up to one byte past the limit: Django's own cap
            # (DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MB) is below a 5000-item request.
            body = django_request.read(limit + 1)
        if len(body) > limit:
            raise RequestTooLarge(_("The request body is over %(max)d bytes.") % {"max": limit})
        content_type, _sep, params = (request.content_type or "").partition(";")
        content_type = content_type.strip().lower()
        encoding = "utf-8"
        for param in params.split(";"):
            name, _eq, value = param.strip().partition("=")
            if name.lower() == "charset" and value:
                encoding = value.strip('"')
        if content_type == "application/x-www-form-urlencoded":
            if not body.strip():
                raise ParseError(_("The body is empty: send a ticket object or an array of them."))
            try:
                return [_form_item(body, encoding)]
            except LookupError:
                raise ParseError(_("Unknown charset %(c)r.") % {"c": encoding}) from None
        if content_type and content_type != "application/json" and not content_type.endswith("+json"):
            raise UnsupportedMediaType(content_type)
        if not body.strip():
            raise ParseError(_("The body is empty: send a ticket object or an array of them."))
        try:
            data = json.loads(body.decode(encoding))
        except (ValueError, LookupError) as exc:
            raise ParseError(_("The body is not valid JSON: %(e)s") % {"e": exc}) from None
        except RecursionError:
            raise ParseError(_("The body is nested too deeply.")) from None
        if isinstance(data, dict):
            return [data]
        if not isinstance(data, list):
            raise ParseError(_("Send a ticket object or an array of them."))
        return data

    @extend_schema(
        summary="Bulk upsert (Planhat dialect, agents)",
        description=(
            "One ticket object or an array of up to `UPSERT_MAX_ITEMS` (5000). Each item is matched by `_id` "
            "(our id), then by (`source`, `sourceId`); a new key creates a ticket. Re-sending a payload creates "
            "nothing new. Every item is saved whole or reported in `createdErrors`/`updatedErrors` with its "
            "`index`. The response is not wrapped in `data`. See docs/sync.md for every field."
        ),
        request={
            "application/json": {"oneOf": [
                {"type": "object"},
                # Any items: one that is not a ticket object is reported in createdErrors (206).
                {"type": "array", "maxItems": 5000},
            ]},
            "application/x-www-form-urlencoded": {
                "type": "object", "minProperties": 1, "additionalProperties": {"type": "string"},
            },
        },
        responses={
            200: OpenApiResponse(UpsertResultSerializer, description="Every item was saved."),
            206: OpenApiResponse(UpsertResultSerializer, description="Some items were not saved; see the error lists."),
            409: OpenApiResponse(ErrorSerializer, description="Concurrent requests kept changing the same tickets; nothing was "
                                             "saved; send the request again."),
            503: OpenApiResponse(ErrorSerializer, description="The database was busy (a lock wait timed out); nothing was "
                                             "saved; send the request again after `Retry-After` seconds."),
        },
        examples=[
            OpenApiExample("Planhat's example", value=_SEED_EXAMPLE, request_only=True),
            OpenApiExample("Its answer", value={
                "created": 1, "updated": 0, "createdErrors": [], "updatedErrors": [],
                "insertsKeys": [{"_id": 1, "sourceId": "119"}], "updatesKeys": [],
            }, response_only=True, status_codes=["200"]),
        ],
    )
    def bulk_upsert(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        if not is_agent(request.user):
            raise PermissionDenied(_("Only agents can sync tickets."))
        items = self.read_upsert_items(request)
        if len(items) > helpdesk_settings.UPSERT_MAX_ITEMS:
            raise RequestTooLarge(
                _("%(n)d items: at most %(max)d per request; nothing was saved.")
                % {"n": len(items), "max": helpdesk_settings.UPSERT_MAX_ITEMS}
            )
        try:
            result = ticket_bulk_upsert(items=items, by=request.user)
        except (IntegrityError, OperationalError) as exc:
            if is_database_busy(exc):
                raise DatabaseBusy() from None  # 503 with Retry-After; nothing was saved
            # Concurrent requests kept winning the same rows, retries included: nothing
            # of this request was saved, and sending it again is safe.
            raise UpsertConflict() from None
        return unwrapped(Response(result.to_dict(), status=status.HTTP_200_OK if result.ok else status.HTTP_206_PARTIAL_CONTENT))
