"""``/tickets``: list, create, show, update, delete, and ``/tickets/search``."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import QuerySet, prefetch_related_objects
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from .... import search, services
from ....api.authentication import is_key_request
from ....conf import helpdesk_settings
from ....models import Channel, Client, Ticket
from ....permissions import can_delete_ticket
from .. import mapping
from .. import serializers as z
from ..errors import Unprocessable
from .base import ZammadView


#: Keys Zammad clients echo back from a ticket they read (a PUT of the whole object): ignored.
READ_ONLY_TICKET_KEYS = frozenset({
    "id", "number", "first_response_at", "first_response_escalation_at", "first_response_in_min",
    "first_response_diff_in_min", "close_at", "close_escalation_at", "close_in_min", "close_diff_in_min",
    "update_escalation_at", "update_in_min", "update_diff_in_min", "last_contact_at", "last_contact_agent_at",
    "last_contact_customer_at", "last_owner_update_at", "create_article_type_id", "create_article_sender_id",
    "article_count", "escalation_at", "pending_time", "type", "time_unit", "preferences", "updated_by_id",
    "created_by_id", "created_at", "updated_at", "article_ids", "ticket_time_accounting_ids", "created_by",
    "updated_by", "create_article_type", "create_article_sender", "ticket_time_accounting", "expand",
    "mentions",
})
WRITABLE_TICKET_KEYS = frozenset({
    "title", "group", "group_id", "customer", "customer_id", "state", "state_id", "priority", "priority_id",
    "owner", "owner_id", "organization", "organization_id", "note", "tags", "article",
})


class TicketList(ZammadView):
    """``GET /tickets`` (page, per_page, expand, sort_by, order_by) and ``POST /tickets``."""

    carries_files = True

    def get(self, request: Request) -> Response:
        offset, limit = self.page(default=100, most=100)
        queryset = self.order(self.tickets(), sort="id", direction="asc")
        expand = self.expand()
        return Response([z.ticket_data(t, user=request.user, expand=expand) for t in queryset[offset:offset + limit]])

    @transaction.atomic  # a customer found or created for a ticket that fails is not kept
    def post(self, request: Request) -> Response:
        data = self.body()
        user = request.user
        agent = self.agent
        custom, unknown = z.custom_field_values(data, WRITABLE_TICKET_KEYS | READ_ONLY_TICKET_KEYS)
        if unknown:
            raise Unprocessable(_("Unknown attribute(s): %(u)s.") % {"u": ", ".join(sorted(unknown))[:300]})
        if data.get("mentions"):
            raise Unprocessable(_("mentions are not supported here."))
        if not agent:
            for key in ("owner", "owner_id", "organization", "organization_id", "tags", "state", "state_id"):
                if data.get(key) not in (None, "", [], 0):
                    raise exceptions.PermissionDenied(_("Not authorized to set %(k)s.") % {"k": key})
        title = data.get("title")
        if not isinstance(title, str) or not title.strip():
            raise Unprocessable(_("title is required."))
        department = z.find_department(data)
        if department is None:
            raise Unprocessable(_("group or group_id is required."))
        if "article" not in data or data["article"] is None:
            raise Unprocessable(_("An article (with a body) is required: it is the ticket's first message."))
        article = z.article_input(data["article"], user=user)
        if article["internal"]:
            raise Unprocessable(_("The first article cannot be internal here: it is the message the customer sees."))
        customer, client = self.customer(data, agent=agent)
        organization = z.find_organization(data) if agent else None
        client = organization or client
        if client is None and helpdesk_settings.ZAMMAD_DEFAULT_ORGANIZATION_ID is not None:
            client = Client.objects.filter(pk=helpdesk_settings.ZAMMAD_DEFAULT_ORGANIZATION_ID).first()
        if client is None:
            raise Unprocessable(_("The customer belongs to no organization: send organization_id."))
        state = z.find_state(data)
        priority = z.find_priority(data)
        _sent, owner = z.find_owner(data)
        note = data.get("note")
        if note is not None and not isinstance(note, str):
            raise Unprocessable(_("note must be a string."))
        try:
            with transaction.atomic():
                ticket = services.ticket_create(
                    subject=title,
                    message=article["text"],
                    department=department,
                    client=client,
                    priority=priority if priority is not None else 1,
                    creator=user,
                    requester=customer,
                    channel=Channel.API if is_key_request(request) else Channel.WEB,
                    status=state[1] if state else None,
                    assignees=[owner] if owner is not None else (),
                    tags=z.tag_names(data["tags"]) if data.get("tags") else (),
                    custom_fields=custom or None,
                    metadata={**({mapping.NOTE_KEY: note} if note else {}),
                              **({mapping.STATE_KEY: state[0]} if state else {})} or None,
                    silent=True,
                )
                self.add_files(ticket, article)
                self.add_time(ticket, article)
        except DjangoValidationError as exc:
            raise self.write_error(exc) from None
        return self.ticket_response(ticket, status=201)

    def is_self(self, value: Any) -> bool:
        """Whether a customer reference names the caller (by id, login, email or ``guess:``)."""
        user = self.request.user
        if isinstance(value, str) and value.startswith("guess:"):
            return value[len("guess:"):].strip().lower() == (user.email or "").lower()
        try:
            return z.find_user(value, "customer").pk == user.pk
        except Unprocessable:
            return False

    def customer(self, data: dict[str, Any], *, agent: bool) -> tuple[Any, Client | None]:
        """The ticket's customer: for a customer themselves; for an agent, as sent."""
        user = self.request.user
        field = "customer_id" if data.get("customer_id") is not None else "customer"
        value = data.get(field)
        if not agent:
            if value not in (None, "") and not self.is_self(value):
                raise exceptions.PermissionDenied(_("Not authorized to create tickets for another customer."))
            return user, z.contact_client(user)
        if value in (None, ""):
            raise Unprocessable(_("customer or customer_id is required."))
        return self.resolve_customer(value, field)

class TicketDetail(ZammadView):
    """``GET``, ``PUT`` and ``DELETE /tickets/{id}``."""

    carries_files = True

    def get(self, request: Request, pk: str) -> Response:
        return self.ticket_response(self.ticket(pk))

    @transaction.atomic  # every change of one PUT, or none
    def put(self, request: Request, pk: str) -> Response:
        ticket = self.ticket(pk)
        data = self.body()
        agent = self.agent
        custom, unknown = z.custom_field_values(data, WRITABLE_TICKET_KEYS | READ_ONLY_TICKET_KEYS)
        if unknown:
            raise Unprocessable(_("Unknown attribute(s): %(u)s.") % {"u": ", ".join(sorted(unknown))[:300]})
        if "tags" in data:
            raise Unprocessable(_("tags cannot be changed by PUT /tickets: use POST /tags/add and DELETE /tags/remove."))
        changes: dict[str, Any] = {}
        if "title" in data and z.as_text(data["title"], "title") != ticket.subject:
            changes["subject"] = data["title"]
        department = z.find_department(data)
        if department is not None and department.pk != ticket.department_id:
            changes["department"] = department
        priority = z.find_priority(data)
        if priority is not None and int(priority) != ticket.priority:
            changes["priority"] = priority
        if "customer_id" in data or "customer" in data:
            field = "customer" if data.get("customer") is not None else "customer_id"
            if data.get(field) is None:
                raise Unprocessable(_("customer_id cannot be blank."))
            customer, client = self.resolve_customer(data[field], field)
            if customer.pk != ticket.requester_id:
                changes["requester"] = customer
                if client is not None and client.pk != ticket.client_id:
                    changes["client"] = client
        organization = z.find_organization(data)
        if organization is not None and organization.pk != ticket.client_id:
            changes["client"] = organization
        if "note" in data:
            note = data["note"]
            if note is not None and not isinstance(note, str):
                raise Unprocessable(_("note must be a string."))
            if note != (ticket.metadata or {}).get(mapping.NOTE_KEY):
                changes["metadata"] = {**(ticket.metadata or {}), mapping.NOTE_KEY: note}
        if custom:
            changes["custom_fields"] = custom
        state = z.find_state(data)
        if state is not None and state[0] != mapping.state_for_ticket(ticket):
            # Remembered, so a state that shares its status with another shows as sent.
            changes["metadata"] = {**changes.get("metadata", ticket.metadata or {}), mapping.STATE_KEY: state[0]}
        if state is not None and state[1].pk == ticket.status_id:
            state = None
        owner_sent, owner = z.find_owner(data)
        if owner_sent:
            current = sorted(u.pk for u in ticket.assignees.all())
            if current == ([owner.pk] if owner else []):
                owner_sent = False
        article = z.article_input(data["article"], user=request.user) if data.get("article") else None
        if not agent and (changes or state is not None or owner_sent):
            raise exceptions.PermissionDenied(_("Not authorized: customers may only add articles."))
        try:
            with transaction.atomic():
                if changes:
                    services.ticket_update(ticket=ticket, by=request.user, silent=True, **changes)
                if state is not None:
                    services.ticket_change_status(ticket=ticket, status=state[1], by=request.user, silent=True)
                if owner_sent:
                    services.ticket_set_assignees(ticket=ticket, assignees=[owner] if owner else [], by=request.user)
                if article is not None:
                    self.post_article(ticket, article)
        except DjangoValidationError as exc:
            raise self.write_error(exc) from None
        return self.ticket_response(ticket)

    def delete(self, request: Request, pk: str) -> Response:
        ticket = self.ticket(pk)
        if not can_delete_ticket(request.user, ticket):
            raise exceptions.PermissionDenied(_("Not authorized"))
        services.ticket_delete(ticket=ticket, by=request.user)
        return Response({}, status=200)


_TERM = re.compile(r'(?P<key>[A-Za-z_][\w.]*):(?P<value>"[^"]*"|\S+)')
#: ``field:value`` search terms we understand -> a filter on the ticket list.
SEARCH_FIELDS = {
    "number": "pk", "id": "pk", "title": "subject__icontains", "state": "state", "state.name": "state",
    "state_id": "state_id", "priority_id": "priority_id", "priority.name": "priority", "group_id": "department_id",
    "group.name": "department__name__iexact", "customer_id": "requester_id", "organization_id": "client_id",
    "owner_id": "assignees", "tags": "tags", "tag": "tags",
}


class TicketSearch(ZammadView):
    """``GET /tickets/search?query=...``: ``{"tickets", "tickets_count", "assets"}``, or with
    ``expand=true`` a list of expanded tickets."""

    def get(self, request: Request) -> Response:
        offset, limit = self.page(default=50, most=200)
        tickets = self.tickets()
        queryset = self.filtered(tickets, str(request.query_params.get("query", "")))
        queryset = self.order(queryset, sort="updated_at", direction="desc")
        if search.pages_by_id(queryset):  # a broad search: the ids first, then their rows
            page = search.rows_by_id(tickets, list(queryset.values_list("pk", flat=True)[offset:offset + limit]))
        else:
            page = list(queryset[offset:offset + limit])
        prefetch_related_objects(page, "client__domains")
        if self.expand():
            return Response([z.ticket_data(t, user=request.user, expand=True) for t in page])
        assets: dict[str, dict[str, Any]] = {"Ticket": {}, "User": {}, "Organization": {}}
        people: set[int] = set()
        for t in page:
            assets["Ticket"][str(t.pk)] = z.ticket_data(t, user=request.user)
            assets["Organization"].setdefault(str(t.client_id), z.organization_data(t.client))
            people.update(p.pk for p in (t.requester, t.creator, z._owner(t)) if p is not None)
        # The people these tickets name (customer, creator, owner), with their clients in one query.
        User = get_user_model()
        for person in User._default_manager.filter(pk__in=people).select_related("helpdesk_contact__client"):
            assets["User"][str(person.pk)] = z.user_data(person)
        return Response({"tickets": [t.pk for t in page], "tickets_count": queryset.count(), "assets": assets})

    def filtered(self, queryset: QuerySet[Ticket], query: str) -> QuerySet[Ticket]:
        words: list[str] = []
        rest = query
        for match in _TERM.finditer(query):
            key, value = match.group("key"), match.group("value").strip('"')
            rest = rest.replace(match.group(0), " ", 1)
            queryset = self.field_filter(queryset, key, value)
        for word in rest.split():
            if word in ("AND", "&&"):
                continue
            if word in ("OR", "NOT", "||", "!") or word.startswith("-"):
                raise Unprocessable(_("The query syntax OR/NOT is not supported here: send words and field:value terms."))
            if word != "*":
                words.append(word)
        text = " ".join(words)
        return search.search_tickets(queryset, text, user=self.request.user) if text else queryset

    def field_filter(self, queryset: QuerySet[Ticket], key: str, value: str) -> QuerySet[Ticket]:
        lookup = SEARCH_FIELDS.get(key)
        if lookup is None:
            raise Unprocessable(_("Unknown search field %(k)r; known: %(f)s.") % {"k": key[:50], "f": ", ".join(SEARCH_FIELDS)})
        if lookup == "state" or key == "state_id":
            state_id = z.as_id(value, key) if key == "state_id" else mapping.state_by_name(value)
            if state_id is None or state_id not in mapping.states():
                raise Unprocessable(_("No such state: %(v)r") % {"v": value[:50]})
            # The state a ticket shows is derived (see mapping.state_for_ticket): filter by
            # our status, then keep the rows that show this state.
            status = mapping.status_for_state(state_id)
            ids = [t.pk for t in queryset.filter(status=status)[: search.MAX_MATCHED_IDS]
                   if mapping.state_for_ticket(t) == state_id]
            return queryset.filter(pk__in=ids)
        if lookup == "priority_id" or lookup == "priority":
            priority_id = z.as_id(value, key) if lookup == "priority_id" else mapping.priority_by_name(value)
            ours = mapping.our_priority(priority_id) if priority_id else None
            if ours is None:
                raise Unprocessable(_("No such priority: %(v)r") % {"v": value[:50]})
            return queryset.filter(priority=ours)
        if lookup == "tags":
            return queryset.filter(tags__name__iexact=value).distinct()
        if lookup in ("pk", "department_id", "requester_id", "client_id", "assignees"):
            return queryset.filter(**{lookup: z.as_id(value, key)})
        return queryset.filter(**{lookup: value})
