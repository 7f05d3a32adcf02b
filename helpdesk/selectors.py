"""Reads whose result depends on who asks; shared by the API and the admin.

Every selector takes the user and scopes by role (see ``permissions``): an agent sees
every ticket of their departments (every department unless limited), internal notes
with ``view_note``; a client contact only their client's tickets and never internal
notes; anyone else (staff without ticket permissions included) nothing.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL

from .limits import MAX_ID
from .models import Attachment, CannedReply, Client, Department, Reply, ReplyType, StatusChange, Tag, Ticket, TicketStatus
from .permissions import (
    agent_department_ids,
    can_view_clients,
    can_view_history,
    can_view_notes,
    contact_client_id,
    is_agent,
)

#: The largest id a BigAutoField holds.


def ticket_list(*, user: Any) -> QuerySet[Ticket]:
    """The tickets ``user`` may see, with what a list row needs fetched in bulk."""
    qs = Ticket.objects.select_related("status", "department", "client", "requester").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.only("id", "name")),
        "assignees",
    )
    return qs.filter(ticket_scope(user))


def ticket_scope(user: Any, prefix: str = "") -> Q:
    """The condition on tickets (``prefix`` for a relation, e.g. ``"ticket__"``) that
    ``user`` may see; for querysets the selectors do not build (reports, dialects)."""
    if is_agent(user):
        ids = agent_department_ids(user)
        return Q() if ids is None else Q(**{f"{prefix}department_id__in": sorted(ids)})
    client_id = contact_client_id(user)
    if client_id is None:
        return Q(pk__in=[])
    return Q(**{f"{prefix}client_id": client_id})


def ticket_get(*, user: Any, pk: Any) -> Ticket:
    """One ticket ``user`` may see; raises ``Ticket.DoesNotExist`` otherwise (never a hint it exists)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Ticket.DoesNotExist from None
    # Out of the id column's range (a bigint): the database would raise, not find nothing.
    if not 0 < pk <= MAX_ID:
        raise Ticket.DoesNotExist
    return ticket_list(user=user).get(pk=pk)


def reply_list(*, user: Any, ticket: Ticket) -> QuerySet[Reply]:
    """The conversation, oldest first; internal notes only for agents with ``view_note``."""
    qs = (
        Reply.objects.filter(ticket=ticket).select_related("author").prefetch_related("attachments")
        .order_by("created_at", "id")
    )
    # Scoped like ``ticket_list`` too, so a caller that forgot to check the ticket
    # still leaks nothing to another client's contact, another department or a stranger.
    qs = qs.filter(ticket_scope(user, "ticket__"))
    if not can_view_notes(user):
        qs = qs.filter(type=ReplyType.REPLY)
    return qs


def reply_scope(user: Any) -> Q:
    """The condition on replies ``user`` may read (the admin's reply list)."""
    q = ticket_scope(user, "ticket__")
    if not can_view_notes(user):
        q &= Q(type=ReplyType.REPLY)
    return q


def status_history(*, ticket: Ticket, user: Any = None) -> QuerySet[StatusChange]:
    """A ticket's status changes, oldest first; with ``user``, only if they may see the
    history of that ticket (``permissions.can_view_history``), else nothing."""
    qs = (
        StatusChange.objects.filter(ticket=ticket)
        .select_related("from_status", "to_status", "changed_by")
        .order_by("changed_at", "id")
    )
    if user is not None and not can_view_history(user, ticket):
        return qs.none()
    return qs


def department_list(*, user: Any) -> QuerySet[Department]:
    """The departments an agent may work (all unless limited); every one for anyone else,
    since contacts open tickets in any department."""
    qs = Department.objects.order_by("name", "id")
    ids = agent_department_ids(user) if is_agent(user) else None
    return qs if ids is None else qs.filter(pk__in=sorted(ids))


def tag_counts(*, user: Any) -> QuerySet[Tag]:
    """Tags with ``count``, the number of tickets ``user`` may see that carry each; an
    agent sees every tag (those of no visible ticket with 0), a contact only their client's."""
    scope = ticket_scope(user, "tickets__")
    if not is_agent(user):
        # Filter, then count: the count runs over the same (filtered) join.
        qs = Tag.objects.filter(scope).annotate(count=Count("tickets"))
    elif scope:
        qs = Tag.objects.annotate(count=Count("tickets", filter=scope))
    else:
        qs = Tag.objects.annotate(count=Count("tickets"))
    return qs.order_by("name", "id")


def status_list() -> QuerySet[TicketStatus]:
    return TicketStatus.objects.all()


def user_list(*, user: Any) -> QuerySet[Any]:
    """The people ``user`` may look up: agents every user, a contact themselves and their
    client's other contacts, anyone else only themselves."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    qs = User._default_manager.select_related("helpdesk_contact__client").order_by("pk")
    if is_agent(user):
        return qs
    if user is None or not user.is_authenticated or not user.is_active:
        return qs.none()
    client_id = contact_client_id(user)
    if client_id is None:
        return qs.filter(pk=user.pk)
    # A contact sees the other contacts of their client (Zammad's "same organization").
    return qs.filter(Q(pk=user.pk) | Q(helpdesk_contact__client_id=client_id))


def client_list(*, user: Any) -> QuerySet[Client]:
    """The clients (organizations) ``user`` may see: agents with ``view_client`` all, a
    contact their own, anyone else none."""
    qs = Client.objects.prefetch_related("domains").order_by("pk")
    if is_agent(user):
        return qs if can_view_clients(user) else qs.none()
    client_id = contact_client_id(user)
    if client_id is None:
        return qs.none()
    return qs.filter(pk=client_id)


def message_attachments_prefetch() -> Prefetch:
    """The files of a ticket's own message (not its replies'), as ``ticket.message_attachments``."""
    return Prefetch(
        "attachments", queryset=Attachment.objects.filter(reply__isnull=True), to_attr="message_attachments"
    )


def message_attachments_array() -> Any:
    """PostgreSQL: the files of a ticket's own message as an array of JSON objects, for
    ``annotate()`` (one round trip for a page instead of a prefetch query). The objects
    carry the fields of ``api.serializers.attachment_data``."""
    from django.contrib.postgres.expressions import ArraySubquery
    from django.db.models.functions import JSONObject

    files = Attachment.objects.filter(ticket_id=OuterRef("pk"), reply__isnull=True).order_by("created_at", "id")
    return ArraySubquery(files.values(json=JSONObject(
        id="id", filename="filename", content_type="content_type", size="size", inline="inline",
        created_at="created_at",
    )))


#: database alias -> {column name: the column as SQL}, compiled once: see ``ticket_array_columns``.
_TICKET_ARRAYS: dict[str, dict[str, RawSQL]] = {}


def ticket_array_columns(using: str) -> dict[str, RawSQL]:
    """PostgreSQL: the arrays a ticket row of the API carries, as ``annotate()`` values on a
    ticket queryset: ``tag_names``, ``assignee_id_list`` and ``message_attachment_rows``
    (:func:`message_attachments_array`).

    Their SQL is the same for every request (each refers to the outer ticket row only),
    yet building, resolving and compiling the three subqueries cost about an eighth of a
    list request's CPU. So they are compiled once per database and reused as ``RawSQL``
    with the original output field (the same converters run). They refer to the ticket
    table by its name, which is the alias of the base table of every ticket query that
    selects them (a queryset nested as a subquery selects only its ids).
    """
    columns = _TICKET_ARRAYS.get(using)
    if columns is None:
        from django.contrib.postgres.expressions import ArraySubquery

        expressions = {
            "message_attachment_rows": message_attachments_array(),
            "tag_names": ArraySubquery(
                Ticket.tags.through.objects.filter(ticket_id=OuterRef("pk")).values("tag__name")),
            "assignee_id_list": ArraySubquery(
                Ticket.assignees.through.objects.filter(ticket_id=OuterRef("pk")).values("user_id")),
        }
        query = Ticket.objects.using(using).annotate(**expressions).query
        compiler = query.get_compiler(using)
        columns = {}
        for name in expressions:
            resolved = query.annotations[name]
            sql, params = compiler.compile(resolved)
            columns[name] = RawSQL(sql, tuple(params), output_field=resolved.output_field)
        _TICKET_ARRAYS[using] = columns
    return columns


def attachment_get(*, user: Any, pk: Any) -> Attachment:
    """One attachment ``user`` may download: its ticket is one they see (``ticket_list``) and,
    on a reply, the reply is one they see (``reply_list``: never a note's file for a contact).
    Raises ``Attachment.DoesNotExist`` otherwise."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Attachment.DoesNotExist from None
    if not 0 < pk <= MAX_ID:
        raise Attachment.DoesNotExist
    attachment = Attachment.objects.select_related("ticket").get(pk=pk)
    if not ticket_list(user=user).filter(pk=attachment.ticket_id).exists():
        raise Attachment.DoesNotExist
    if attachment.reply_id is not None and not reply_list(user=user, ticket=attachment.ticket).filter(
        pk=attachment.reply_id
    ).exists():
        raise Attachment.DoesNotExist
    return attachment


def canned_reply_list(*, user: Any) -> QuerySet[CannedReply]:
    """The canned replies ``user`` may use: the shared ones and their own (agents only)."""
    if not is_agent(user):
        return CannedReply.objects.none()
    return CannedReply.objects.filter(Q(owner__isnull=True) | Q(owner_id=user.pk)).select_related("status")
