"""The tickets endpoints: list/search, CRUD, status, archive, tags, replies, history.

Thin: the views check roles, validate input with the serializers, call the services and
selectors, and render with the plain functions of ``serializers``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connections, transaction
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status as http
from rest_framework import viewsets
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from .. import attachments
from .. import permissions as perms
from .. import selectors, services
from ..conf import helpdesk_settings
from ..limits import parse_id
from ..models import Attachment, Channel, ReplyType, Ticket
from ..permissions import can_delete_ticket, is_agent
from ..search import pages_by_id, rows_by_id
from .authentication import is_key_request
from .base import HelpdeskAPIMixin
from .conditional import not_modified, set_validators, unchanged
from .exceptions import RequestTooLarge, ValidationFailed, from_django
from .filters import TicketFilterSet
from .pagination import filterset_params
from .permissions import CanSync, IsAgent
from .serializers import (
    REPLY_FIELD_NAMES,
    TICKET_FIELD_NAMES,
    EmptySerializer,
    HistorySerializer,
    ReplySerializer,
    ReplyWriteSerializer,
    RequesterRef,
    TicketCreateSerializer,
    TicketSerializer,
    TicketMergeWriteSerializer,
    TicketStatusWriteSerializer,
    TicketTagsWriteSerializer,
    TicketUpdateSerializer,
    history_data,
    reply_data,
    ticket_data,
)
from .upsert import BulkUpsertMixin

SELECT_PARAM = OpenApiParameter(
    "select", str, description="Comma-separated top-level fields to return (sparse fields); unknown names are a 422."
)
TAGS_ARRAY_PARAM = OpenApiParameter(
    "tags[]", {"type": "array", "items": {"type": "string"}}, style="form", explode=True,
    description="Tickets carrying all of these tags (same as repeating `tags`).",
)
TICKET_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The ticket id.")

TICKET_FIELDS = tuple(TicketSerializer().fields)
#: Most names in ``select`` (repeats are allowed and ignored).
MAX_SELECT = 500


class SelectForm(forms.Form):
    """``select=id,subject,status``: the top-level ticket fields to return."""

    select = forms.CharField(required=False, max_length=10_000)

    def clean_select(self) -> tuple[str, ...] | None:
        value = self.cleaned_data.get("select") or ""
        names = [n.strip() for n in value.split(",") if n.strip()]
        if not names:
            return None
        if len(names) > MAX_SELECT:
            raise forms.ValidationError(_("At most %(n)d names.") % {"n": MAX_SELECT})
        unknown = [n for n in names if n not in TICKET_FIELDS]
        if unknown:
            raise forms.ValidationError(
                _("Unknown field(s): %(u)s. Known: %(k)s.") % {"u": ", ".join(unknown), "k": ", ".join(TICKET_FIELDS)}
            )
        return tuple(dict.fromkeys(names))


@extend_schema_view(
    list=extend_schema(
        summary="List and search tickets",
        description="Active tickets by default, newest first. Agents see every ticket (of their departments, "
        "if they are limited to some); a client contact only their client's.",
        parameters=[SELECT_PARAM, TAGS_ARRAY_PARAM],
        responses=TicketSerializer(many=True),
    ),
    create=extend_schema(
        summary="Create a ticket",
        description="JSON or form-encoded. Enabled custom fields are sent by their key next to the `ticket_*` "
        "fields (required ones are enforced); any other key is a 422. Agents may also set `requester`, "
        "`assignee_ids`, `status`, `metadata`, `type`, `severity`, `product`, `time_spent`. A contact may leave "
        "out `ticket_clientid` (their own client), is the requester, may set `type`, `product` and `metadata`, "
        "and nothing else of those.",
        request=TicketCreateSerializer,
        responses={201: TicketSerializer},
    ),
    retrieve=extend_schema(summary="Get a ticket", parameters=[SELECT_PARAM], responses=TicketSerializer),
    partial_update=extend_schema(
        summary="Edit a ticket (agents)",
        description="Any subset of the department, project, subject, message, priority, custom fields, "
        "`requester`, `assignee_ids`, `metadata`, `type`, `severity`, `product` and `time_spent`. "
        "A blank custom field removes it, unless it is required (422).",
        request=TicketUpdateSerializer,
        responses=TicketSerializer,
    ),
    destroy=extend_schema(
        summary="Delete a ticket (needs helpdesk.delete_ticket)",
        description="Permanent, with its replies and history.",
        responses={204: OpenApiResponse(description="Deleted.")},
    ),
)
class TicketViewSet(BulkUpsertMixin, HelpdeskAPIMixin, viewsets.GenericViewSet):
    """Tickets. Routes are wired by hand in ``helpdesk.api.urls`` (trailing slash optional)."""

    unwrapped_actions = ("bulk_upsert",)

    filterset_class = TicketFilterSet
    serializer_class = TicketSerializer
    queryset = Ticket.objects.none()  # for the schema; get_queryset() asks the selector

    def get_serializer_class(self) -> Any:
        return {
            "create": TicketCreateSerializer,
            "partial_update": TicketUpdateSerializer,
            "set_status": TicketStatusWriteSerializer,
            "set_tags": TicketTagsWriteSerializer,
            "replies": ReplyWriteSerializer if self.request and self.request.method == "POST" else ReplySerializer,
            "history": HistorySerializer,
            "archive": EmptySerializer,
            "restore": EmptySerializer,
            "merge": TicketMergeWriteSerializer,
        }.get(self.action, TicketSerializer)

    def get_permissions(self) -> list[Any]:
        """The bulk upsert is for agents only, whatever its mixin checks."""
        permissions = super().get_permissions()
        if self.action == "bulk_upsert":
            permissions += [IsAgent(), CanSync()]
        return permissions

    def list_query_params(self) -> set[str]:
        """The query parameters of this list (the pagination refuses any other)."""
        if self.action == "list":
            return filterset_params(self.filterset_class) | {"select"}
        return set()

    def get_queryset(self) -> Any:
        """The tickets the caller may see (``selectors.ticket_list``)."""
        return selectors.ticket_list(user=self.request.user)

    def ticket_queryset(self, select: tuple[str, ...] | None = None) -> Any:
        """``get_queryset()`` fetching only the related rows ``select`` needs.

        On PostgreSQL the tags and assignee ids come as arrays inside the ticket query
        itself (``selectors.ticket_array_columns``): one round trip for a page instead of three.
        """
        queryset = self.get_queryset()
        wanted = [(field, name) for field, name in (("tags", "tags"), ("assignee_ids", "assignees"))
                  if select is None or field in select]
        if connections[queryset.db].vendor != "postgresql":
            if select is not None:
                queryset = queryset.prefetch_related(None).prefetch_related(*[name for _field, name in wanted])
            if select is None or "attachments" in select:
                queryset = queryset.prefetch_related(selectors.message_attachments_prefetch())
            return queryset
        columns = selectors.ticket_array_columns(queryset.db)
        names = ["tag_names" if field == "tags" else "assignee_id_list" for field, _name in wanted]
        if select is None or "attachments" in select:
            # The message's files as a JSON array inside the ticket query, like the tags.
            names.insert(0, "message_attachment_rows")
        return queryset.prefetch_related(None).annotate(**{name: columns[name] for name in names})

    def get_object(self, queryset: Any = None) -> Ticket:
        """The ticket of the URL if the caller may see it; 404 otherwise (never 403).
        ``queryset``: a narrower ``ticket_queryset()`` (e.g. locked, without related rows)."""
        pk = parse_id(str(self.kwargs.get("pk")))
        if pk is None:
            raise NotFound(_("Ticket not found."))
        try:
            return (self.ticket_queryset() if queryset is None else queryset).get(pk=pk)
        except Ticket.DoesNotExist:
            raise NotFound(_("Ticket not found.")) from None

    # -- helpers ---------------------------------------------------------------------

    def require_agent(self) -> None:
        if not is_agent(self.request.user):
            raise PermissionDenied(_("Only agents can do this."))

    def require(self, allowed: bool, permission: str) -> None:
        """403 unless ``allowed`` (a ``helpdesk.permissions`` answer); names what is missing."""
        if allowed:
            return
        self.require_agent()
        raise PermissionDenied(_("This needs the permission: %(perm)s.") % {"perm": permission})

    def channel(self) -> str:
        return Channel.API if is_key_request(self.request) else Channel.WEB

    def select(self) -> tuple[str, ...] | None:
        form = SelectForm(self.request.query_params)
        if not form.is_valid():
            raise ValidationFailed(form.errors)
        return form.cleaned_data["select"]

    def ticket_response(self, ticket: Ticket, status: int = http.HTTP_200_OK, reread: bool = True) -> Response:
        # Re-read: the services update some columns with UPDATE … SET, not on this instance.
        # (Not after ``ticket_create``: its instance holds every column and related row.)
        select = self.select()
        fresh = self.ticket_queryset(select).get(pk=ticket.pk) if reread else ticket
        return set_validators(Response(ticket_data(fresh, fields=select), status=status), fresh)

    def requester(self, data: dict[str, Any], client: Any) -> Any:
        """The ``requester`` of the body as a user: an email finds the person or creates
        them as a contact of ``client`` (``services.requester_for_email``)."""
        requester = data.get("requester")
        if isinstance(requester, RequesterRef):
            requester, _client = services.requester_for_email(email=str(requester), client=client, create_client=False)
        return requester

    def validated(self, serializer_class: Any, **kwargs: Any) -> dict[str, Any]:
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context(), **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    # -- the ticket --------------------------------------------------------------------

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        select = self.select()
        tickets = self.ticket_queryset(select)
        queryset = self.filter_queryset(tickets)
        if pages_by_id(queryset):  # a broad search (helpdesk.search.pages_by_id)
            page = rows_by_id(tickets, self.paginate_queryset(queryset.values_list("pk", flat=True)))
        else:
            page = self.paginate_queryset(queryset)
        return self.get_paginated_response([ticket_data(t, fields=select) for t in page])

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        select = self.select()
        ticket = self.get_object()
        if not_modified(request, ticket):
            return set_validators(Response(status=http.HTTP_304_NOT_MODIFIED), ticket)
        return set_validators(Response(ticket_data(ticket, fields=select)), ticket)

    @transaction.atomic  # the ticket, its CC and its files: all or nothing
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = request.user
        contact_client = None
        if not is_agent(user):
            contact_client = user.helpdesk_contact.client
        else:
            self.require(perms.can_add_ticket(user), "helpdesk.add_ticket")
        data = self.validated(TicketCreateSerializer, contact_client=contact_client)
        optional = {
            key: data[key] for key in ("status", "metadata", "type", "severity", "product", "time_spent") if key in data
        }
        files = self.incoming_files(data)
        try:
            # One transaction (this view's): a requester created for the email is undone if
            # the ticket is refused, since the error leaves the view's atomic block. No
            # savepoint of its own: nothing here catches an error and goes on.
            with transaction.atomic(savepoint=False):
                requester = user if contact_client is not None else self.requester(data, data["ticket_clientid"])
                ticket = services.ticket_create(
                    subject=data["ticket_subject"],
                    message=data["ticket_message"],
                    department=data["ticket_categoryid"],
                    client=data["ticket_clientid"],
                    project=data.get("ticket_projectid"),
                    priority=data["ticket_priority"],
                    creator=user,
                    requester=requester,
                    channel=self.channel(),
                    tags=data.get("tags") or (),
                    assignees=data.get("assignee_ids") or (),
                    custom_fields=data.get("custom_fields") or {},
                    silent=True,
                    **optional,
                )
                if data.get("ticket_cc"):
                    services.ticket_set_cc(ticket=ticket, cc=data["ticket_cc"], by=user)
                if files:
                    attachments.attachments_add(ticket=ticket, files=files, by=user)
        except DjangoValidationError as exc:
            raise self.validation_error(exc, TICKET_FIELD_NAMES) from None
        # The new instance holds every column and related row, unless files or CCs came after it.
        if not files:
            ticket.message_attachments = []  # a new ticket without files has none: no query
        response = self.ticket_response(ticket, status=http.HTTP_201_CREATED,
                                        reread=bool(files or data.get("ticket_cc")))
        response["Location"] = request.build_absolute_uri(f"{request.path.rstrip('/')}/{ticket.pk}")
        return response

    @transaction.atomic  # the fields and the CC list: all or nothing
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        ticket = self.get_object()
        self.require(perms.can_change_ticket(request.user, ticket), "helpdesk.change_ticket")
        serializer = TicketUpdateSerializer(
            ticket, data=request.data, partial=True, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        names = {
            "ticket_categoryid": "department",
            "ticket_projectid": "project",
            "ticket_subject": "subject",
            "ticket_message": "message",
            "ticket_priority": "priority",
        }
        changes = {names[key]: value for key, value in data.items() if key in names}
        for key in ("metadata", "type", "severity", "product", "time_spent"):
            if key in data:
                changes[key] = data[key]
        if data.get("custom_fields"):
            changes["custom_fields"] = data["custom_fields"]
        try:
            with unchanged(request, ticket), transaction.atomic():
                if "requester" in data:
                    changes["requester"] = self.requester(data, ticket.client)
                if changes:
                    services.ticket_update(ticket=ticket, by=request.user, silent=True, **changes)
                if "assignee_ids" in data:
                    services.ticket_set_assignees(ticket=ticket, assignees=data["assignee_ids"], by=request.user)
                if "ticket_cc" in data:
                    services.ticket_set_cc(ticket=ticket, cc=data["ticket_cc"], by=request.user)
        except DjangoValidationError as exc:
            raise from_django(exc, TICKET_FIELD_NAMES) from None
        return self.ticket_response(ticket)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        ticket = self.get_object()
        if not can_delete_ticket(request.user, ticket):
            raise PermissionDenied(_("Deleting tickets needs the helpdesk.delete_ticket permission."))
        with unchanged(request, ticket):
            services.ticket_delete(ticket=ticket, by=request.user)
        return Response(status=http.HTTP_204_NO_CONTENT)

    # -- status, archive, tags ---------------------------------------------------------

    @extend_schema(
        summary="Change the status (agents)", request=TicketStatusWriteSerializer, responses=TicketSerializer,
        description="Records the change in the history; entering a closed status sets `dates.closed`, leaving it "
        "clears it.",
    )
    def set_status(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        ticket = self.get_object()
        self.require(perms.can_change_ticket(request.user, ticket), "helpdesk.change_ticket")
        data = self.validated(TicketStatusWriteSerializer)
        with unchanged(request, ticket):
            services.ticket_change_status(ticket=ticket, status=data["status"], by=request.user, silent=True)
        return self.ticket_response(ticket)

    @extend_schema(summary="Archive (agents)", request=None, responses=TicketSerializer)
    def archive(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        ticket = self.get_object()
        self.require(perms.can_archive_ticket(request.user, ticket), "helpdesk.archive_ticket")
        self.validated(EmptySerializer)
        with unchanged(request, ticket):
            services.ticket_archive(ticket=ticket, by=request.user)
        return self.ticket_response(ticket)

    @extend_schema(
        summary="Merge into another ticket (agents)", request=TicketMergeWriteSerializer, responses=TicketSerializer,
        description="Moves this duplicate's conversation and tags to `target`, closes it with a link "
        "(`merged_into` in the admin, a note on both tickets) and returns the target. Never notifies anyone.",
    )
    def merge(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        source = self.get_object()
        self.require_agent()
        data = self.validated(TicketMergeWriteSerializer)
        try:
            target = self.ticket_queryset().get(pk=data["target"])
        except Ticket.DoesNotExist:
            raise ValidationFailed({"target": [_("Ticket not found.")]}) from None
        try:
            services.ticket_merge(source=source, target=target, by=request.user, silent=True)
        except DjangoValidationError as exc:
            raise from_django(exc, TICKET_FIELD_NAMES) from None
        return self.ticket_response(target)

    @extend_schema(summary="Restore from the archive (agents)", request=None, responses=TicketSerializer)
    def restore(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        ticket = self.get_object()
        self.require(perms.can_archive_ticket(request.user, ticket), "helpdesk.archive_ticket")
        self.validated(EmptySerializer)
        with unchanged(request, ticket):
            services.ticket_restore(ticket=ticket, by=request.user)
        return self.ticket_response(ticket)

    @extend_schema(
        summary="Replace the tags (agents)", request=TicketTagsWriteSerializer, responses=TicketSerializer,
        description="The full set: unknown tags are created, an empty list (or `tags=` in a form) clears.",
    )
    def set_tags(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        ticket = self.get_object()
        self.require(perms.can_change_ticket(request.user, ticket), "helpdesk.change_ticket")
        data = self.validated(TicketTagsWriteSerializer)
        try:
            with unchanged(request, ticket):
                services.ticket_set_tags(ticket=ticket, tags=data["tags"], by=request.user)
        except DjangoValidationError as exc:
            raise from_django(exc, TICKET_FIELD_NAMES) from None
        return self.ticket_response(ticket)

    # -- conversation and history -----------------------------------------------------

    @extend_schema(
        methods=["GET"], summary="The conversation", description="Oldest first. Contacts never see internal notes.",
        request=None, responses=ReplySerializer(many=True), filters=False,
    )
    @extend_schema(
        methods=["POST"], summary="Post a reply or note",
        description="Updates the ticket's `last_updated` and `last_reply` (and `first_response` on the first "
        "agent reply). Sends no email. Contacts may post replies only.",
        request=ReplyWriteSerializer, responses={201: ReplySerializer},
    )
    def replies(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if request.method == "POST":
            return self._post_reply(request)
        ticket = self.get_object()
        page = self.paginate_queryset(selectors.reply_list(user=request.user, ticket=ticket))
        return self.get_paginated_response([reply_data(r) for r in page])

    @transaction.atomic  # the reply and its files: all or nothing
    def _post_reply(self, request: Request) -> Response:
        # Read and locked in one statement, inside the transaction: the reply is dated
        # under the ticket's lock (``reply_post(locked=True)``). The ticket's row alone:
        # the answer is the reply, and a join would make PostgreSQL, re-checking the row
        # after waiting for a concurrent reply, find its changed status no longer joins
        # the status row it read first (no row: a wrong 404).
        ticket = self.get_object(self.ticket_queryset(select=()).select_related(None).select_for_update())
        data = self.validated(ReplyWriteSerializer)
        user = request.user
        if data["ticketreply_type"] == ReplyType.NOTE:
            # A contact's note stays the service's 422 ("only agents"); an agent lacking
            # the permission is refused here.
            if is_agent(user):
                self.require(perms.can_add_note(user, ticket), "helpdesk.change_ticket and helpdesk.add_note")
        else:
            self.require(perms.can_add_reply(user, ticket), "helpdesk.change_ticket and helpdesk.add_reply")
        files = self.incoming_files(data)
        try:
            with unchanged(request, ticket):
                reply = services.reply_post(
                    ticket=ticket,
                    author=request.user,
                    text=data["ticketreply_text"],
                    type=data["ticketreply_type"],
                    silent=True,
                    locked=True,
                )
                if files:
                    attachments.attachments_add(ticket=ticket, reply=reply, files=files, by=request.user)
        except DjangoValidationError as exc:
            raise self.validation_error(exc, REPLY_FIELD_NAMES) from None
        if not files:  # a new reply without files has none: no query to say so
            reply._prefetched_objects_cache = {"attachments": Attachment.objects.none()}
        return Response(reply_data(reply), status=http.HTTP_201_CREATED)

    # -- attachments -------------------------------------------------------------------

    def incoming_files(self, data: dict[str, Any]) -> list[attachments.IncomingFile]:
        """The uploaded ``files``, checked against the limits before anything is written."""
        files = [attachments.IncomingFile.from_upload(f) for f in data.get("files") or ()]
        if files:
            try:
                attachments.clean_files(files)
            except DjangoValidationError as exc:
                raise self.validation_error(exc, {}) from None
        return files

    @staticmethod
    def validation_error(exc: DjangoValidationError, names: dict[str, str]) -> Exception:
        """A 413 for a file over the size limit, else the usual 422."""
        message = attachments.too_large_message(exc)
        if message is not None:
            return RequestTooLarge(message)
        return from_django(exc, names)

    @extend_schema(
        summary="Delete a reply (agents)",
        parameters=[OpenApiParameter("reply_id", int, OpenApiParameter.PATH)],
        responses={204: OpenApiResponse(description="Deleted.")},
    )
    def delete_reply(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        ticket = self.get_object()
        self.require(perms.can_delete_reply(request.user, ticket), "helpdesk.change_ticket and helpdesk.delete_reply")
        reply_id = parse_id(str(kwargs.get("reply_id", "")))
        reply = None
        if reply_id is not None:
            reply = selectors.reply_list(user=request.user, ticket=ticket).filter(pk=reply_id).first()
        if reply is None:
            raise NotFound(_("Reply not found on this ticket."))
        with unchanged(request, ticket):
            services.reply_delete(reply=reply, by=request.user)
        return Response(status=http.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Status history (agents)", description="Oldest first: `from`, `to`, `at`, `by`.",
        responses=HistorySerializer(many=True), filters=False,
    )
    def history(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        ticket = self.get_object()
        self.require(perms.can_view_history(request.user, ticket), "helpdesk.view_statuschange")
        page = self.paginate_queryset(selectors.status_history(ticket=ticket, user=request.user))
        return self.get_paginated_response([history_data(c) for c in page])

    def max_body_bytes(self, request: Any) -> int:
        if getattr(self, "action", None) == "bulk_upsert":
            return helpdesk_settings.UPSERT_MAX_BYTES
        if getattr(self, "action", None) in ("create", "replies") and request.content_type.startswith("multipart/"):
            # Room for the most files of the largest size next to the other fields; a
            # single file over its limit is refused by name (413) once parsed.
            files = helpdesk_settings.ATTACHMENT_MAX_COUNT * helpdesk_settings.ATTACHMENT_MAX_BYTES
            return super().max_body_bytes(request) + files
        return super().max_body_bytes(request)
