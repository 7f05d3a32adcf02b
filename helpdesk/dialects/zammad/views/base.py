"""What every Zammad view shares: ``ZammadView`` (Zammad's auth, errors, paging and
sorting, the caller's tickets) and the 404 for unknown paths."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .... import selectors, services
from ....api.base import request_id
from ....api.exceptions import RequestTooLarge
from ....api.idempotency import IdempotencyMixin
from ....api.parsers import SafeJSONParser
from ....api.permissions import IsHelpdeskUser
from ....api.throttling import AnonThrottle, UserThrottle
from ....attachments import attachments_add, too_large_message
from ....conf import helpdesk_settings
from ....models import Client, Reply, ReplyType, Ticket
from ....permissions import is_agent
from .. import mapping
from .. import serializers as z
from ..auth import ZammadAuthentication
from ..errors import Unprocessable, exception_handler, unprocessable


#: Service field names -> Zammad's, for 422 messages.
FIELD_NAMES = {
    "subject": "title", "message": "article", "department": "group", "client": "organization",
    "priority": "priority", "requester": "customer", "assignees": "owner", "status": "state",
    "text": "article", "type": "article", "tags": "tags", "email": "customer", "files": "attachments",
}
#: sort_by values -> our columns.
SORTS = {
    "id": "pk", "number": "pk", "created_at": "created_at", "updated_at": "updated_at", "title": "subject",
    "priority_id": "priority", "state_id": "status_id", "close_at": "closed_at",
    "first_response_at": "first_response_at", "last_contact_at": "last_reply_at", "group_id": "department_id",
    "customer_id": "requester_id", "organization_id": "client_id",
}
_TRUE = ("true", "1", "yes")
_NESTED = re.compile(r"(\w+)\[(\w+)\]")


class ZammadView(IdempotencyMixin, APIView):
    """What every dialect view shares: Zammad's auth and errors, plain JSON, our limits,
    and ``Idempotency-Key`` on every write (``IdempotencyMixin``, as the native API)."""

    renderer_classes = [JSONRenderer]
    parser_classes = [SafeJSONParser, FormParser, MultiPartParser]
    authentication_classes = [ZammadAuthentication]
    permission_classes = [IsAuthenticated, IsHelpdeskUser]
    throttle_classes = [AnonThrottle, UserThrottle]
    versioning_class = None
    schema = None

    def get_exception_handler(self) -> Any:
        return exception_handler

    #: Whether this view's writes take an article's ``attachments`` (base64 in the JSON body).
    carries_files = False

    def max_body_bytes(self, request: Any) -> int:
        """The largest body a request may send (also what the idempotency fingerprint reads):
        ``MAX_BODY_BYTES``, plus room for the most files of the largest size, base64-encoded,
        on a write that may carry them (a single file over its limit is refused by name, 413)."""
        limit = helpdesk_settings.MAX_BODY_BYTES
        if self.carries_files and request.method in ("POST", "PUT", "PATCH"):
            files = helpdesk_settings.ATTACHMENT_MAX_COUNT * helpdesk_settings.ATTACHMENT_MAX_BYTES
            limit += 4 * -(-files // 3)
        return limit

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Refuse an oversized body before anything (the idempotency fingerprint) reads it.
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = self.max_body_bytes(request)
        if length > limit:
            raise RequestTooLarge(_("The request body is %(n)d bytes; the limit is %(max)d.") % {
                "n": length, "max": limit})
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

    @staticmethod
    def write_error(exc: DjangoValidationError) -> exceptions.APIException:
        """A service's refusal: 413 for a file over ``ATTACHMENT_MAX_BYTES``, else a 422 in
        Zammad's field names."""
        message = too_large_message(exc)
        return RequestTooLarge(message) if message is not None else unprocessable(exc, FIELD_NAMES)

    def add_files(self, ticket: Ticket, article: dict[str, Any], reply: Reply | None = None) -> None:
        """Attach the article's files (``attachment_files``) to the ticket's message or ``reply``."""
        if article["files"]:
            attachments_add(ticket=ticket, reply=reply, files=article["files"], by=self.request.user)

    def post_article(self, ticket: Ticket, article: dict[str, Any]) -> Reply:
        """A reply, or a note (``internal``), from a parsed article, with its files and time."""
        reply = services.reply_post(
            ticket=ticket, author=self.request.user, text=article["text"],
            type=ReplyType.NOTE if article["internal"] else ReplyType.REPLY, silent=True,
        )
        self.add_files(ticket, article, reply)
        self.add_time(ticket, article)
        return reply

    def add_time(self, ticket: Ticket, article: dict[str, Any] | None) -> None:
        if article and article.get("time_unit") is not None:
            services.ticket_add_time_spent(ticket=ticket, minutes=article["time_unit"], by=self.request.user)

    def ticket_response(self, ticket: Ticket, status: int = 200) -> Response:
        fresh = self.tickets().get(pk=ticket.pk)
        data = z.ticket_data(fresh, user=self.request.user, expand=self.expand(), article_ids=self.article_ids(fresh))
        return Response(data, status=status)


class NotFound(ZammadView):
    """Any other path under the mount: Zammad's JSON 404."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    throttle_classes: list[Any] = []

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        raise exceptions.NotFound(_("No route matches [%(m)s] %(p)s") % {"m": request.method, "p": request.path[:200]})
