"""What maps to what between Zammad and the helpdesk: states, priorities, groups, article
ids and dates. The tables come from the ``HELPDESK`` settings (``ZAMMAD_*``, see
``helpdesk.conf``); this module only reads them, it decides nothing about tickets.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.utils import timezone

from ...conf import helpdesk_settings
from ...models import Department, Priority, Ticket, TicketStatus

#: Zammad's state types and their ids (``ticket_state_types``).
STATE_TYPE_IDS = {
    "new": 1, "open": 2, "pending reminder": 3, "pending action": 4, "closed": 5, "merged": 6, "removed": 7,
}
#: Zammad's article senders, by id.
SENDERS = {1: "Agent", 2: "Customer", 3: "System"}
SENDER_IDS = {name: sid for sid, name in SENDERS.items()}
#: Zammad's article types we accept (none of them sends anything), by id.
ARTICLE_TYPES = {"email": 1, "phone": 5, "note": 10, "web": 11}
WRITABLE_ARTICLE_TYPES = frozenset({"note", "web", "phone"})
#: Zammad role ids of its default roles.
ROLE_IDS = {"Admin": 1, "Agent": 2, "Customer": 3}
MAX_ID = 2**63 - 1


def parse_id(text: object) -> int | None:
    """An id from a URL or a string: ASCII digits within the id column's range, else None
    (``"²".isdigit()`` is true and 5000 digits overflow ``int()``: neither reaches it)."""
    if isinstance(text, str):
        text = text.strip()
        if text.isascii() and text.isdigit() and len(text) <= 19:
            number = int(text)
            if 0 < number <= MAX_ID:
                return number
    return None


def date(value: datetime.datetime | None) -> str | None:
    """Zammad's timestamps: UTC, milliseconds, ``Z`` (``2021-11-03T11:51:13.790Z``)."""
    if value is None:
        return None
    if timezone.is_aware(value):
        value = value.astimezone(datetime.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


# -- states ---------------------------------------------------------------------------


def states() -> dict[int, dict[str, Any]]:
    return helpdesk_settings.ZAMMAD_STATES


def by_name(table: Mapping[int, Mapping[str, Any]], name: str) -> int | None:
    """The id of the entry of ``table`` (states, priorities) named ``name``, case-insensitive."""
    wanted = name.strip().lower()
    for entry_id, entry in table.items():
        if entry["name"].strip().lower() == wanted:
            return entry_id
    return None


def state_by_name(name: str) -> int | None:
    return by_name(states(), name)


def status_for_state(state_id: int) -> TicketStatus | None:
    """Our status for a Zammad state id; None when the table lacks it or the status is gone."""
    state = states().get(state_id)
    if state is None:
        return None
    return TicketStatus.objects.filter(pk=state["status_id"]).first()


#: The ticket's ``metadata`` key holding the Zammad state a client last set.
STATE_KEY = "zammad_state_id"
#: The ticket's ``metadata`` key holding Zammad's ``note`` field.
NOTE_KEY = "zammad_note"


def state_for_ticket(ticket: Ticket) -> int:
    """The Zammad state id a ticket shows: the one a client last set while the ticket is
    still in that state's status (two states may share a status: ``pending reminder`` and
    ``pending close``), else ``ZAMMAD_NEW_STATE_ID`` for an untouched new ticket, else
    ``ZAMMAD_STATE_FOR_STATUS``."""
    chosen = (ticket.metadata or {}).get(STATE_KEY)
    if isinstance(chosen, int) and states().get(chosen, {}).get("status_id") == ticket.status_id:
        return chosen
    new = helpdesk_settings.ZAMMAD_NEW_STATE_ID
    if (
        new is not None
        and ticket.status_id == helpdesk_settings.DEFAULT_STATUS_ID
        and ticket.first_response_at is None
        and (ticket.status_changed_at is None or ticket.status_changed_at <= ticket.created_at)
    ):
        return new
    table = helpdesk_settings.ZAMMAD_STATE_FOR_STATUS
    if ticket.status_id in table:
        return table[ticket.status_id]
    closed = [sid for sid, s in states().items() if s["type"] == "closed"]
    opened = [sid for sid, s in states().items() if s["type"] == "open"]
    if ticket.status.is_closed:
        return closed[0] if closed else 4
    return opened[0] if opened else 2


def state_name(state_id: int) -> str:
    state = states().get(state_id)
    return state["name"] if state else str(state_id)


# -- priorities -------------------------------------------------------------------------


def priorities() -> dict[int, dict[str, Any]]:
    return helpdesk_settings.ZAMMAD_PRIORITIES


def priority_by_name(name: str) -> int | None:
    return by_name(priorities(), name)


def our_priority(priority_id: int) -> Priority | None:
    entry = priorities().get(priority_id)
    return Priority.from_slug(entry["priority"]) if entry else None


def priority_for_ticket(ticket: Ticket) -> int:
    slug = Priority(ticket.priority).slug
    return helpdesk_settings.ZAMMAD_PRIORITY_FOR_PRIORITY.get(slug, 2)


def priority_name(priority_id: int) -> str:
    entry = priorities().get(priority_id)
    return entry["name"] if entry else str(priority_id)


# -- groups -----------------------------------------------------------------------------


def department_for_group(name: str) -> Department | None:
    """The department a Zammad group name means: a ``ZAMMAD_GROUPS`` alias (None there is
    the default department), else the department of that name (case-insensitive)."""
    name = name.strip()
    aliases = {k.strip().lower(): v for k, v in helpdesk_settings.ZAMMAD_GROUPS.items()}
    exact = Department.objects.filter(name__iexact=name).first()
    if name.lower() in aliases:
        target = aliases[name.lower()]
        if target is None:
            return Department.objects.filter(is_default=True).first() or exact
        return Department.objects.filter(name__iexact=target.strip()).first()
    return exact


# -- articles ---------------------------------------------------------------------------
# A Zammad ticket's first article is our ticket's own message; the others are replies and
# notes. Both share one id space: an opening message has its ticket's id, a reply
# ``REPLY_OFFSET + its id``. So every article id names one row, and within a ticket the
# opening message sorts first, as clients that sort ``article_ids`` expect.

#: Added to a reply's id to make its article id (tickets' ids stay below it).
REPLY_OFFSET = 10**12


def opening_article_id(ticket_id: int) -> int:
    return ticket_id


def reply_article_id(reply_id: int) -> int:
    return REPLY_OFFSET + reply_id


def parse_article_id(article_id: int) -> tuple[str, int]:
    """``("ticket", id)`` for an opening message, ``("reply", id)`` for a reply."""
    if article_id > REPLY_OFFSET:
        return "reply", article_id - REPLY_OFFSET
    return "ticket", article_id
