"""Planhat's ticket endpoints: thin translations onto the selectors, the bulk upsert
(the very one behind the native ``PUT /tickets``) and ``services.ticket_delete``."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from rest_framework import status as http
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ... import selectors, services
from ...api.base import HelpdeskAPIMixin
from ...api.permissions import CanSync, IsAgent
from ...api.upsert import BulkUpsertMixin
from ...conf import helpdesk_settings
from ...limits import parse_id
from ...models import StatusChange
from ...permissions import can_delete_ticket
from ...search import pages_by_id, rows_by_id
from .auth import AUTHENTICATION_CLASSES
from .filters import PlanhatPagination, PlanhatTicketFilterSet
from .serializers import ticket_object


class PlanhatView(HelpdeskAPIMixin, APIView):
    """Planhat's bodies are sent as they are (no ``{"data": ...}`` envelope); errors keep
    the helpdesk's error shape, with the same statuses as the native API."""

    renderer_classes = [JSONRenderer]
    authentication_classes = AUTHENTICATION_CLASSES
    #: Not part of the helpdesk's OpenAPI document: the dialect's own system documents it.
    schema = None

    def tickets(self) -> Any:
        """The tickets the caller may see (``selectors.ticket_list``), archived ones too,
        with what a Planhat object needs fetched in bulk."""
        history = StatusChange.objects.select_related("to_status").order_by("changed_at", "id")
        return selectors.ticket_list(user=self.request.user).prefetch_related(
            Prefetch("status_changes", queryset=history)
        )


class TicketsView(BulkUpsertMixin, PlanhatView):
    """``GET /tickets`` (a bare array) and ``PUT /tickets`` (the bulk upsert)."""

    filterset_class = PlanhatTicketFilterSet
    pagination_class = PlanhatPagination

    @property
    def action(self) -> str:
        # The upsert's throttle scope and body limit are keyed by the action's name.
        return "bulk_upsert" if self.request.method == "PUT" else "list"

    def get_permissions(self) -> list[Any]:
        """The upsert needs what the native mount needs (an agent who may sync)."""
        permissions = super().get_permissions()
        if self.request.method == "PUT":
            permissions += [IsAgent(), CanSync()]
        return permissions

    def max_body_bytes(self, request: Any) -> int:
        if request.method == "PUT":
            return helpdesk_settings.UPSERT_MAX_BYTES
        return super().max_body_bytes(request)

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        filterset = PlanhatTicketFilterSet(request.query_params, queryset=self.tickets(), request=request)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        queryset = filterset.filter_queryset(filterset.queryset)
        paginator = self.pagination_class()
        if pages_by_id(queryset):  # a broad search: the ids first, then their rows
            page = rows_by_id(filterset.queryset,
                              paginator.paginate_queryset(queryset.values_list("pk", flat=True), request, view=self))
        else:
            page = paginator.paginate_queryset(queryset, request, view=self)
        return Response([ticket_object(t, filterset.selected) for t in page])

    def put(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.bulk_upsert(request, *args, **kwargs)


class TicketView(PlanhatView):
    """``DELETE /tickets/{_id}``: answers the deleted ticket's object."""

    def delete(self, request: Request, _id: str, *args: Any, **kwargs: Any) -> Response:
        ticket_id = parse_id(str(_id))
        ticket = self.tickets().filter(pk=ticket_id).first() if ticket_id is not None else None
        if ticket is None:
            raise NotFound(_("Ticket not found."))
        if not can_delete_ticket(request.user, ticket):
            raise PermissionDenied(_("Deleting tickets needs the helpdesk.delete_ticket permission."))
        body = ticket_object(ticket)
        services.ticket_delete(ticket=ticket, by=request.user)
        return Response(body, status=http.HTTP_200_OK)

