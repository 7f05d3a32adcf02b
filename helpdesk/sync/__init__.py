"""Ticket sync: the Planhat-dialect bulk upsert behind ``PUT /tickets`` and ``helpdesk_import``.

``ticket_bulk_upsert(items=[...], by=agent)`` creates or updates up to
``UPSERT_MAX_ITEMS`` tickets keyed by ``_id`` (our id) or by (``source``, ``sourceId``).
It is set-based: a request costs a bounded number of queries whatever its size.

How it keeps its promises:

* **Whole items.** Every item is parsed and checked first (types, then everything that
  needs reference data: statuses, departments, clients, users, existing tickets). Only
  the valid ones are written, all of them in one transaction, so an item is saved whole
  or not at all, and every invalid one is reported with its index and fields.
* **Race-safe.** New keys are written with ``INSERT ... ON CONFLICT (external_source,
  external_id) DO NOTHING``, so two requests with the same new key make one ticket; the
  one that loses applies its item to the winner's ticket as an update (one first history
  entry, no date before the ticket's creation).
  Matched tickets are locked (``SELECT ... FOR UPDATE``) before being changed, rows are
  written in key order (no lock-order deadlocks), and a request that still loses a race
  (a unique violation or a deadlock) is retried from the start.
* **Exact counts.** On PostgreSQL the insert returns only the rows it inserted: a key a
  concurrent request created first is counted as updated. (SQLite runs
  one writer at a time, so its lookup is exact.)
* **SLA.** Each ticket's SLA policy, due times and pause are worked out by the rules the
  services use (``helpdesk.sla.Rules``: the policies loaded once per request, the pause
  following the item's status history) and written with the ticket's row.
* **Fast.** Rows are written in bulk (``COPY`` on PostgreSQL), a request costs the same
  number of queries for 10 items or 5000.

Modules: ``items`` (reading an item, no database), ``resolve`` (matching tickets, reference
data, clients and people), ``write`` (the writes), ``result`` (what the caller gets).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from typing import Any

from django.db import DatabaseError, IntegrityError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import signals, sla
from ..busy import is_lock_timeout
from ..conf import helpdesk_settings
from ..events import webhooks
from ..models import Ticket
from ..services import tags_get_or_create
from .items import FIELDS, Item, parse_item
from .resolve import (
    check_access,
    check_duplicates,
    key_filter,
    lock_existing,
    lock_source_ids,
    match_tickets,
    resolve_clients_and_users,
    resolve_reference_data,
)
from .result import ItemError, UpsertResult
from .write import (
    create_clients,
    create_statuses,
    create_users,
    touch_changed,
    write_assignees,
    write_history,
    write_tags,
    write_tickets,
)

logger = logging.getLogger(__name__)

__all__ = ["FIELDS", "ItemError", "UpsertResult", "ticket_bulk_upsert"]

_RETRIES = 3


def ticket_bulk_upsert(*, items: Sequence[Any], by: Any = None) -> UpsertResult:
    """Create or update tickets from Planhat-dialect ``items`` (see the module docstring).

    ``by`` is the agent doing it (the creator of new tickets, the author of status changes
    the sync causes). Never raises for bad items: they are reported in the result. Raises
    ``ValueError`` for more than ``UPSERT_MAX_ITEMS`` items (the management command splits
    bigger files). API writes are silent: ``ticket_created`` is sent with ``silent=True``
    for each new ticket after commit, and no notification goes out.
    """
    if len(items) > helpdesk_settings.UPSERT_MAX_ITEMS:
        raise ValueError(f"At most {helpdesk_settings.UPSERT_MAX_ITEMS} items per call; got {len(items)}.")
    parsed = [parse_item(i, raw) for i, raw in enumerate(items)]
    try:
        return _with_retries(parsed, by=by)
    except (IntegrityError, OperationalError):
        raise
    except DatabaseError:
        # Validation should make this unreachable; if the database still refuses a value,
        # save the items one by one so only the offending ones are reported.
        logger.exception("ticket_bulk_upsert: the database refused the batch; saving items one by one")
        result = UpsertResult()
        known = set(
            Ticket.objects.filter(key_filter(i.key for i in parsed if i.key)).values_list("external_source", "external_id")
        )
        for item in parsed:
            _reset(item)
            try:
                result.merge(_with_retries([item], by=by))
            except DatabaseError as exc:
                _reset(item)
                item.error("non_field_errors", _("The database refused this item: %(e)s") % {"e": str(exc).strip()[:300]})
                (result.updated_errors if item.by_id or item.key in known else result.created_errors).append(_error(item))
        result.created_errors.sort(key=lambda e: e.index)
        result.updated_errors.sort(key=lambda e: e.index)
        return result


def _with_retries(items: list[Item], *, by: Any) -> UpsertResult:
    for attempt in range(1, _RETRIES + 1):
        try:
            with transaction.atomic():
                return _upsert(items, by=by)
        except (IntegrityError, OperationalError) as exc:
            # A concurrent request won a race (a key, a user, a tag, a domain) or a deadlock
            # was broken; everything rolled back, so starting again sees its rows. A lock
            # wait that timed out is not retried: it already waited (the caller answers 503).
            if attempt == _RETRIES or is_lock_timeout(exc):
                raise
            logger.info("ticket_bulk_upsert: retrying after %r", exc)
            for item in items:
                _reset(item)
            # Let the winner commit (SQLite: let the other writer finish) before we look again.
            time.sleep(random.uniform(0.01, 0.05) * attempt)
    raise AssertionError("unreachable")


def _reset(item: Item) -> None:
    """Forget what an item resolved to (keep what it asked for), before a retry."""
    fresh = Item(index=item.index)
    for name in ("existing", "department", "status", "client", "client_plan", "requester", "assignee", "history_rows"):
        setattr(item, name, getattr(fresh, name))
    # A sourceId-only match adopted the matched ticket's source; look again from scratch.
    item.source = item.sent_source
    item.key = (item.source, item.source_id) if item.source_id is not None else None
    item.errors = {k: list(v) for k, v in item.parse_errors.items()}


def _error(item: Item) -> ItemError:
    message = "; ".join(
        " ".join(v) if k == "non_field_errors" else f"{k}: {' '.join(v)}" for k, v in item.errors.items()
    )
    return ItemError(index=item.index, source_id=item.source_id, message=message, fields=dict(item.errors))


def _upsert(items: list[Item], *, by: Any) -> UpsertResult:
    lock_source_ids(items)
    existing = lock_existing(items)
    # After the locks: a request that waited for another's commit dates its changes after it.
    now = timezone.now()
    match_tickets(items, existing)
    check_duplicates(items)
    # Items with errors are checked on too, so that each reports all its problems at once.
    objects = [i for i in items if i.is_object]
    statuses = resolve_reference_data(objects)
    check_access(objects, by)
    resolve_clients_and_users(objects)
    valid = [i for i in items if not i.errors]

    create_statuses(valid)
    create_clients(valid)
    create_users(valid)
    tags = {t.name.lower(): t for t in tags_get_or_create(sorted({t for i in valid for t in i.tags or ()}, key=str.lower))}
    # The SLA rules: no query when no policy is active, else two, whatever the item count.
    rules = sla.Rules.load() if valid else sla.Rules()
    created_ids = write_tickets(valid, statuses=statuses, by=by, now=now, rules=rules)
    changed = write_tags(valid, tags) | write_assignees(valid)
    touch_changed(valid, changed - created_ids, now=now)
    write_history(valid, created_ids)

    result = UpsertResult()
    for item in items:
        if item.errors:
            is_update = item.existing is not None or item.by_id
            (result.updated_errors if is_update else result.created_errors).append(_error(item))
            continue
        key = {"_id": item.existing.pk, "sourceId": item.existing.external_id}
        if item.existing.pk in created_ids:
            result.created += 1
            result.inserts_keys.append(key)
        else:
            result.updated += 1
            result.updates_keys.append(key)

    new_tickets = [i.existing for i in valid if i.existing.pk in created_ids]
    # Webhooks (API writes fire them): one message per ticket, payloads built in bulk.
    webhooks.emit_many("ticket.created", [t.pk for t in new_tickets])
    webhooks.emit_many("ticket.updated", [i.existing.pk for i in valid if i.existing.pk not in created_ids])
    if new_tickets:
        def send() -> None:
            for ticket in new_tickets:
                signals.ticket_created.send(sender=Ticket, ticket=ticket, by=by, silent=True)

        transaction.on_commit(send)
    return result
