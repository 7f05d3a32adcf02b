"""SPP's ticket endpoints: ``POST /tickets`` (``services.ticket_create`` and, for
``note``, ``services.reply_post``), ``GET /tickets`` and ``GET /tickets/{id}`` (selectors)."""

from __future__ import annotations

import math
from typing import Any

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from rest_framework import status as http
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ... import selectors, services
from ...api.base import HelpdeskAPIMixin, request_id
from ...api.exceptions import ValidationFailed, exception_handler, from_django
from ...api.pagination import filterset_params, reject_unknown_params
from ...api.serializers import attachment_url
from ...limits import parse_id
from ...models import Channel, Department, Reply, ReplyType, Ticket
from ...permissions import contact_client_id, is_agent
from .auth import AUTHENTICATION_CLASSES
from .filters import SPPTicketFilterSet
from .serializers import FIELD_NAMES, ORDER_KEY, StoreTicketRequest, ticket_resource

DEFAULT_LIMIT = 15
MAX_LIMIT = 100


def spp_exception_handler(exc: Exception, context: dict[str, Any]) -> Any:
    """The helpdesk's error body, plus Laravel's ``message``/``errors`` that SPP clients read."""
    response = exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "error" in response.data:
        error = response.data["error"]
        response.data = {"message": error["message"], **({"errors": error["fields"]} if "fields" in error else {}),
                         **response.data}
    return response


class SPPView(HelpdeskAPIMixin, APIView):
    renderer_classes = [JSONRenderer]
    authentication_classes = AUTHENTICATION_CLASSES
    #: Not part of the helpdesk's OpenAPI document: the dialect's own system documents it.
    schema = None

    def get_exception_handler(self) -> Any:
        return spp_exception_handler

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        response["X-Api-Identifier"] = request_id(request)
        return response

    def tickets(self) -> Any:
        """The tickets the caller may see, each with the replies they may read
        (``selectors.reply_scope``) fetched in bulk: one query a page, not one a ticket."""
        replies = (
            Reply.objects.filter(selectors.reply_scope(self.request.user)).select_related("author")
            .prefetch_related("attachments")
        )
        return selectors.ticket_list(user=self.request.user).prefetch_related(
            Prefetch("replies", queryset=replies.order_by("created_at", "id"), to_attr="visible_replies")
        )

    def resource(self, ticket: Ticket) -> dict[str, Any]:
        return ticket_resource(ticket, ticket.visible_replies, file_url=self.file_url)

    def file_url(self, attachment_id: int) -> str:
        """The native ``/attachments/{id}``, absolute: the download every surface authorizes alike."""
        return self.request.build_absolute_uri(attachment_url(attachment_id))


class PageForm(forms.Form):
    page = forms.IntegerField(required=False, min_value=1, max_value=10**9)
    limit = forms.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT)


class TicketsView(SPPView):
    """``GET /tickets`` (Laravel's paginated ``data``/``links``/``meta``) and ``POST /tickets``."""

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        reject_unknown_params(request.query_params, set(PageForm.base_fields) | filterset_params(SPPTicketFilterSet))
        form = PageForm(request.query_params)
        if not form.is_valid():
            raise ValidationFailed(form.errors)
        page = form.cleaned_data.get("page") or 1
        limit = form.cleaned_data.get("limit") or DEFAULT_LIMIT
        filterset = SPPTicketFilterSet(request.query_params, queryset=self.tickets(), request=request)
        if not filterset.is_valid():
            raise ValidationFailed(filterset.errors)
        queryset = filterset.filter_queryset(filterset.queryset).order_by("-created_at", "-id")
        total = queryset.count()
        rows = list(queryset[(page - 1) * limit : page * limit])
        last = max(1, math.ceil(total / limit))
        base = request.build_absolute_uri(request.path)
        query = request.query_params.copy()
        query.pop("page", None)
        query["limit"] = str(limit)

        def link(n: int) -> str:
            query["page"] = str(n)
            return f"{base}?{query.urlencode()}"

        first_row = (page - 1) * limit + 1
        return Response({
            "data": [self.resource(t) for t in rows],
            "links": {
                "first": link(1),
                "last": link(last),
                "prev": link(page - 1) if page > 1 else None,
                "next": link(page + 1) if page < last else None,
            },
            "meta": {
                "current_page": page, "from": first_row if rows else None, "last_page": last,
                "per_page": limit, "to": first_row + len(rows) - 1 if rows else None, "total": total,
                "path": base,
            },
        })

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not is_agent(request.user):
            raise PermissionDenied(_("Only agents can create tickets through this API."))
        serializer = StoreTicketRequest(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = data["user_id"]
        client_id = contact_client_id(user)
        if client_id is None:
            raise ValidationFailed({"user_id": [_("User %(id)d is not an active client contact.") % {"id": user.pk}]})
        department = Department.objects.filter(is_default=True).first()
        if department is None:
            raise ValidationFailed({"user_id": [_("No department is marked default; mark one in the admin.")]})
        metadata = dict(data.get("metadata") or {})
        if data.get("order"):
            metadata[ORDER_KEY] = data["order"]
        try:
            with transaction.atomic():
                ticket = services.ticket_create(
                    subject=data["subject"],
                    # SPP opens a ticket with a subject only; our tickets need a message.
                    message=data["subject"],
                    department=department,
                    client=user.helpdesk_contact.client,
                    creator=request.user,
                    requester=user,
                    channel=Channel.API,
                    status=data.get("status"),
                    assignees=data.get("employees") or (),
                    tags=data.get("tags") or (),
                    metadata=metadata,
                    silent=True,
                )
                if data.get("note", "").strip():
                    services.reply_post(
                        ticket=ticket, author=request.user, text=data["note"], type=ReplyType.NOTE, silent=True
                    )
        except DjangoValidationError as exc:
            raise from_django(exc, FIELD_NAMES) from None
        return Response(self.resource(self.tickets().get(pk=ticket.pk)), status=http.HTTP_201_CREATED)


class TicketView(SPPView):
    """``GET /tickets/{id}``: 404 for a ticket the caller may not see."""

    def get(self, request: Request, pk: str, *args: Any, **kwargs: Any) -> Response:
        reject_unknown_params(request.query_params, set())
        ticket_id = parse_id(str(pk))
        ticket = self.tickets().filter(pk=ticket_id).first() if ticket_id is not None else None
        if ticket is None:
            raise NotFound(_("Ticket not found."))
        return Response(self.resource(ticket))
