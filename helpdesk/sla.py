"""SLA rules: which policy a ticket gets, business-time arithmetic on a calendar, and a
ticket's SLA state ("due in 2 h", "breached 3 h ago", paused, met).

Pure functions over rows already loaded; the services (``ticket_create``,
``ticket_update``, ``ticket_change_status``) call ``ticket_sla_fields`` so the due times
stored on each ticket stay true, and the bulk writers (the sync, ``helpdesk.sla_refresh``)
apply the same rules to many tickets at once through ``Rules``. Nothing here writes.

The clock: a target of N minutes is N minutes of the policy's calendar's working time
(around the clock without a calendar), counted from the ticket's creation, plus the
business minutes the ticket spent waiting on the customer (``sla_paused_minutes``).
While the ticket waits (``sla_paused_at`` set) the clock stands still.
"""

from __future__ import annotations

import dataclasses
import datetime
import zoneinfo
from collections.abc import Callable
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .conf import helpdesk_settings

#: Business-time arithmetic never looks further than this many days ahead.
MAX_DAYS = 3 * 366


class Calendar:
    """Working time of a ``BusinessCalendar`` row (or around the clock for None)."""

    def __init__(self, row: Any = None) -> None:
        self.row = row
        if row is None:
            return
        self.tz = zoneinfo.ZoneInfo(row.time_zone)
        self.days = {int(d) for d in row.working_days}
        self.opens, self.closes = row.opens_at, row.closes_at
        self.holidays = {h.date for h in row.holidays.all()}

    def _windows(self, start: datetime.datetime):
        """Working intervals (aware datetimes) from the day of ``start`` on."""
        local = start.astimezone(self.tz)
        day = local.date()
        for _i in range(MAX_DAYS):
            if day.isoweekday() in self.days and day not in self.holidays:
                begin = datetime.datetime.combine(day, self.opens, self.tz)
                end = datetime.datetime.combine(day, self.closes, self.tz)
                if end > start:
                    yield max(begin, start), end
            day += datetime.timedelta(days=1)

    def add(self, start: datetime.datetime, minutes: int) -> datetime.datetime | None:
        """The moment ``minutes`` of working time after ``start`` (None past MAX_DAYS)."""
        if self.row is None:
            return start + datetime.timedelta(minutes=minutes)
        left = datetime.timedelta(minutes=minutes)
        for begin, end in self._windows(start):
            if end - begin >= left:
                return begin + left
            left -= end - begin
        return None

    def minutes_between(self, start: datetime.datetime, end: datetime.datetime) -> int:
        """Whole working minutes from ``start`` to ``end``."""
        if end <= start:
            return 0
        if self.row is None:
            return int((end - start).total_seconds() // 60)
        total = datetime.timedelta()
        for begin, stop in self._windows(start):
            if begin >= end:
                break
            total += min(stop, end) - begin
        return int(total.total_seconds() // 60)


def _specificity(policy: Any) -> int:
    return (4 if policy.client_id else 0) + (2 if policy.department_id else 0) + (1 if policy.priority else 0)


def _matches(policy: Any, ticket: Any) -> bool:
    return ((policy.priority is None or policy.priority == ticket.priority)
            and (policy.department_id is None or policy.department_id == ticket.department_id)
            and (policy.client_id is None or policy.client_id == ticket.client_id))


def best_policy(policies: Any, ticket: Any) -> Any:
    """The most specific of ``policies`` (active ones, in id order) that matches ``ticket``:
    one naming its client beats one naming its department, which beats one for its priority
    alone; among equals the oldest wins."""
    best, best_score = None, -1
    for policy in policies:
        if _matches(policy, ticket):
            score = _specificity(policy)
            if score > best_score:
                best, best_score = policy, score
    return best


def policy_for(ticket: Any) -> Any:
    """The most specific active policy matching the ticket: client, then department, then priority."""
    from . import refcache
    from .models import SLAPolicy

    if not refcache.get("sla_policies"):
        return None  # no active policy at all (cached): nothing to look for
    candidates = SLAPolicy.objects.filter(
        Q(priority__isnull=True) | Q(priority=ticket.priority),
        Q(department__isnull=True) | Q(department_id=ticket.department_id),
        Q(client__isnull=True) | Q(client_id=ticket.client_id),
        is_active=True,
    ).select_related("calendar")
    return best_policy(candidates.order_by("id"), ticket)


def is_waiting(status_id: int) -> bool:
    return status_id in set(helpdesk_settings.WAITING_ON_CUSTOMER_STATUS_IDS)


#: The ticket columns ``ticket_sla_fields`` reads: a locked re-read of the row loads them
#: all at once (``only(*TICKET_FIELDS)``) instead of one deferred query each.
TICKET_FIELDS = ("status_id", "closed_at", "priority", "department_id", "client_id", "created_at",
                 "sla_paused_at", "sla_paused_minutes")


def settle_pause(calendar: Calendar, paused_at: datetime.datetime | None, paused: int, *, waiting: bool,
                 at: datetime.datetime) -> tuple[datetime.datetime | None, int]:
    """The pause after the ticket starts (or stops) waiting on the customer at ``at``:
    (paused since, business minutes paused before that)."""
    if paused_at is not None and not waiting:
        return None, paused + calendar.minutes_between(paused_at, at)
    if paused_at is None and waiting:
        return at, paused
    return paused_at, paused


def sla_fields(ticket: Any, policy: Any, calendar: Calendar, *, at: datetime.datetime, waiting: bool,
               transitions: Any = ()) -> dict[str, Any]:
    """The SLA columns of ``ticket`` under ``policy``: first each of ``transitions``
    ((waiting, at) pairs, oldest first: an imported status history) settles the pause,
    then the ticket's state now (``waiting`` at ``at``), then both due times are counted
    from the creation date."""
    paused_at, paused = ticket.sla_paused_at, ticket.sla_paused_minutes or 0
    for was_waiting, when in transitions:
        paused_at, paused = settle_pause(calendar, paused_at, paused, waiting=was_waiting, at=when)
    paused_at, paused = settle_pause(calendar, paused_at, paused, waiting=waiting, at=at)
    fields: dict[str, Any] = {
        "sla_policy": policy, "sla_paused_at": paused_at, "sla_paused_minutes": paused,
        "first_response_due_at": None, "resolution_due_at": None,
    }
    if policy is None:
        return fields
    if policy.first_response_minutes is not None:
        fields["first_response_due_at"] = calendar.add(ticket.created_at, policy.first_response_minutes + paused)
    if policy.resolution_minutes is not None:
        fields["resolution_due_at"] = calendar.add(ticket.created_at, policy.resolution_minutes + paused)
    return fields


def ticket_sla_fields(ticket: Any, *, at: datetime.datetime, status_id: int | None = None,
                      closed: bool | None = None) -> dict[str, Any]:
    """The SLA columns ``ticket`` should have at ``at`` (for ``status_id`` if it is changing).

    Picks the policy again (priority, department or client may have changed), settles a
    pause that ends or starts now, and computes both due times from the creation date.
    """
    status_id = ticket.status_id if status_id is None else status_id
    closed = ticket.closed_at is not None if closed is None else closed
    policy = policy_for(ticket)
    calendar = Calendar(policy.calendar if policy else None)
    return sla_fields(ticket, policy, calendar, at=at, waiting=is_waiting(status_id) and not closed)


#: The ticket columns the SLA rules keep.
FIELDS = ("sla_policy", "first_response_due_at", "resolution_due_at", "sla_paused_at", "sla_paused_minutes")


class Rules:
    """Every active policy with its calendar, loaded once, for working out the SLA of many
    tickets in bulk (the sync, the refresh): the same rules as ``ticket_sla_fields``, no
    query per ticket.

    ``Rules.load()`` costs no query when no policy is active (``refcache``), else two (the
    policies with their calendars, the holidays), whatever the number of tickets.
    """

    def __init__(self, policies: Any = ()) -> None:
        self.policies = list(policies)
        self._calendars: dict[int | None, Calendar] = {None: Calendar(None)}
        self.waiting_ids = set(helpdesk_settings.WAITING_ON_CUSTOMER_STATUS_IDS)

    @classmethod
    def load(cls) -> Rules:
        from . import refcache
        from .models import SLAPolicy

        if not refcache.get("sla_policies"):
            return cls()
        return cls(SLAPolicy.objects.filter(is_active=True).select_related("calendar")
                   .prefetch_related("calendar__holidays").order_by("id"))

    def calendar(self, policy: Any) -> Calendar:
        key = policy.calendar_id if policy is not None else None
        calendar = self._calendars.get(key)
        if calendar is None:
            calendar = self._calendars[key] = Calendar(policy.calendar)
        return calendar

    def is_waiting(self, status: Any) -> bool:
        """Whether a ticket in ``status`` (a ``TicketStatus``) waits on the customer."""
        return status.pk in self.waiting_ids and not status.is_closed

    def fields(self, ticket: Any, *, at: datetime.datetime, transitions: Any = ()) -> dict[str, Any]:
        """The SLA columns ``ticket`` (as it is now, status and dates included) should have."""
        policy = best_policy(self.policies, ticket) if self.policies else None
        waiting = ticket.status_id in self.waiting_ids and ticket.closed_at is None
        return sla_fields(ticket, policy, self.calendar(policy), at=at, waiting=waiting, transitions=transitions)

    def apply(self, ticket: Any, *, at: datetime.datetime, transitions: Any = ()) -> None:
        """Set the SLA columns on ``ticket`` (ids, not objects: cheap on thousands of rows)."""
        fields = self.fields(ticket, at=at, transitions=transitions)
        policy = fields.pop("sla_policy")
        ticket.sla_policy_id = policy.pk if policy is not None else None
        for name, value in fields.items():
            setattr(ticket, name, value)


def breaching_q(now: datetime.datetime) -> Q:
    """Open tickets whose clock runs and whose next target has passed."""
    running = Q(closed_at__isnull=True, sla_paused_at__isnull=True)
    return running & (
        Q(first_response_at__isnull=True, first_response_due_at__lt=now) | Q(resolution_due_at__lt=now)
    )


def due_soon_q(now: datetime.datetime, within: datetime.timedelta) -> Q:
    """Open tickets whose clock runs and whose next target falls in the next ``within``."""
    running = Q(closed_at__isnull=True, sla_paused_at__isnull=True)
    soon = now + within
    return running & (
        Q(first_response_at__isnull=True, first_response_due_at__gte=now, first_response_due_at__lt=soon)
        | (Q(first_response_at__isnull=False) | Q(first_response_due_at__isnull=True))
        & Q(resolution_due_at__gte=now, resolution_due_at__lt=soon)
    )


@dataclasses.dataclass(frozen=True)
class SLAState:
    """What an agent needs to know about a ticket's SLA.

    ``text`` (the admin's translated label) is worked out when read: the API sends only
    the state, target and due time, and translating two labels for each of a page's 25
    tickets cost about as much as the rest of the ticket's serialization."""

    state: str  # "none", "running", "breached", "paused", "met", "missed"
    target: str  # "first_response", "resolution" or ""
    due_at: datetime.datetime | None
    label: Callable[[], str] = dataclasses.field(default=lambda: "", repr=False, compare=False)

    @property
    def text(self) -> str:
        return self.label()

    def as_dict(self) -> dict[str, Any]:
        return {"state": self.state, "target": self.target or None, "due_at": self.due_at}


def _span(delta: datetime.timedelta) -> str:
    minutes = int(abs(delta.total_seconds()) // 60)
    if minutes < 60:
        return ngettext("%(n)d min", "%(n)d min", minutes) % {"n": minutes}
    hours = minutes // 60
    if hours < 48:
        return ngettext("%(n)d h", "%(n)d h", hours) % {"n": hours}
    return ngettext("%(n)d day", "%(n)d days", hours // 24) % {"n": hours // 24}


def sla_state(ticket: Any, *, now: datetime.datetime | None = None) -> SLAState:
    """The ticket's next target and where it stands, from the stored due times."""
    now = now or timezone.now()
    first_due, resolution_due = ticket.first_response_due_at, ticket.resolution_due_at
    if first_due is None and resolution_due is None:
        return SLAState("none", "", None)
    if ticket.closed_at is not None:
        missed = (resolution_due is not None and ticket.closed_at > resolution_due) or (
            first_due is not None and (ticket.first_response_at or ticket.closed_at) > first_due)
        if missed:
            return SLAState("missed", "", None, lambda: _("SLA missed"))
        return SLAState("met", "", None, lambda: _("SLA met"))
    if ticket.first_response_at is None and first_due is not None:
        target, due = "first_response", first_due
    elif resolution_due is not None:
        target, due = "resolution", resolution_due
    else:
        in_time = ticket.first_response_at <= first_due
        return SLAState("met", "first_response", None,
                        lambda: _("responded in time") if in_time else _("response late"))
    if ticket.sla_paused_at is not None:
        return SLAState("paused", target, None, lambda: _("paused (waiting on customer)"))
    if due <= now:
        return SLAState("breached", target, due, lambda: _("breached %(t)s ago") % {"t": _span(now - due)})
    return SLAState("running", target, due, lambda: _("due in %(t)s") % {"t": _span(due - now)})
