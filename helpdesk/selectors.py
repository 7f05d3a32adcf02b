"""Reads whose result depends on who asks; shared by the API and the admin.

Every selector takes the user and scopes by role (see ``permissions``): an agent sees
every ticket, a client contact only their client's tickets and never internal notes,
anyone else nothing.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from .models import CannedReply, Reply, ReplyType, StatusChange, Tag, Ticket, TicketStatus
from .permissions import contact_client_id, is_agent

#: The largest id a BigAutoField holds.
_MAX_ID = 2**63 - 1


def ticket_list(*, user: Any) -> QuerySet[Ticket]:
    """The tickets ``user`` may see, with what a list row needs fetched in bulk."""
    qs = Ticket.objects.select_related("status", "department", "client", "requester").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.only("id", "name")),
        "assignees",
    )
    if is_agent(user):
        return qs
    client_id = contact_client_id(user)
    if client_id is None:
        return qs.none()
    return qs.filter(client_id=client_id)


def ticket_get(*, user: Any, pk: Any) -> Ticket:
    """One ticket ``user`` may see; raises ``Ticket.DoesNotExist`` otherwise (never a hint it exists)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Ticket.DoesNotExist from None
    # Out of the id column's range (a bigint): the database would raise, not find nothing.
    if not 0 < pk <= _MAX_ID:
        raise Ticket.DoesNotExist
    return ticket_list(user=user).get(pk=pk)


def reply_list(*, user: Any, ticket: Ticket) -> QuerySet[Reply]:
    """The conversation, oldest first; internal notes only for agents."""
    qs = Reply.objects.filter(ticket=ticket).select_related("author").order_by("created_at", "id")
    if is_agent(user):
        return qs
    # Scoped like ``ticket_list`` too, so a caller that forgot to check the ticket
    # still leaks nothing to another client's contact or a stranger.
    client_id = contact_client_id(user)
    if client_id is None:
        return qs.none()
    return qs.filter(type=ReplyType.REPLY, ticket__client_id=client_id)


def status_history(*, ticket: Ticket) -> QuerySet[StatusChange]:
    """A ticket's status changes, oldest first."""
    return (
        StatusChange.objects.filter(ticket=ticket)
        .select_related("from_status", "to_status", "changed_by")
        .order_by("changed_at", "id")
    )


def status_list() -> QuerySet[TicketStatus]:
    return TicketStatus.objects.all()


def canned_reply_list(*, user: Any) -> QuerySet[CannedReply]:
    """The canned replies ``user`` may use: the shared ones and their own (agents only)."""
    if not is_agent(user):
        return CannedReply.objects.none()
    return CannedReply.objects.filter(Q(owner__isnull=True) | Q(owner_id=user.pk)).select_related("status")
