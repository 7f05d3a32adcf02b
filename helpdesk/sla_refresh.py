"""Keeping stored SLA due times true when the rules change: saving or deleting an SLA
policy, a business calendar or a holiday recomputes the SLA columns of the open tickets
it affects, in a task queued on commit (``refresh_sla_task``); ``manage.py
helpdesk_sla_refresh`` does the same inline.

The work goes in chunks of ``CHUNK`` tickets by id, each in its own transaction with its
rows locked (a service changing one of them meanwhile waits, so no change is lost), the
rules of ``helpdesk.sla`` applied to each ticket in Python and only the rows that differ
written, in one statement. Running it twice changes nothing the second time; a task that
fails is retried (``helpdesk_task``) from the chunk it was on.

A *target* says which tickets a change can affect, as a JSON-able dict:
``{"kind": "all"}``, ``{"kind": "policy", "id": 3, "priority": 2, "department": None,
"client": 7}`` (the tickets that have the policy, and the ones its scope matches: a new
or changed policy may now apply to them), ``{"kind": "calendar", "id": 2}`` (the tickets
whose policy counts on that calendar).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from . import sla
from .events.tasks import enqueue_once_on_commit, helpdesk_task
from .models import BusinessCalendar, Holiday, SLAPolicy, Ticket

#: Tickets per transaction.
CHUNK = 1000
#: Chunks one task works through before it queues the rest as a new task (so a retry
#: redoes little, and no task runs for long).
CHUNKS_PER_TASK = 20

#: What the rules read and write: the rest of the row is never loaded.
_READ = ("id", "priority", "department_id", "client_id", "status_id", "created_at", "closed_at", *(
    Ticket._meta.get_field(f).attname for f in sla.FIELDS))
_WRITE = [Ticket._meta.get_field(f).attname for f in sla.FIELDS]

ALL: dict[str, Any] = {"kind": "all"}


def policy_target(policy: SLAPolicy) -> dict[str, Any]:
    return {"kind": "policy", "id": policy.pk, "priority": policy.priority,
            "department": policy.department_id, "client": policy.client_id}


def calendar_target(calendar_id: int) -> dict[str, Any]:
    return {"kind": "calendar", "id": calendar_id}


def target_q(target: dict[str, Any]) -> Q:
    """The tickets (open or not) a change described by ``target`` can affect."""
    kind = target.get("kind")
    if kind == "all":
        return Q()
    if kind == "policy":
        scope = {field: target[key] for field, key in (
            ("priority", "priority"), ("department_id", "department"), ("client_id", "client"))
            if target.get(key) is not None}
        # A policy for any ticket may apply to every ticket (and ``Q(...) | Q()`` is not "all").
        return Q(sla_policy_id=target["id"]) | Q(**scope) if scope else Q()
    if kind == "calendar":
        policies = list(SLAPolicy.objects.filter(calendar_id=target["id"]).values_list("pk", flat=True))
        return Q(sla_policy_id__in=policies)
    raise ValueError(f"Unknown SLA refresh target {target!r}.")


def tickets(target: dict[str, Any], *, include_closed: bool = False) -> Any:
    """The tickets a refresh of ``target`` looks at (open ones unless ``include_closed``)."""
    qs = Ticket.objects.filter(target_q(target))
    return qs if include_closed else qs.filter(closed_at__isnull=True)


def refresh_chunk(target: dict[str, Any], *, after_id: int = 0, include_closed: bool = False,
                  rules: sla.Rules | None = None, at: datetime.datetime | None = None,
                  q: Q | None = None) -> tuple[int | None, int, int]:
    """Recompute the next ``CHUNK`` tickets of ``target`` with an id above ``after_id``.

    Returns (the last id looked at, or None when no ticket is left after this chunk;
    tickets looked at; tickets whose SLA columns changed).
    """
    rules = rules if rules is not None else sla.Rules.load()
    q = q if q is not None else target_q(target)
    with transaction.atomic():
        qs = Ticket.objects.filter(q, pk__gt=after_id)
        if not include_closed:
            qs = qs.filter(closed_at__isnull=True)
        rows = list(qs.order_by("pk").select_for_update().only(*_READ)[:CHUNK])
        if not rows:
            return None, 0, 0
        at = at or timezone.now()
        changed = []
        for ticket in rows:
            before = [getattr(ticket, name) for name in _WRITE]
            rules.apply(ticket, at=at)
            if [getattr(ticket, name) for name in _WRITE] != before:
                changed.append(ticket)
        _write(changed)
    return (rows[-1].pk if len(rows) == CHUNK else None), len(rows), len(changed)


def _write(changed: list[Ticket]) -> None:
    """One ``UPDATE`` for the changed rows (from arrays on PostgreSQL)."""
    if not changed:
        return
    if connection.vendor != "postgresql":
        Ticket.objects.bulk_update(changed, _WRITE, batch_size=200)
        return
    columns = [Ticket._meta.get_field(name).column for name in _WRITE]
    types = {"sla_policy_id": "bigint", "sla_paused_minutes": "integer"}
    qn = connection.ops.quote_name
    arrays = ", ".join(f"%s::{types.get(c, 'timestamptz')}[]" for c in columns)
    names = ", ".join(f"v{k}" for k in range(len(columns)))
    sets = ", ".join(f"{qn(c)} = v.v{k}" for k, c in enumerate(columns))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {qn(Ticket._meta.db_table)} AS t SET {sets} "
            f"FROM unnest(%s::bigint[], {arrays}) AS v(id, {names}) WHERE t.id = v.id",
            [[t.pk for t in changed], *([getattr(t, name) for t in changed] for name in _WRITE)],
        )


def refresh(target: dict[str, Any] = ALL, *, after_id: int = 0, include_closed: bool = False,
            max_chunks: int | None = None,
            on_chunk: Callable[[int, int], None] | None = None) -> tuple[int | None, int, int]:
    """Refresh ``target`` chunk by chunk from ``after_id`` (at most ``max_chunks`` chunks).

    ``on_chunk(looked_at, changed)`` is called after each chunk (the command's progress).
    Returns (the last id done if chunks may remain, else None; tickets looked at; changed).
    """
    rules = sla.Rules.load()
    q = target_q(target)
    at = timezone.now()
    seen = changed = chunks = 0
    last: int | None = after_id
    while last is not None and (max_chunks is None or chunks < max_chunks):
        last, n, c = refresh_chunk(target, after_id=last, include_closed=include_closed, rules=rules, at=at, q=q)
        seen, changed, chunks = seen + n, changed + c, chunks + 1
        if on_chunk is not None and n:
            on_chunk(n, c)
    return last, seen, changed


@helpdesk_task
def refresh_sla_task(target: dict[str, Any], after_id: int = 0) -> dict[str, int]:
    """Recompute the SLA columns of the open tickets ``target`` affects, from ``after_id``:
    ``CHUNKS_PER_TASK`` chunks, then the rest as a new task (queued on commit)."""
    last, seen, changed = refresh(target, after_id=after_id, max_chunks=CHUNKS_PER_TASK)
    if last is not None:
        enqueue_once_on_commit(("sla-refresh", repr(target), last), refresh_sla_task, target, last)
    return {"looked_at": seen, "changed": changed}


def queue_refresh(target: dict[str, Any]) -> None:
    """Queue a refresh of ``target`` when the current transaction commits (once per target)."""
    enqueue_once_on_commit(("sla-refresh", repr(sorted(target.items()))), refresh_sla_task, target)


def _policy_changed(sender: Any, instance: SLAPolicy, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        queue_refresh(policy_target(instance))


def _calendar_changed(sender: Any, instance: BusinessCalendar, raw: bool = False, **kwargs: Any) -> None:
    if not raw and instance.pk is not None:
        queue_refresh(calendar_target(instance.pk))


def _holiday_changed(sender: Any, instance: Holiday, raw: bool = False, **kwargs: Any) -> None:
    if not raw and instance.calendar_id is not None:
        queue_refresh(calendar_target(instance.calendar_id))


def connect() -> None:
    """Refresh on every save and delete of a policy, a calendar or a holiday (``apps.ready``)."""
    from django.db.models.signals import post_delete, post_save

    for model, receiver in ((SLAPolicy, _policy_changed), (BusinessCalendar, _calendar_changed),
                            (Holiday, _holiday_changed)):
        for signal in (post_save, post_delete):
            signal.connect(receiver, sender=model, weak=False,
                           dispatch_uid=f"helpdesk.sla_refresh.{model.__name__}.{id(signal)}")
