"""Reads whose result depends on who asks; shared by the API and the admin.

Every selector takes the user and scopes by role (see ``permissions``): an agent sees
every ticket, a client contact only their client's tickets and never internal notes,
anyone else nothing.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from .models import Client, Reply, ReplyType, StatusChange, Tag, Ticket, TicketStatus
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
    """The clients (organizations) ``user`` may see: agents all, a contact their own."""
    qs = Client.objects.prefetch_related("domains").order_by("pk")
    if is_agent(user):
        return qs
    client_id = contact_client_id(user)
    if client_id is None:
        return qs.none()
    return qs.filter(pk=client_id)
