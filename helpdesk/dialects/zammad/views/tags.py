"""``/tags``, ``/tags/add``, ``/tags/remove``, ``/tag_search`` and ``/tag_list``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework.request import Request
from rest_framework.response import Response

from .... import selectors, services
from ....models import Tag, Ticket
from .. import serializers as z
from ..errors import Unprocessable, unprocessable
from .base import ZammadView


class TagsMixin:
    """The ticket a tag request names (``object``, ``o_id``) and the change of its tags."""

    def tag_ticket(self: Any, data: Any) -> Ticket:
        if str(data.get("object") or "Ticket") != "Ticket":
            raise Unprocessable(_("object: only Ticket has tags here."))
        if data.get("o_id") in (None, ""):
            raise Unprocessable(_("o_id is required."))
        return self.ticket(z.as_id(data["o_id"], "o_id"))

    def change_tags(self: Any, data: Any, change: Callable[..., Any]) -> Response:
        """Add or remove (``change``, a service) the tag ``item`` names (agents) -> 201 ``true``."""
        ticket = self.tag_ticket(data)
        self.require_agent()
        names = z.tag_names(data.get("item"), "item")
        if not names:
            raise Unprocessable(_("item is required."))
        try:
            change(ticket=ticket, tags=names, by=self.request.user)
        except DjangoValidationError as exc:
            raise unprocessable(exc, {"tags": "item"}) from None
        return Response(True, status=201)


class TicketTags(TagsMixin, ZammadView):
    """``GET /tags?object=Ticket&o_id=ID`` -> ``{"tags": [...]}``."""

    def get(self, request: Request) -> Response:
        ticket = self.tag_ticket(request.query_params)
        self.require_agent()  # Zammad: ticket.agent or admin.tag
        return Response({"tags": sorted((t.name for t in Tag.objects.filter(tickets=ticket)), key=str.lower)})


class TagAdd(TagsMixin, ZammadView):
    """``POST /tags/add`` ``{"object": "Ticket", "o_id": ID, "item": NAME}`` (agents) -> 201 ``true``."""

    def post(self, request: Request) -> Response:
        return self.change_tags(self.body(), services.ticket_add_tags)


class TagRemove(TagsMixin, ZammadView):
    """``DELETE /tags/remove`` with the same body (agents) -> 201 ``true``, as Zammad's docs show."""

    def delete(self, request: Request) -> Response:
        return self.change_tags(self.body() if request.data else request.query_params, services.ticket_remove_tags)


class TagSearch(ZammadView):
    """``GET /tag_search?term=`` (agents) -> ``[{"id", "value"}]``."""

    def get(self, request: Request) -> Response:
        self.require_agent()
        term = str(request.query_params.get("term", "")).strip()
        _offset, limit = self.page(default=10, most=100)
        tags = Tag.objects.filter(name__icontains=term).order_by("name")[:limit] if term else []
        return Response([{"id": t.pk, "value": t.name} for t in tags])


class TagList(ZammadView):
    """``GET /tag_list`` (agents) -> ``[{"id", "name", "count"}]``."""

    def get(self, request: Request) -> Response:
        self.require_agent()
        tags = selectors.tag_counts(user=request.user)
        return Response([{"id": t.pk, "name": t.name, "count": t.count} for t in tags])
