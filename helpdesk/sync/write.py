"""Writing the valid items: new clients and requesters, then tickets, tags, assignees and
status history, in bulk and in key order. On PostgreSQL rows go through ``COPY``."""

from __future__ import annotations

import datetime
import json
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, connection
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from .. import sla
from ..domains import claim_domains, free_mail_domains, may_make_client
from ..models import Channel, Client, ClientDomain, Contact, Priority, StatusChange, Ticket, TicketStatus
from .items import MISSING, Item
from .resolve import key_filter

#: Ticket columns an upsert writes on a ticket that exists (everything it may change).
_UPDATE_FIELDS = [
    "subject", "message", "status", "priority", "department", "client", "requester", "type",
    "severity", "product", "time_spent", "external_source", "external_id", "external_url",
    "created_at", "updated_at", "status_changed_at", "closed_at",
]
#: The SLA columns (``helpdesk.sla``), worked out from the ticket as the item leaves it and
#: written with it; a change of theirs alone (a policy changed since) is no update of the
#: ticket's, so it leaves ``updated_at`` alone.
_SLA_FIELDS = list(sla.FIELDS)
_WRITE_FIELDS = _UPDATE_FIELDS + _SLA_FIELDS
#: On a key conflict for an item we believed new (a concurrent request made it first),
#: the first creation date stands.
_NEW_CONFLICT_UPDATE_FIELDS = [f for f in _WRITE_FIELDS if f != "created_at"]
_UPDATE_ATTNAMES = [Ticket._meta.get_field(f).attname for f in _UPDATE_FIELDS]
_SLA_ATTNAMES = [Ticket._meta.get_field(f).attname for f in _SLA_FIELDS]
_UPDATED_AT = _UPDATE_FIELDS.index("updated_at")


def create_statuses(items: list[Item]) -> None:
    """The free-form statuses valid items use (resolve.resolve_reference_data planned
    them), race-safely: a status a concurrent request created first is used as it is."""
    planned = {}
    for item in items:
        for status in [item.status, *(row[0] for row in item.history_rows)]:
            if status is not None and status.pk is None:
                planned[id(status)] = status
    if not planned:
        return
    TicketStatus.objects.bulk_create(list(planned.values()), ignore_conflicts=True)
    saved = {s.title: s for s in TicketStatus.objects.filter(title__in=[s.title for s in planned.values()])}
    for status in planned.values():
        row = saved[status.title]
        status.pk, status.is_closed, status.order = row.pk, row.is_closed, row.order
        status._state.adding = False


def touch_changed(items: list[Item], ticket_ids: set[int], *, now: datetime.datetime) -> None:
    """A matched ticket whose tags or assignees changed was updated now, unless the item
    gave ``updatedAt`` (the sender's own date stands)."""
    ids = [i.existing.pk for i in items if i.existing.pk in ticket_ids and i.updated_at is None]
    if ids:
        Ticket.objects.filter(pk__in=ids).update(updated_at=now)


def create_clients(items: list[Item]) -> None:
    """Clients that items asked for and that do not exist yet, race-safely: one per new
    ``companyExternalId``, one per new domain (``helpdesk.domains``, the rule
    ``services.requester_for_email`` follows too), each owning its items' other domains."""
    plans: dict[tuple[str, str], list[Item]] = defaultdict(list)
    for item in items:
        if item.client_plan:
            plans[item.client_plan].append(item)
    if not plans:
        return
    free = free_mail_domains()
    domains_of = {
        plan: sorted({d for i in group for d in (i.domains or [i.email_domain]) if may_make_client(d, free)} | (
            {plan[1]} if plan[0] == "domain" else set()))
        for plan, group in plans.items()
    }

    by_ext = sorted(p for p in plans if p[0] == "external_id")
    if by_ext:
        Client.objects.bulk_create(
            [Client(name=(domains_of[p] or [p[1]])[0][:200], external_id=p[1]) for p in by_ext], ignore_conflicts=True
        )
        ext_clients = {c.external_id: c for c in Client.objects.filter(external_id__in=[p[1] for p in by_ext])}
        for plan in by_ext:
            for item in plans[plan]:
                item.client = ext_clients[plan[1]]
    by_domain = sorted(p for p in plans if p[0] == "domain")
    claimed = claim_domains(p[1] for p in by_domain)
    for plan in by_domain:
        for item in plans[plan]:
            item.client = claimed[plan[1]]
    rows = sorted({(d, item.client.pk) for plan, group in plans.items() for item in group[:1] for d in domains_of[plan]
                   if d not in claimed})
    if rows:
        ClientDomain.objects.bulk_create([ClientDomain(domain=d, client_id=c) for d, c in rows], ignore_conflicts=True)


def create_users(items: list[Item]) -> None:
    """Requesters that have no user yet (no usable password), and their contact rows."""
    user_model = get_user_model()
    username_field = user_model.USERNAME_FIELD
    email_field = user_model.get_email_field_name()
    max_username = user_model._meta.get_field(username_field).max_length or 150
    missing: dict[str, Item] = {}
    for item in items:
        if isinstance(item.email, str) and item.requester is None:
            missing.setdefault(item.email, item)
    if missing:
        field_names = {f.name for f in user_model._meta.get_fields()}
        new = []
        unusable = make_password(None)
        for email in sorted(missing):
            first, _sep, last = missing[email].name.partition(" ")
            user = user_model(**{username_field: email[:max_username], email_field: email})
            if "first_name" in field_names:
                user.first_name = first[:150]
                user.last_name = last[:150]
            user.password = unusable
            new.append(user)
        user_model.objects.bulk_create(new, ignore_conflicts=True)
        found = {}
        query = user_model.objects.annotate(_email=Lower(email_field)).filter(
            Q(_email__in=missing) | Q(**{f"{username_field}__in": [e[:max_username] for e in missing]})
        ).order_by("-pk")
        for user in query:
            found[getattr(user, username_field)] = user
            found[user._email] = user
        for item in items:
            if isinstance(item.email, str) and item.requester is None:
                item.requester = found.get(item.email) or found[item.email[:max_username]]
    # Requesters act for the ticket's client; staff never become contacts.
    contacts: dict[int, int] = {}
    for item in items:
        requester = item.requester
        client_id = item.client.pk if item.client is not None else getattr(item.existing, "client_id", None)
        if requester is not None and not requester.is_staff and client_id is not None:
            contacts.setdefault(requester.pk, client_id)
    if contacts:
        Contact.objects.bulk_create(
            [Contact(user_id=u, client_id=c) for u, c in sorted(contacts.items())], ignore_conflicts=True
        )


# Writing rows. On PostgreSQL rows go through COPY (into the table, or into a temporary
# table for the ticket upsert): building SQL literals for 100,000 values in Python costs
# seconds, COPY costs milliseconds. Elsewhere Django's bulk_create does the same job.


def _db_value(field: Any) -> Any:
    """A function turning a model attribute's value into what COPY writes for ``field``."""
    if field.get_internal_type() == "JSONField":
        return lambda value: json.dumps(value, cls=field.encoder)
    return lambda value: value


def _copy(cursor: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    start = time.monotonic()
    with cursor.cursor.copy(f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    if connection.queries_logged:
        # COPY is not a query Django logs; record it like one, so query counts stay honest.
        connection.queries_log.append({"sql": f"COPY {table} ({quoted}) FROM STDIN", "time": f"{time.monotonic() - start:.3f}"})


def _insert_rows(model: Any, columns: Sequence[str], rows: list[tuple]) -> None:
    """Insert plain rows (no conflict possible: their ticket rows are locked by us)."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            _copy(cursor, model._meta.db_table, [model._meta.get_field(c).column for c in columns], rows)
    else:
        model.objects.bulk_create([model(**dict(zip(columns, row))) for row in rows])


_TICKET_FIELDS = [f for f in Ticket._meta.concrete_fields if not f.primary_key]
_TICKET_CONVERT = [(f.attname, _db_value(f)) for f in _TICKET_FIELDS]


def _ticket_row(ticket: Ticket, with_id: bool) -> list[Any]:
    row = [convert(getattr(ticket, attname)) for attname, convert in _TICKET_CONVERT]
    return [ticket.pk, *row] if with_id else row


def _pg_write_tickets(updates: list[Ticket], creates: list[Ticket]) -> dict[tuple[str, str], tuple[int, bool]]:
    """PostgreSQL: UPDATE the matched tickets and upsert the new ones through a temporary
    table. Returns {key: (id, inserted)} for the new ones; ``xmax = 0`` tells a row this
    statement inserted from one it updated (a concurrent request had inserted it)."""
    qn = connection.ops.quote_name
    table = qn(Ticket._meta.db_table)
    columns = [f.column for f in _TICKET_FIELDS]
    names = ", ".join(qn(c) for c in columns)
    column_of = {f.name: f.column for f in _TICKET_FIELDS}
    result: dict[tuple[str, str], tuple[int, bool]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS hd_sync_ticket ON COMMIT DROP AS "
            f"SELECT id, {names} FROM {table} WITH NO DATA"
        )
        cursor.execute("TRUNCATE hd_sync_ticket")
        _copy(cursor, "hd_sync_ticket", ["id", *columns], (
            *(_ticket_row(t, True) for t in updates), *([None, *_ticket_row(t, False)] for t in creates)
        ))
        if updates:
            assignments = ", ".join(f"{qn(column_of[f])} = s.{qn(column_of[f])}" for f in _WRITE_FIELDS)
            # The search documents (migration 0006) of the tickets whose text changes are
            # rebuilt in one statement after the UPDATE, not one by one by its trigger.
            cursor.execute(
                "SELECT set_config('helpdesk.search_deferred', 'on', true), ARRAY("
                f"SELECT t.id FROM {table} AS t JOIN hd_sync_ticket AS s ON s.id = t.id "
                "WHERE t.subject IS DISTINCT FROM s.subject OR t.message IS DISTINCT FROM s.message)"
            )
            changed_text = cursor.fetchone()[1]
            cursor.execute(f"UPDATE {table} AS t SET {assignments} FROM hd_sync_ticket AS s WHERE t.id = s.id")
            cursor.execute(
                "SELECT set_config('helpdesk.search_deferred', '', true), helpdesk_search_rebuild(%s::bigint[])",
                [changed_text],
            )
        if creates:
            cols = [qn(column_of[f.name]) for f in _TICKET_FIELDS]
            # DO NOTHING: a key a concurrent request inserted first (PostgreSQL waits for
            # it to commit) is not ours to overwrite with a new ticket's dates and first
            # history; ``write_tickets`` applies the item to that ticket as an update.
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(cols)}) "
                f"SELECT {', '.join(cols)} FROM hd_sync_ticket WHERE id IS NULL "
                f"ORDER BY external_source, external_id "
                f"ON CONFLICT (external_source, external_id) DO NOTHING "
                f"RETURNING id, external_source, external_id"
            )
            for pk, source, source_id in cursor.fetchall():
                result[(source, source_id)] = (pk, True)
    return result


def _apply(item: Item, ticket: Ticket, *, statuses: dict[int, TicketStatus], now: datetime.datetime, by: Any,
           rules: sla.Rules) -> None:
    """Set a ticket's fields from an item, and queue its status history in ``item.history_rows``
    as (from, to, at, by) rows, so that the ticket's status, ``status_changed_at`` and
    ``closed_at`` agree with its history; then its SLA columns by ``rules``, as the
    services would have kept them through that history."""
    new = ticket._state.adding
    known_until = None if new else ticket.status_changed_at
    for field, value in item.values.items():
        setattr(ticket, field, value)
    if item.source_id is not None:
        ticket.external_source, ticket.external_id = item.source, item.source_id
    # Ids, not objects: the descriptors' bookkeeping costs more than the rest of an item.
    if item.client is not None:
        ticket.client_id = item.client.pk
    if item.requester is not None:
        ticket.requester_id = item.requester.pk
    if item.department is not None:
        ticket.department_id = item.department.pk
    if item.created_at is not None:
        ticket.created_at = item.created_at
    elif new:
        ticket.created_at = min([now] + [at for _s, at in item.history_rows[:1]])
    ticket.updated_at = item.updated_at or now
    if not ticket.subject:
        # Other systems have untitled tickets (chats, calls); ours need a subject.
        first_line = (ticket.message or "").strip().splitlines()[:1]
        ticket.subject = (first_line[0].strip()[:255] if first_line else "") or f"{item.source or 'Ticket'} {item.source_id}".strip()

    previous = None if new else statuses.get(ticket.status_id)
    rows: list[tuple[TicketStatus | None, TicketStatus, datetime.datetime, Any]] = []
    before = None
    for status, at in item.history_rows:  # imported: their own times, by nobody here
        rows.append((before, status, at, None))
        before = status
    final = item.status or (rows[-1][1] if rows else previous)
    if rows and rows[-1][1].pk == final.pk:
        entered = rows[-1][2]
    elif not rows and previous is not None and previous.pk == final.pk:
        entered = ticket.status_changed_at or ticket.created_at
    else:
        entered = ticket.created_at if new and not rows else (item.updated_at or now)
        rows.append((before or previous, final, entered, by))
    item.history_rows = rows
    ticket.status_id = final.pk
    ticket.status_changed_at = entered
    if not final.is_closed:
        ticket.closed_at = None
    else:
        # Closed since the first of the closed statuses it has stayed in until now.
        closed, whole_run = entered, True
        for row in reversed(rows):
            if not row[1].is_closed:
                whole_run = False
                break
            closed = row[2]
        if whole_run and previous is not None and previous.is_closed and ticket.closed_at:
            closed = min(closed, ticket.closed_at)
        ticket.closed_at = closed
    # The pause follows each status change the ticket has not been through here yet (all
    # of a new ticket's; an update's after its last known change), then its status now.
    rules.apply(ticket, at=entered, transitions=[
        (rules.is_waiting(status), at) for _before, status, at, _by in rows
        if known_until is None or at > known_until
    ])


def write_tickets(
    items: list[Item], *, statuses: dict[int, TicketStatus], by: Any, now: datetime.datetime,
    rules: sla.Rules | None = None,
) -> set[int]:
    """Write the tickets (matched ones updated, new keys upserted); returns the ids created.

    ``rules`` are the SLA rules (``sla.Rules.load()``, loaded once for the whole request)."""
    rules = rules if rules is not None else sla.Rules.load()
    updates = sorted((i for i in items if i.existing is not None), key=lambda i: i.existing.pk)
    creates = sorted((i for i in items if i.existing is None), key=lambda i: i.key)
    creator_id = getattr(by, "pk", None)
    changed = []
    for item in updates:
        ticket = item.existing
        before = [getattr(ticket, a) for a in _UPDATE_ATTNAMES]
        sla_before = [getattr(ticket, a) for a in _SLA_ATTNAMES]
        _apply(item, ticket, statuses=statuses, now=now, by=by, rules=rules)
        after = [getattr(ticket, a) for a in _UPDATE_ATTNAMES]
        if item.updated_at is None and after[:_UPDATED_AT] + after[_UPDATED_AT + 1:] == (
                before[:_UPDATED_AT] + before[_UPDATED_AT + 1:]):
            # Nothing changed and no updatedAt: "last updated" stays, or every re-sync
            # would make every ticket look changed to an updated_since reader.
            ticket.updated_at = before[_UPDATED_AT]
            after[_UPDATED_AT] = before[_UPDATED_AT]
        # A re-sent ticket that changes nothing (same fields, same updatedAt) is not
        # rewritten: a routine re-sync of unchanged tickets writes no ticket rows.
        if after != before or [getattr(ticket, a) for a in _SLA_ATTNAMES] != sla_before:
            changed.append(ticket)
    # Positional arguments are Django's fast path for building instances (no default lookups
    # per field): a new ticket's values, in field order, from the model's own defaults.
    template = {f.attname: f.get_default() for f in Ticket._meta.concrete_fields}
    template.update(subject="", message="", priority=Priority.NORMAL, channel=Channel.API, creator_id=creator_id)
    template.update(custom_fields=None, metadata=None)
    asked_history = {item.index: list(item.history_rows) for item in creates}
    for item in creates:
        ticket = Ticket(*template.values())
        ticket.custom_fields, ticket.metadata = {}, {}
        _apply(item, ticket, statuses=statuses, now=now, by=by, rules=rules)
        item.existing = ticket
    if connection.vendor == "postgresql":
        written = _pg_write_tickets(changed, [i.existing for i in creates])
        created = set()
        lost = []
        for item in creates:
            if item.key not in written:
                lost.append(item)
                continue
            pk, inserted = written[item.key]
            item.existing.pk = pk
            item.existing._state.adding = False
            if inserted:
                created.add(pk)
        if lost:
            _pg_apply_to_winners(lost, asked_history, statuses=statuses, by=by, rules=rules)
        return created
    # SQLite & co: Django's upserts. SQLite runs one writer at a time, so the lookup
    # before the insert was exact: every key we did not find is one we create.
    if changed:
        Ticket.objects.bulk_create(changed, update_conflicts=True, unique_fields=["id"], update_fields=_WRITE_FIELDS)
    if creates:
        Ticket.objects.bulk_create(
            [i.existing for i in creates],
            update_conflicts=True,
            unique_fields=["external_source", "external_id"],
            update_fields=_NEW_CONFLICT_UPDATE_FIELDS,
        )
    return {i.existing.pk for i in creates}


def _pg_apply_to_winners(
    items: list[Item], asked_history: dict[int, list[tuple]], *, statuses: dict[int, TicketStatus], by: Any,
    rules: sla.Rules,
) -> None:
    """Items we believed new whose key a concurrent request created first: lock the
    tickets it made (committed by now) and apply the items to them as updates, so the
    first history entry is written once and no date goes before the ticket's creation."""
    winners = {
        (t.external_source, t.external_id): t
        for t in Ticket.objects.filter(key_filter(i.key for i in items)).order_by("pk").select_for_update()
    }
    if len(winners) < len(items):
        # Created and deleted again meanwhile: start the request over.
        raise IntegrityError("a concurrently created ticket is gone")
    later = timezone.now()  # after the winner's commit: nothing of ours predates its ticket
    for item in items:
        item.history_rows = asked_history[item.index]
        item.existing = winners[item.key]
        _apply(item, item.existing, statuses=statuses, now=later, by=by, rules=rules)
    _pg_write_tickets(sorted((i.existing for i in items), key=lambda t: t.pk), [])


def _replace_m2m(through: Any, column: str, wanted: dict[int, set[int]]) -> set[int]:
    """Make each ticket's rows in ``through`` exactly ``wanted[ticket_id]``: three queries.
    Returns the ids of the tickets whose rows changed."""
    if not wanted:
        return set()
    have: dict[int, dict[int, int]] = defaultdict(dict)
    for pk, ticket_id, other in through.objects.filter(ticket_id__in=wanted).values_list("pk", "ticket_id", column):
        have[ticket_id][other] = pk
    stale = [pk for t, rows in have.items() for other, pk in rows.items() if other not in wanted[t]]
    if stale:
        through.objects.filter(pk__in=stale).delete()
    added = sorted((t, o) for t, others in wanted.items() for o in others if o not in have[t])
    _insert_rows(through, ["ticket_id", column], added)
    return {t for t, _o in added} | {t for t, rows in have.items() for other in rows if other not in wanted[t]}


def write_tags(items: list[Item], tags: dict[str, Any]) -> set[int]:
    return _replace_m2m(
        Ticket.tags.through, "tag_id",
        {i.existing.pk: {tags[t.lower()].pk for t in i.tags} for i in items if i.tags is not None},
    )


def write_assignees(items: list[Item]) -> set[int]:
    return _replace_m2m(
        Ticket.assignees.through, "user_id",
        {i.existing.pk: ({i.assignee.pk} if i.assignee else set()) for i in items if i.agent_email is not MISSING},
    )


def write_history(items: list[Item], created_ids: set[int]) -> None:
    """Status history rows: imported ones (their own times, by nobody) and our own changes
    (by ``by``), skipping rows a ticket already has, so re-sending a payload adds nothing."""
    wanted = {i.existing.pk: i.history_rows for i in items if i.history_rows}
    if not wanted:
        return
    # A ticket this request created has no history yet; only the others need looking at.
    old = [pk for pk in wanted if pk not in created_ids]
    have = set(
        StatusChange.objects.filter(ticket_id__in=old).values_list("ticket_id", "to_status_id", "changed_at")
    ) if old else set()
    _insert_rows(
        StatusChange,
        ["ticket_id", "from_status_id", "to_status_id", "changed_at", "changed_by_id"],
        [
            (ticket_id, before.pk if before else None, status.pk, at, by.pk if getattr(by, "pk", None) else None)
            for ticket_id, rows in sorted(wanted.items())
            for before, status, at, by in rows
            if (ticket_id, status.pk, at) not in have
        ],
    )
