"""Aggregate figures about the helpdesk as a whole, for the admin's overview page.

Each figure is one query shaped to use the ticket indexes; ``overview()`` gathers them
and caches the result for ``OVERVIEW_CACHE_SECONDS``, so a busy overview never
re-aggregates a million tickets on every view.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Aggregate, Count, DurationField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from .conf import helpdesk_settings
from .models import ActiveState, Department, Priority, Ticket, TicketStatus
from .permissions import agent_department_ids, is_agent
from .selectors import ticket_scope

CACHE_KEY = "helpdesk:reports:overview:v2"


@dataclass
class Bucket:
    """One row of a breakdown: a label, a count, and what the admin links it to."""

    label: str
    count: int
    key: Any = None
    colour: str = ""


@dataclass
class Day:
    date: datetime.date
    created: int = 0
    closed: int = 0


@dataclass
class Overview:
    generated_at: datetime.datetime
    days: int
    open_total: int = 0
    unassigned: int = 0
    by_status: list[Bucket] = field(default_factory=list)
    by_department: list[Bucket] = field(default_factory=list)
    by_priority: list[Bucket] = field(default_factory=list)
    daily: list[Day] = field(default_factory=list)
    median_first_response: datetime.timedelta | None = None
    median_resolution: datetime.timedelta | None = None
    # SLA compliance over the period (None: no ticket had that target) and breaches now.
    first_response_compliance: float | None = None
    resolution_compliance: float | None = None
    sla_measured: int = 0
    breaching_now: int = 0
    # Open tickets per agent, busiest first; and open tickets at the end of each day.
    workload: list[Bucket] = field(default_factory=list)
    backlog: list[int] = field(default_factory=list)


class _Median(Aggregate):
    """PostgreSQL's ``percentile_cont(0.5)``: the median in one pass, intervals included."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


def open_tickets(open_statuses: list[TicketStatus] | None = None, scope: Q | None = None) -> QuerySet[Ticket]:
    """Active tickets in a status that does not count as closed.

    The status ids are spelled out (not joined) so PostgreSQL can read the
    (active_state, status) index instead of scanning every ticket.
    """
    if open_statuses is None:
        open_statuses = list(TicketStatus.objects.filter(is_closed=False))
    return Ticket.objects.filter(scope or Q(), active_state=ActiveState.ACTIVE,
                                 status_id__in=[s.pk for s in open_statuses])


def _unassigned_condition() -> Any:
    return ~Exists(Ticket.assignees.through.objects.filter(ticket_id=OuterRef("pk")))


def open_breakdown(scope: Q | None = None) -> tuple[list[Bucket], list[Bucket], list[Bucket], int, int]:
    """Open tickets by status, department and priority, their total and how many are unassigned.

    One grouped query (status x department x priority is small) instead of a scan per
    breakdown, and one count for the unassigned.
    """
    open_statuses = list(TicketStatus.objects.filter(is_closed=False))
    rows = (
        open_tickets(open_statuses, scope)
        .order_by()
        .values("status_id", "department_id", "priority")
        .annotate(n=Count("*"))
    )
    by_status: dict[int, int] = {}
    by_department: dict[int, int] = {}
    by_priority: dict[int, int] = {}
    total = 0
    for row in rows:
        by_status[row["status_id"]] = by_status.get(row["status_id"], 0) + row["n"]
        by_department[row["department_id"]] = by_department.get(row["department_id"], 0) + row["n"]
        by_priority[row["priority"]] = by_priority.get(row["priority"], 0) + row["n"]
        total += row["n"]
    # Apart from the grouping, so that one stays an index-only scan and this one may
    # become a hash anti-join.
    unassigned = open_tickets(open_statuses, scope).filter(_unassigned_condition()).order_by().count()

    statuses = [
        Bucket(label=s.title, count=by_status.get(s.pk, 0), key=s.pk, colour=s.colour) for s in open_statuses
    ]
    names = dict(Department.objects.filter(pk__in=by_department).values_list("pk", "name"))
    departments = sorted(
        (Bucket(label=names.get(pk, str(pk)), count=n, key=pk) for pk, n in by_department.items()),
        key=lambda b: (-b.count, b.label),
    )
    priorities = [
        Bucket(label=str(p.label), count=by_priority.get(p.value, 0), key=p.value)
        for p in sorted(Priority, key=lambda p: -p.value)
    ]
    return statuses, departments, priorities, total, unassigned


def daily_created_closed(
    *, days: int = 30, now: datetime.datetime | None = None, scope: Q | None = None
) -> list[Day]:
    """Tickets created and tickets closed on each of the last ``days`` days (today included).

    "Closed" counts tickets whose current closed date falls on that day, so a ticket
    closed and reopened is not counted.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    first = today - datetime.timedelta(days=days - 1)
    start = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
    result = {first + datetime.timedelta(days=i): Day(date=first + datetime.timedelta(days=i)) for i in range(days)}
    for column, attr in (("created_at", "created"), ("closed_at", "closed")):
        rows = (
            Ticket.objects.filter(scope or Q(), **{f"{column}__gte": start})
            .order_by()
            .annotate(day=TruncDate(column))
            .values("day")
            .annotate(n=Count("id"))
        )
        for row in rows:
            if row["day"] in result:
                setattr(result[row["day"]], attr, row["n"])
    return list(result.values())


def _median(qs: QuerySet[Ticket], start: str, end: str) -> datetime.timedelta | None:
    duration = ExpressionWrapper(F(end) - F(start), output_field=DurationField())
    if connection.vendor == "postgresql":
        return qs.order_by().aggregate(m=_Median(duration))["m"]
    # Elsewhere: count, then read the middle one or two rows in duration order.
    n = qs.count()
    if not n:
        return None
    middle = list(
        qs.annotate(d=duration).order_by("d").values_list("d", flat=True)[(n - 1) // 2 : n // 2 + 1]
    )
    return sum(middle, datetime.timedelta()) / len(middle)


def median_first_response(*, since: datetime.datetime, scope: Q | None = None) -> datetime.timedelta | None:
    """Median time from creation to the first agent reply, over tickets created since ``since``."""
    qs = Ticket.objects.filter(scope or Q(), created_at__gte=since, first_response_at__isnull=False)
    return _median(qs, "created_at", "first_response_at")


def median_resolution(*, since: datetime.datetime, scope: Q | None = None) -> datetime.timedelta | None:
    """Median time from creation to closing, over tickets closed since ``since``."""
    qs = Ticket.objects.filter(scope or Q(), closed_at__gte=since)
    return _median(qs, "created_at", "closed_at")


def sla_compliance(
    *, since: datetime.datetime, now: datetime.datetime, scope: Q | None = None,
) -> tuple[float | None, float | None, int, int]:
    """Share of targets met, in percent: first responses (tickets created since ``since``
    whose response was due by now or given) and resolutions (tickets closed since
    ``since``); how many targets were measured; and open tickets breaching now."""
    from .sla import breaching_q

    first = Ticket.objects.filter(scope or Q(), created_at__gte=since, first_response_due_at__isnull=False).filter(
        Q(first_response_at__isnull=False) | Q(first_response_due_at__lt=now)
    ).order_by().aggregate(
        n=Count("id"), met=Count("id", filter=Q(first_response_at__lte=F("first_response_due_at"))),
    )
    resolved = Ticket.objects.filter(scope or Q(), closed_at__gte=since, resolution_due_at__isnull=False).order_by().aggregate(
        n=Count("id"), met=Count("id", filter=Q(closed_at__lte=F("resolution_due_at"))),
    )
    breaching = Ticket.objects.filter(scope or Q(), breaching_q(now), active_state=ActiveState.ACTIVE).order_by().count()

    def pct(row: dict[str, int]) -> float | None:
        return round(100 * row["met"] / row["n"], 1) if row["n"] else None

    return pct(first), pct(resolved), first["n"] + resolved["n"], breaching


def agent_workload(open_statuses: list[TicketStatus] | None = None, scope: Q | None = None) -> list[Bucket]:
    """Open tickets per assigned agent, busiest first (one grouped query and the names)."""
    from django.contrib.auth import get_user_model

    through = Ticket.assignees.through
    rows = (
        through.objects.filter(ticket__in=open_tickets(open_statuses, scope).values("pk"))
        .order_by().values("user_id").annotate(n=Count("*"))
    )
    counts = {row["user_id"]: row["n"] for row in rows}
    users = get_user_model().objects.filter(pk__in=counts)
    buckets = [Bucket(label=u.get_full_name() or u.get_username(), count=counts[u.pk], key=u.pk) for u in users]
    return sorted(buckets, key=lambda b: (-b.count, b.label))


def backlog_by_day(daily: list[Day], open_now: int) -> list[int]:
    """Open tickets at the end of each day, walked back from today's count with each
    day's created and closed figures (no query of its own)."""
    result, level = [], open_now
    for day in reversed(daily):
        result.append(max(level, 0))
        level = level - day.created + day.closed
    return list(reversed(result))


def overview(*, days: int = 30, use_cache: bool = True, user: Any = None) -> Overview:
    """Everything the overview page shows, cached for ``OVERVIEW_CACHE_SECONDS``.

    With ``user``, over the tickets they may see only (``selectors.ticket_scope``: a
    department-limited agent's figures are their departments'), cached per department set.
    """
    timeout = helpdesk_settings.OVERVIEW_CACHE_SECONDS
    key = f"{CACHE_KEY}:{days}"
    scope = None
    if user is not None:
        scope = ticket_scope(user)
        if not is_agent(user):
            key += ":none"
        elif (ids := agent_department_ids(user)) is not None:
            key += ":d" + hashlib.sha1(",".join(map(str, sorted(ids))).encode()).hexdigest()[:16]
    if use_cache and timeout:
        cached = cache.get(key)
        if cached is not None:
            return cached
    now = timezone.now()
    since = now - datetime.timedelta(days=days)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # These aggregates look costly to the planner, which then spends most of a
            # second JIT-compiling them; they run faster interpreted.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        by_status, by_department, by_priority, total, unassigned = open_breakdown(scope)
        daily = daily_created_closed(days=days, now=now, scope=scope)
        first_response = median_first_response(since=since, scope=scope)
        resolution = median_resolution(since=since, scope=scope)
        fr_pct, res_pct, measured, breaching = sla_compliance(since=since, now=now, scope=scope)
        workload = agent_workload(scope=scope)
    result = Overview(
        generated_at=now,
        days=days,
        open_total=total,
        unassigned=unassigned,
        by_status=by_status,
        by_department=by_department,
        by_priority=by_priority,
        daily=daily,
        median_first_response=first_response,
        median_resolution=resolution,
        first_response_compliance=fr_pct,
        resolution_compliance=res_pct,
        sla_measured=measured,
        breaching_now=breaching,
        workload=workload,
        backlog=backlog_by_day(daily, total),
    )
    if timeout:
        cache.set(key, result, timeout)
    return result
