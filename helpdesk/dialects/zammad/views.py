"""The Zammad endpoints. Thin: each view parses Zammad's request (``serializers``),
checks the role with ``helpdesk.permissions``, calls the services, and renders what the
selectors return in Zammad's shape. No rule lives here.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q, QuerySet, prefetch_related_objects
from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ... import search, selectors, services
from ...api.authentication import is_key_request
from ...api.base import request_id
from ...api.exceptions import RequestTooLarge
from ...api.parsers import SafeJSONParser
from ...api.permissions import IsHelpdeskUser
from ...api.throttling import AnonThrottle, UserThrottle
from ...conf import helpdesk_settings
from ...models import Channel, Client, Reply, ReplyType, Tag, Ticket
from ...permissions import can_delete_ticket, is_agent
from . import mapping
from . import serializers as z
from .auth import ZammadAuthentication
from .errors import Unprocessable, exception_handler, unprocessable
from .mapping import parse_id

#: Service field names -> Zammad's, for 422 messages.
FIELD_NAMES = {
    "subject": "title", "message": "article", "department": "group", "client": "organization",
    "priority": "priority", "requester": "customer", "assignees": "owner", "status": "state",
    "text": "article", "type": "article", "tags": "tags", "email": "customer",
}
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
#: sort_by values -> our columns.
SORTS = {
    "id": "pk", "number": "pk", "created_at": "created_at", "updated_at": "updated_at", "title": "subject",
    "priority_id": "priority", "state_id": "status_id", "close_at": "closed_at",
    "first_response_at": "first_response_at", "last_contact_at": "last_reply_at", "group_id": "department_id",
    "customer_id": "requester_id", "organization_id": "client_id",
}
_TRUE = ("true", "1", "yes")
_NESTED = re.compile(r"(\w+)\[(\w+)\]")


class ZammadView(APIView):
    """What every dialect view shares: Zammad's auth and errors, plain JSON, our limits."""

    renderer_classes = [JSONRenderer]
    parser_classes = [SafeJSONParser, FormParser, MultiPartParser]
    authentication_classes = [ZammadAuthentication]
    permission_classes = [IsAuthenticated, IsHelpdeskUser]
    throttle_classes = [AnonThrottle, UserThrottle]
    versioning_class = None
    schema = None

    def get_exception_handler(self) -> Any:
        return exception_handler

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > helpdesk_settings.MAX_BODY_BYTES:
            raise RequestTooLarge(_("The request body is %(n)d bytes; the limit is %(max)d.") % {
                "n": length, "max": helpdesk_settings.MAX_BODY_BYTES})
        super().initial(request, *args, **kwargs)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        response["X-Request-Id"] = request_id(request)
        return response

    # -- helpers ----------------------------------------------------------------------

    @property
    def agent(self) -> bool:
        return is_agent(self.request.user)

    def require_agent(self) -> None:
        if not self.agent:
            raise exceptions.PermissionDenied(_("Not authorized"))

    def expand(self) -> bool:
        return str(self.request.query_params.get("expand", "")).lower() in _TRUE

    def body(self) -> dict[str, Any]:
        data = self.request.data
        if hasattr(data, "dict"):
            # A form, as Rails reads it: one value per key, ``article[body]=...`` nested.
            flat, data = data.dict(), {}
            for key, value in flat.items():
                match = _NESTED.fullmatch(key)
                if match:
                    inner = data.setdefault(match.group(1), {})
                    if not isinstance(inner, dict):
                        raise Unprocessable(_("%(k)s is sent both as a value and as an object.") % {"k": match.group(1)})
                    inner[match.group(2)] = value
                elif isinstance(data.get(key), dict):
                    raise Unprocessable(_("%(k)s is sent both as a value and as an object.") % {"k": key[:50]})
                else:
                    data[key] = value
        if not isinstance(data, dict):
            raise Unprocessable(_("The request body must be a JSON object."))
        return data

    def page(self, *, default: int, most: int) -> tuple[int, int]:
        """Zammad's ``page``/``per_page`` (or ``limit``): a per_page over ``most`` is clamped."""
        params = self.request.query_params
        values = {}
        for key, fallback in (("page", 1), ("per_page", params.get("limit", default))):
            raw = params.get(key, fallback)
            try:
                number = int(str(raw).strip())
            except ValueError:
                raise Unprocessable(_("%(k)s must be a whole number.") % {"k": key}) from None
            values[key] = number
        page = min(max(values["page"], 1), 10**9)
        per_page = min(max(values["per_page"], 1), most)
        return (page - 1) * per_page, per_page

    def order(self, queryset: QuerySet[Any], *, sort: str, direction: str) -> QuerySet[Any]:
        """``sort_by`` (comma-separated or repeated) and ``order_by`` (asc/desc, one per key)."""
        params = self.request.query_params
        sorts = [s.strip() for raw in params.getlist("sort_by") for s in raw.split(",") if s.strip()] or [sort]
        orders = [o.strip().lower() for raw in params.getlist("order_by") for o in raw.split(",") if o.strip()]
        unknown = [s for s in sorts if s not in SORTS]
        if unknown:
            raise Unprocessable(_("sort_by: unknown field(s) %(u)s; use one of: %(k)s.") % {
                "u": ", ".join(unknown)[:200], "k": ", ".join(SORTS)})
        bad = [o for o in orders if o not in ("asc", "desc")]
        if bad:
            raise Unprocessable(_("order_by must be asc or desc."))
        keys = []
        for index, name in enumerate(sorts):
            way = orders[index] if index < len(orders) else (orders[-1] if orders else direction)
            column = SORTS[name]
            keys.append(f"-{column}" if way == "desc" else column)
        keys.append("-pk" if keys[-1].startswith("-") else "pk")
        return queryset.order_by(*keys)

    def tickets(self) -> QuerySet[Ticket]:
        return selectors.ticket_list(user=self.request.user).select_related("creator")

    def ticket(self, pk: Any) -> Ticket:
        try:
            return selectors.ticket_get(user=self.request.user, pk=pk)
        except Ticket.DoesNotExist:
            raise exceptions.NotFound(_("Couldn't find Ticket with 'id'=%(id)s") % {"id": str(pk)[:30]}) from None

    def article_ids(self, ticket: Ticket) -> list[int]:
        replies = selectors.reply_list(user=self.request.user, ticket=ticket).values_list("pk", flat=True)
        return [mapping.opening_article_id(ticket.pk), *(mapping.reply_article_id(pk) for pk in replies)]

    def resolve_customer(self, value: Any, field: str) -> tuple[Any, Client | None]:
        """A customer and their organization from ``customer_id`` (an id or ``guess:EMAIL``)
        or ``customer`` (a login, an email, or ``{"email", "firstname", "lastname"}``).
        An unknown email address finds or creates its person (``requester_for_email``)."""
        try:
            if isinstance(value, str) and value.startswith("guess:"):
                email = value[len("guess:"):].strip()
                try:
                    return services.requester_for_email(email=email)
                except DjangoValidationError:
                    raise Unprocessable(_("Invalid email '%(e)s' of customer") % {"e": email[:200]}) from None
            if isinstance(value, dict):
                name = " ".join(str(value.get(k) or "") for k in ("firstname", "lastname")).strip()
                return services.requester_for_email(email=value.get("email"), name=name)
            try:
                found = z.find_user(value, field)
            except Unprocessable:
                if isinstance(value, str) and "@" in value:
                    return services.requester_for_email(email=value)
                raise
        except DjangoValidationError as exc:
            raise unprocessable(exc, FIELD_NAMES) from None
        return found, self.client_of(found)

    @staticmethod
    def client_of(person: Any) -> Client | None:
        """The organization of a person: their client, else the client of their email's domain."""
        client = z.contact_client(person)
        if client is not None or not getattr(person, "email", ""):
            return client
        try:
            found, client = services.requester_for_email(email=person.email)
        except DjangoValidationError:
            return None
        return client if found.pk == person.pk else None

    def add_time(self, ticket: Ticket, article: dict[str, Any] | None) -> None:
        if article and article.get("time_unit") is not None:
            services.ticket_add_time_spent(ticket=ticket, minutes=article["time_unit"], by=self.request.user)

    def ticket_response(self, ticket: Ticket, status: int = 200) -> Response:
        fresh = self.tickets().get(pk=ticket.pk)
        data = z.ticket_data(fresh, user=self.request.user, expand=self.expand(), article_ids=self.article_ids(fresh))
        return Response(data, status=status)


# -- tickets -----------------------------------------------------------------------------


class TicketList(ZammadView):
    """``GET /tickets`` (page, per_page, expand, sort_by, order_by) and ``POST /tickets``."""

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
                self.add_time(ticket, article)
        except DjangoValidationError as exc:
            raise unprocessable(exc, FIELD_NAMES) from None
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
                    services.reply_post(
                        ticket=ticket, author=request.user, text=article["text"],
                        type=ReplyType.NOTE if article["internal"] else ReplyType.REPLY, silent=True,
                    )
                    self.add_time(ticket, article)
        except DjangoValidationError as exc:
            raise unprocessable(exc, FIELD_NAMES) from None
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
        queryset = self.filtered(self.tickets(), str(request.query_params.get("query", "")))
        queryset = self.order(queryset, sort="updated_at", direction="desc")
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


# -- articles ----------------------------------------------------------------------------


class ArticleCreate(ZammadView):
    """``POST /ticket_articles``: a public reply, or an internal note (``internal: true``)."""

    def post(self, request: Request) -> Response:
        data = self.body()
        if data.get("ticket_id") is None:
            raise Unprocessable(_("ticket_id is required."))
        ticket = self.ticket(z.as_id(data["ticket_id"], "ticket_id"))
        article = z.article_input(data, user=request.user)
        try:
            with transaction.atomic():
                reply = services.reply_post(
                    ticket=ticket, author=request.user, text=article["text"],
                    type=ReplyType.NOTE if article["internal"] else ReplyType.REPLY, silent=True,
                )
                self.add_time(ticket, article)
        except DjangoValidationError as exc:
            raise unprocessable(exc, FIELD_NAMES) from None
        data = z.reply_article_data(reply)
        if article["time_unit"] is not None:
            # What this article accounted (Zammad's "12.0"); the ticket keeps the total.
            data["time_unit"] = str(float(article["time_unit"]))
        return Response(data, status=201)


class ArticleDetail(ZammadView):
    """``GET /ticket_articles/{id}``."""

    def get(self, request: Request, pk: str) -> Response:
        missing = exceptions.NotFound(_("Couldn't find Ticket::Article with 'id'=%(id)s") % {"id": pk[:30]})
        if parse_id(pk) is None:
            raise missing
        kind, row_id = mapping.parse_article_id(parse_id(pk))
        if kind == "ticket":
            try:
                return Response(z.opening_article_data(selectors.ticket_get(user=request.user, pk=row_id)))
            except Ticket.DoesNotExist:
                raise missing from None
        reply = Reply.objects.filter(pk=row_id).select_related("ticket").first()
        if reply is None:
            raise missing
        try:
            ticket = selectors.ticket_get(user=request.user, pk=reply.ticket_id)
        except Ticket.DoesNotExist:
            raise missing from None
        visible = selectors.reply_list(user=request.user, ticket=ticket).filter(pk=row_id).first()
        if visible is None:
            raise missing
        return Response(z.reply_article_data(visible))


class ArticlesByTicket(ZammadView):
    """``GET /ticket_articles/by_ticket/{ticket_id}``: oldest first; customers never see notes."""

    def get(self, request: Request, pk: str) -> Response:
        ticket = self.ticket(pk)
        expand = True  # Zammad's by_ticket names type and sender; clients rely on it
        articles = [z.opening_article_data(ticket, expand=expand)]
        articles += [z.reply_article_data(r, expand=expand) for r in selectors.reply_list(user=request.user, ticket=ticket)]
        return Response(articles)


# -- tags --------------------------------------------------------------------------------


class TagsMixin:
    def tag_ticket(self: Any, data: Any) -> Ticket:
        if str(data.get("object") or "Ticket") != "Ticket":
            raise Unprocessable(_("object: only Ticket has tags here."))
        if data.get("o_id") in (None, ""):
            raise Unprocessable(_("o_id is required."))
        return self.ticket(z.as_id(data["o_id"], "o_id"))


class TicketTags(TagsMixin, ZammadView):
    """``GET /tags?object=Ticket&o_id=ID`` -> ``{"tags": [...]}``."""

    def get(self, request: Request) -> Response:
        ticket = self.tag_ticket(request.query_params)
        self.require_agent()  # Zammad: ticket.agent or admin.tag
        return Response({"tags": sorted((t.name for t in Tag.objects.filter(tickets=ticket)), key=str.lower)})


class TagAdd(TagsMixin, ZammadView):
    """``POST /tags/add`` ``{"object": "Ticket", "o_id": ID, "item": NAME}`` (agents) -> 201 ``true``."""

    def post(self, request: Request) -> Response:
        data = self.body()
        ticket = self.tag_ticket(data)
        self.require_agent()
        names = z.tag_names(data.get("item"), "item")
        if not names:
            raise Unprocessable(_("item is required."))
        try:
            services.ticket_add_tags(ticket=ticket, tags=names, by=request.user)
        except DjangoValidationError as exc:
            raise unprocessable(exc, {"tags": "item"}) from None
        return Response(True, status=201)


class TagRemove(TagsMixin, ZammadView):
    """``DELETE /tags/remove`` with the same body (agents) -> 201 ``true``, as Zammad's docs show."""

    def delete(self, request: Request) -> Response:
        data = self.body() if request.data else request.query_params
        ticket = self.tag_ticket(data)
        self.require_agent()
        names = z.tag_names(data.get("item"), "item")
        if not names:
            raise Unprocessable(_("item is required."))
        try:
            services.ticket_remove_tags(ticket=ticket, tags=names, by=request.user)
        except DjangoValidationError as exc:
            raise unprocessable(exc, {"tags": "item"}) from None
        return Response(True, status=201)


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


# -- lookups -----------------------------------------------------------------------------


class StateList(ZammadView):
    def get(self, request: Request) -> Response:
        expand = self.expand()
        return Response([z.state_data(sid, s, expand=expand) for sid, s in sorted(mapping.states().items())])


class StateDetail(ZammadView):
    def get(self, request: Request, pk: str) -> Response:
        state = mapping.states().get(parse_id(pk))
        if state is None:
            raise exceptions.NotFound(_("Couldn't find Ticket::State with 'id'=%(id)s") % {"id": pk[:30]})
        return Response(z.state_data(parse_id(pk), state, expand=self.expand()))


class PriorityList(ZammadView):
    def get(self, request: Request) -> Response:
        return Response([z.priority_data(pid, p) for pid, p in sorted(mapping.priorities().items())])


class PriorityDetail(ZammadView):
    def get(self, request: Request, pk: str) -> Response:
        entry = mapping.priorities().get(parse_id(pk))
        if entry is None:
            raise exceptions.NotFound(_("Couldn't find Ticket::Priority with 'id'=%(id)s") % {"id": pk[:30]})
        return Response(z.priority_data(parse_id(pk), entry))


class GroupList(ZammadView):
    def get(self, request: Request) -> Response:
        offset, limit = self.page(default=100, most=500)
        rows = selectors.department_list(user=request.user).order_by("pk")[offset:offset + limit]
        return Response([z.group_data(d) for d in rows])


class GroupDetail(ZammadView):
    def get(self, request: Request, pk: str) -> Response:
        department = selectors.department_list(user=request.user).filter(pk=parse_id(pk)).first() if parse_id(pk) else None
        if department is None:
            raise exceptions.NotFound(_("Couldn't find Group with 'id'=%(id)s") % {"id": pk[:30]})
        return Response(z.group_data(department))


class OrganizationList(ZammadView):
    def get(self, request: Request) -> Response:
        offset, limit = self.page(default=100, most=500)
        expand = self.expand()
        rows = selectors.client_list(user=request.user)[offset:offset + limit]
        return Response([z.organization_data(c, expand=expand) for c in rows])


class OrganizationSearch(ZammadView):
    def get(self, request: Request) -> Response:
        offset, limit = self.page(default=100, most=500)
        query = str(request.query_params.get("query", "")).strip().strip("*")
        rows = selectors.client_list(user=request.user)
        if query:
            rows = rows.filter(Q(name__icontains=query) | Q(domains__domain__icontains=query)).distinct()
        expand = self.expand()
        return Response([z.organization_data(c, expand=expand) for c in rows[offset:offset + limit]])


class OrganizationDetail(ZammadView):
    def get(self, request: Request, pk: str) -> Response:
        found = None
        if parse_id(pk) is not None:
            found = selectors.client_list(user=request.user).filter(pk=parse_id(pk)).first()
        if found is None:
            raise exceptions.NotFound(_("Couldn't find Organization with 'id'=%(id)s") % {"id": pk[:30]})
        return Response(z.organization_data(found, expand=self.expand()))


class UserMe(ZammadView):
    def get(self, request: Request) -> Response:
        return Response(z.user_data(request.user, expand=self.expand()))


class UserCreate(ZammadView):
    """``POST /users`` (agents): a customer by email, with ``firstname``, ``lastname`` and
    ``organization``/``organization_id``; an email already in use is a 422, as in Zammad."""

    @transaction.atomic
    def post(self, request: Request) -> Response:
        self.require_agent()
        data = self.body()
        email = data.get("email")
        if not isinstance(email, str) or not email.strip():
            raise Unprocessable(_("email is required here: customers are found by their address."))
        User = get_user_model()
        email_field = User.get_email_field_name()
        taken = User._default_manager.annotate(_email=Lower(email_field)).filter(_email=email.strip().lower())
        if taken.exists():
            raise Unprocessable(_("Email address '%(e)s' is already used for another user.") % {"e": email[:200]})
        organization = z.find_organization(data)
        name = " ".join(str(data.get(k) or "") for k in ("firstname", "lastname")).strip()
        try:
            person, _client = services.requester_for_email(email=email, name=name, client=organization)
        except DjangoValidationError as exc:
            raise unprocessable(exc) from None
        fresh = selectors.user_list(user=request.user).get(pk=person.pk)
        return Response(z.user_data(fresh, expand=True), status=201)


class UserList(UserCreate):
    """``GET /users`` (agents: everyone; a customer: their organization's people) and ``POST /users``."""

    def get(self, request: Request) -> Response:
        offset, limit = self.page(default=100, most=500)
        expand = self.expand()
        return Response([z.user_data(u, expand=expand)
                         for u in selectors.user_list(user=request.user)[offset:offset + limit]])


class UserSearch(ZammadView):
    """``GET /users/search?query=`` (agents): a list of users."""

    def get(self, request: Request) -> Response:
        self.require_agent()
        offset, limit = self.page(default=100, most=500)
        query = str(request.query_params.get("query", "")).strip().strip("*")
        rows = selectors.user_list(user=request.user)
        for word in query.split()[:10]:
            if ":" in word:
                word = word.split(":", 1)[1]
            rows = rows.filter(
                Q(username__icontains=word) | Q(email__icontains=word)
                | Q(first_name__icontains=word) | Q(last_name__icontains=word)
            )
        expand = self.expand()
        return Response([z.user_data(u, expand=expand) for u in rows[offset:offset + limit]])


class UserDetail(ZammadView):
    def get(self, request: Request, pk: str) -> Response:
        found = None
        if parse_id(pk) is not None:
            found = selectors.user_list(user=request.user).filter(pk=parse_id(pk)).first()
        if found is None:
            raise exceptions.NotFound(_("Couldn't find User with 'id'=%(id)s") % {"id": pk[:30]})
        return Response(z.user_data(found, expand=self.expand()))


class NotFound(ZammadView):
    """Any other path under the mount: Zammad's JSON 404."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    throttle_classes: list[Any] = []

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        raise exceptions.NotFound(_("No route matches [%(m)s] %(p)s") % {"m": request.method, "p": request.path[:200]})
