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
  external_id) DO UPDATE``, so two requests with the same new key make one ticket.
  Matched tickets are locked (``SELECT ... FOR UPDATE``) before being changed, rows are
  written in key order (no lock-order deadlocks), and a request that still loses a race
  (a unique violation or a deadlock) is retried from the start.
* **Exact counts.** On PostgreSQL new tickets get their ids from the sequence before the
  insert; a row whose id is not the one we drew was made by a concurrent request, so it
  is counted as updated. (SQLite runs one writer at a time, so its lookup is exact.)
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import json
import logging
import re
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from . import signals
from .conf import helpdesk_settings
from .models import (
    Channel,
    Client,
    ClientDomain,
    Contact,
    Department,
    Priority,
    StatusChange,
    Ticket,
    TicketStatus,
)
from .permissions import is_agent
from .services import _clean_priority, _clean_time_spent, clean_tag_names, tags_get_or_create

logger = logging.getLogger(__name__)

__all__ = ["ItemError", "UpsertResult", "ticket_bulk_upsert"]

class _Missing:
    """A field the payload did not send (as opposed to one it sent as null)."""

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()
_FIELD = {f: Ticket._meta.get_field(f) for f in ("subject", "type", "severity", "product", "external_url")}
_SOURCE_MAX = Ticket._meta.get_field("external_source").max_length
_SOURCE_ID_MAX = Ticket._meta.get_field("external_id").max_length
_CLIENT_EXT_MAX = Client._meta.get_field("external_id").max_length
_DOMAIN_RE = re.compile(r"^[\w-]+(\.[\w-]+)+$")

#: Ticket columns an upsert writes on a ticket that exists (everything it may change).
_UPDATE_FIELDS = [
    "subject", "message", "status", "priority", "department", "client", "requester", "type",
    "severity", "product", "time_spent", "external_source", "external_id", "external_url",
    "created_at", "updated_at", "status_changed_at", "closed_at",
]
#: On a key conflict for an item we believed new (a concurrent request made it first),
#: the first creation date stands.
_NEW_CONFLICT_UPDATE_FIELDS = [f for f in _UPDATE_FIELDS if f != "created_at"]

_RETRIES = 3

#: The fields an item may have (API.md, "Bulk upsert"); any other is reported.
FIELDS = (
    "_id", "source", "sourceId", "email", "name", "companyId", "companyExternalId", "domains", "title",
    "description", "url", "tags", "type", "severity", "product", "timeSpent", "status", "history",
    "createdAt", "updatedAt", "agentEmail", "priority", "departmentId",
)


# --------------------------------------------------------------------------- results


@dataclasses.dataclass
class ItemError:
    """One item that was not saved, in the response's terms (the payload's field names)."""

    index: int
    source_id: str | None
    message: str
    fields: dict[str, list[str]]

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "sourceId": self.source_id, "message": self.message, "fields": self.fields}


@dataclasses.dataclass
class UpsertResult:
    """What a bulk upsert did; ``to_dict()`` is Planhat's response shape."""

    created: int = 0
    updated: int = 0
    created_errors: list[ItemError] = dataclasses.field(default_factory=list)
    updated_errors: list[ItemError] = dataclasses.field(default_factory=list)
    inserts_keys: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    updates_keys: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every item was saved."""
        return not (self.created_errors or self.updated_errors)

    @property
    def errors(self) -> list[ItemError]:
        return sorted(self.created_errors + self.updated_errors, key=lambda e: e.index)

    def merge(self, other: UpsertResult, *, offset: int = 0) -> None:
        """Add ``other`` (a later chunk whose first item had index ``offset``) to this result."""
        self.created += other.created
        self.updated += other.updated
        for mine, theirs in ((self.created_errors, other.created_errors), (self.updated_errors, other.updated_errors)):
            mine.extend(dataclasses.replace(e, index=e.index + offset) for e in theirs)
        self.inserts_keys.extend(other.inserts_keys)
        self.updates_keys.extend(other.updates_keys)

    def to_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "createdErrors": [e.to_dict() for e in self.created_errors],
            "updatedErrors": [e.to_dict() for e in self.updated_errors],
            "insertsKeys": self.inserts_keys,
            "updatesKeys": self.updates_keys,
        }


# --------------------------------------------------------------------------- parsing


@dataclasses.dataclass(eq=False)
class _Item:
    """One payload item: what it asks for (parsed), then what it resolved to."""

    index: int
    errors: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    parse_errors: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    ticket_id: int | None = None
    source: str | None = None
    source_id: str | None = None
    values: dict[str, Any] = dataclasses.field(default_factory=dict)  # Ticket field -> value
    email: Any = _MISSING  # lower-cased, or _MISSING
    name: str = ""
    agent_email: Any = _MISSING  # None clears the assignees
    company_id: str | None = None
    company_external_id: str | None = None
    domains: list[str] = dataclasses.field(default_factory=list)
    status_ref: Any = _MISSING
    history: list[tuple[Any, datetime.datetime]] | None = None
    tags: list[str] | None = None
    department_id: Any = _MISSING
    created_at: datetime.datetime | None = None
    updated_at: datetime.datetime | None = None
    # Resolved against the database.
    existing: Ticket | None = None
    department: Department | None = None
    status: TicketStatus | None = None
    history_rows: list[tuple] = dataclasses.field(default_factory=list)
    client: Client | None = None
    client_plan: tuple[str, str] | None = None
    requester: Any = None
    assignee: Any = None

    def error(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(str(message))

    key: tuple[str, str] | None = None  # (source, sourceId), set by _parse
    by_id: bool = False  # it named a ticket by _id: an update
    is_object: bool = True

    @property
    def email_domain(self) -> str | None:
        return self.email.rpartition("@")[2] if isinstance(self.email, str) else None


def _text(item: _Item, raw: dict, name: str, *, max_length: int | None = None) -> Any:
    """A string field of the payload: _MISSING when absent, "" for null."""
    if name not in raw:
        return _MISSING
    value = raw[name]
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        item.error(name, _("Enter a string."))
        return _MISSING
    value = str(value)
    if not _storable(value):
        item.error(name, _("Null characters and unpaired surrogates are not allowed."))
        return _MISSING
    if max_length is not None and len(value) > max_length:
        item.error(name, _("At most %(n)d characters.") % {"n": max_length})
        return _MISSING
    return value


def _storable(text: str) -> bool:
    """Whether a database can store ``text``: PostgreSQL refuses NUL characters, and
    neither stores unpaired surrogates (JSON's "\\ud800")."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown(text: Any) -> str:
    """User input quoted in a message, safe to render as UTF-8."""
    return str(text)[:60].encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def _datetime(item: _Item, field: str, value: Any) -> datetime.datetime | None:
    if not isinstance(value, str):
        item.error(field, _("Enter a date and time in ISO 8601 format."))
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value)  # fast, and enough for most senders
    except ValueError:
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
    if parsed is None:
        item.error(field, _("Enter a date and time in ISO 8601 format."))
        return None
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=datetime.UTC)
    try:
        return parsed.astimezone(datetime.UTC)
    except OverflowError:  # 9999-12-31T23:00-05:00 is past the end of time in UTC
        item.error(field, _("Enter a date and time in ISO 8601 format."))
        return None


def _valid_url(url: str) -> bool:
    """An absolute http(s)/ftp(s) URL with a host. (Django's URLValidator costs 100 µs a
    call, a fifth of the whole budget per item, for a link we only store and show.)"""
    scheme, sep, rest = url.partition("://")
    host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].rpartition("@")[2]
    return (
        bool(sep) and scheme.lower() in {"http", "https", "ftp", "ftps"} and bool(host.strip(".:"))
        and not any(c.isspace() for c in url)
    )


@functools.lru_cache(maxsize=4096)
def _valid_email(value: str) -> bool:
    """Django's email validator, remembered: a sync repeats the same requesters."""
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


_MAX_ID = 2**63 - 1


def _id(value: Any) -> int | None:
    """A database id from an int or a string of digits; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdecimal() and value.strip().isascii():
        value = int(value.strip())
    if isinstance(value, int) and 0 < value <= _MAX_ID:
        return value
    return None


def _parse(index: int, raw: Any) -> _Item:
    """Check an item's shape and types; needs no database."""
    item = _Item(index=index)
    if not isinstance(raw, dict):
        item.is_object = False
        item.error("non_field_errors", _("Each item must be a JSON object."))
        return item

    unknown = sorted(_shown(k) for k in raw if k not in FIELDS)
    if unknown:
        # A misspelt field would otherwise be lost without a word.
        item.error("non_field_errors", _("Unknown field(s): %(names)s. Known: %(known)s.") % {
            "names": ", ".join(unknown[:10]), "known": ", ".join(FIELDS)})
    if raw.get("_id") not in (None, ""):
        item.by_id = True
        item.ticket_id = _id(raw["_id"])
        if item.ticket_id is None:
            item.error("_id", _("Must be the id of one of our tickets (an integer)."))
    source_id = raw.get("sourceId")
    if source_id is not None:
        if isinstance(source_id, bool) or not isinstance(source_id, (str, int)):
            item.error("sourceId", _("Enter a string."))
        elif not _storable(str(source_id)):
            item.error("sourceId", _("Null characters and unpaired surrogates are not allowed."))
        elif not str(source_id).strip():
            item.error("sourceId", _("This field may not be blank."))
        elif len(str(source_id).strip()) > _SOURCE_ID_MAX:
            item.error("sourceId", _("At most %(n)d characters.") % {"n": _SOURCE_ID_MAX})
        else:
            item.source_id = str(source_id).strip()
    source = _text(item, raw, "source", max_length=_SOURCE_MAX)
    # No source is the empty source, never NULL: NULLs never collide under the unique key.
    item.source = source.strip() if source is not _MISSING else ""
    if item.source_id is not None:
        item.key = (item.source, item.source_id)
    if item.ticket_id is None and item.source_id is None and "_id" not in item.errors and "sourceId" not in item.errors:
        item.error("sourceId", _("Give sourceId (or _id to update one of our tickets)."))

    for name, field in (("title", "subject"), ("type", "type"), ("severity", "severity"), ("product", "product")):
        value = _text(item, raw, name, max_length=_FIELD[field].max_length)
        if value is not _MISSING:
            item.values[field] = value.strip() if field == "subject" else value
    description = _text(item, raw, "description")
    if description is not _MISSING:
        item.values["message"] = description
    url = _text(item, raw, "url", max_length=_FIELD["external_url"].max_length)
    if url:
        if _valid_url(url.strip()):
            item.values["external_url"] = url.strip()
        else:
            item.error("url", _("Enter a valid URL."))
    elif url is not _MISSING:
        item.values["external_url"] = ""

    for name, field, clean in (("priority", "priority", _clean_priority), ("timeSpent", "time_spent", _clean_time_spent)):
        if raw.get(name) is not None:
            if isinstance(raw[name], bool):
                item.error(name, _("Enter a number.") if name == "timeSpent" else _("Use one of: normal, high, urgent."))
                continue
            try:
                item.values[field] = clean(raw[name])
            except OverflowError:  # int(float("inf"))
                item.error(name, _("Enter a number.") if name == "timeSpent" else _("Use one of: normal, high, urgent."))
            except ValidationError as exc:
                for message in exc.message_dict[field]:
                    item.error(name, message)

    email = _text(item, raw, "email", max_length=254)
    if email:
        email = email.strip().lower()
        if _valid_email(email):
            item.email = email
        else:
            item.error("email", _("Enter a valid email address."))
    name = _text(item, raw, "name", max_length=300)
    item.name = name.strip() if name else ""
    agent_email = _text(item, raw, "agentEmail", max_length=254)
    if agent_email is not _MISSING:
        item.agent_email = agent_email.strip().lower() or None

    company_id = _text(item, raw, "companyId", max_length=200)
    item.company_id = company_id.strip() or None if company_id else None
    company_ext = _text(item, raw, "companyExternalId", max_length=_CLIENT_EXT_MAX)
    item.company_external_id = company_ext.strip() or None if company_ext else None
    domains = raw.get("domains")
    if domains is not None:
        if isinstance(domains, str):
            domains = [domains]
        if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
            item.error("domains", _("Enter a list of domain names."))
        else:
            for domain in domains:
                domain = domain.strip().lower().lstrip("@")
                if not domain:
                    continue
                if len(domain) > 253 or not _DOMAIN_RE.match(domain) or not _storable(domain):
                    item.error("domains", _("%(d)s is not a domain name.") % {"d": _shown(domain)})
                elif domain not in item.domains:
                    item.domains.append(domain)

    if raw.get("status") is not None:
        item.status_ref = _status_ref(item, "status", raw["status"])
    history = raw.get("history")
    if history is not None:
        if not isinstance(history, list):
            item.error("history", _("Enter a list of {status, time} objects."))
        else:
            item.history = []
            for n, entry in enumerate(history):
                if not isinstance(entry, dict) or entry.get("status") in (None, "") or entry.get("time") in (None, ""):
                    item.error("history", _("Entry %(n)d: give status and time.") % {"n": n})
                    continue
                ref = _status_ref(item, "history", entry["status"])
                at = _datetime(item, "history", entry["time"])
                if ref is not _MISSING and at is not None:
                    item.history.append((ref, at))

    tags = raw.get("tags")
    if tags is not None:
        if isinstance(tags, str):
            tags = [tags]
        if not isinstance(tags, list) or not all(isinstance(t, (str, int)) and not isinstance(t, bool) for t in tags):
            item.error("tags", _("Enter a list of strings."))
        elif not all(_storable(str(t)) for t in tags):
            item.error("tags", _("Null characters and unpaired surrogates are not allowed."))
        else:
            try:
                item.tags = clean_tag_names(tags)
            except ValidationError as exc:
                for message in exc.message_dict["tags"]:
                    item.error("tags", message)
    if raw.get("departmentId") is not None:
        item.department_id = _id(raw["departmentId"])
        if item.department_id is None:
            item.error("departmentId", _("Enter a department id."))
    for name in ("createdAt", "updatedAt"):
        if raw.get(name) not in (None, ""):
            setattr(item, "created_at" if name == "createdAt" else "updated_at", _datetime(item, name, raw[name]))
    if item.created_at and item.updated_at and item.updated_at < item.created_at:
        item.error("updatedAt", _("updatedAt is before createdAt."))
    item.parse_errors = {k: list(v) for k, v in item.errors.items()}
    return item


def _status_ref(item: _Item, field: str, value: Any) -> Any:
    """A status reference: an int id or a lower-cased title; _MISSING when unusable."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        item.error(field, _("Give a status title or id."))
        return _MISSING
    if isinstance(value, int):
        return value
    value = value.strip()
    if value.isdecimal() and value.isascii():
        return int(value)
    return value.lower()


# --------------------------------------------------------------------------- the service


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
    parsed = [_parse(i, raw) for i, raw in enumerate(items)]
    try:
        return _with_retries(parsed, by=by)
    except (IntegrityError, OperationalError):
        raise
    except DatabaseError:
        # Validation should make this unreachable; if the database still refuses a value,
        # save the items one by one so only the offending ones are reported.
        logger.exception("ticket_bulk_upsert: the database refused the batch; saving items one by one")
        result = UpsertResult()
        for item in parsed:
            _reset(item)
            try:
                result.merge(_with_retries([item], by=by))
            except DatabaseError as exc:
                _reset(item)
                item.error("non_field_errors", _("The database refused this item: %(e)s") % {"e": str(exc).strip()[:300]})
                result.created_errors.append(_error(item))
        result.created_errors.sort(key=lambda e: e.index)
        result.updated_errors.sort(key=lambda e: e.index)
        return result


def _with_retries(items: list[_Item], *, by: Any) -> UpsertResult:
    for attempt in range(1, _RETRIES + 1):
        try:
            with transaction.atomic():
                return _upsert(items, by=by)
        except (IntegrityError, OperationalError) as exc:
            # A concurrent request won a race (a key, a user, a tag, a domain) or a deadlock
            # was broken; everything rolled back, so starting again sees its rows.
            if attempt == _RETRIES:
                raise
            logger.info("ticket_bulk_upsert: retrying after %r", exc)
            for item in items:
                _reset(item)
    raise AssertionError("unreachable")


def _reset(item: _Item) -> None:
    """Forget what an item resolved to (keep what it asked for), before a retry."""
    fresh = _Item(index=item.index)
    for name in ("existing", "department", "status", "client", "client_plan", "requester", "assignee", "history_rows"):
        setattr(item, name, getattr(fresh, name))
    item.errors = {k: list(v) for k, v in item.parse_errors.items()}


def _error(item: _Item) -> ItemError:
    message = "; ".join(
        " ".join(v) if k == "non_field_errors" else f"{k}: {' '.join(v)}" for k, v in item.errors.items()
    )
    return ItemError(index=item.index, source_id=item.source_id, message=message, fields=dict(item.errors))


def _upsert(items: list[_Item], *, by: Any) -> UpsertResult:
    now = timezone.now()
    existing = _lock_existing(items)
    _match_tickets(items, existing)
    _check_duplicates(items)
    # Items with errors are checked on too, so that each reports all its problems at once.
    objects = [i for i in items if i.is_object]
    statuses = _resolve_reference_data(objects)
    _resolve_clients_and_users(objects)
    valid = [i for i in items if not i.errors]

    _create_clients(valid)
    _create_users(valid)
    tags = {t.name.lower(): t for t in tags_get_or_create(sorted({t for i in valid for t in i.tags or ()}, key=str.lower))}
    created_ids = _write_tickets(valid, statuses=statuses, by=by, now=now)
    _write_tags(valid, tags)
    _write_assignees(valid)
    _write_history(valid, created_ids)

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
    if new_tickets:
        def send() -> None:
            for ticket in new_tickets:
                signals.ticket_created.send(sender=Ticket, ticket=ticket, by=by, silent=True)

        transaction.on_commit(send)
    return result


# --------------------------------------------------------------------------- resolving


def _key_filter(keys: Iterable[tuple[str, str]]) -> Q:
    """Tickets with any of ``keys``, one ``IN`` per source (not one OR per key)."""
    by_source: dict[str, list[str]] = defaultdict(list)
    for source, source_id in keys:
        by_source[source].append(source_id)
    q = Q(pk__in=[])
    for source, ids in by_source.items():
        q |= Q(external_source=source, external_id__in=ids)
    return q


def _lock_existing(items: list[_Item]) -> dict[Any, Ticket]:
    """The tickets the items name (by id and by key), locked until commit, in id order."""
    ids = {i.ticket_id for i in items if i.ticket_id is not None}
    keys = {i.key for i in items if i.key is not None}
    if not ids and not keys:
        return {}
    found: dict[Any, Ticket] = {}
    query = Ticket.objects.filter(Q(pk__in=ids) | _key_filter(keys)).order_by("pk").select_for_update()
    for ticket in query:
        found[ticket.pk] = ticket
        if ticket.external_id is not None:
            found[(ticket.external_source, ticket.external_id)] = ticket
    return found


def _match_tickets(items: list[_Item], existing: dict[Any, Ticket]) -> None:
    for item in items:
        if not item.is_object:
            continue
        if item.ticket_id is not None:
            item.existing = existing.get(item.ticket_id)
            if item.existing is None:
                item.error("_id", _("No ticket has this id."))
                continue
            # An _id item may also set or change the ticket's external key.
            if item.source_id is not None:
                other = existing.get(item.key)
                if other is not None and other.pk != item.existing.pk:
                    item.error("sourceId", _("Ticket %(id)d already has this source and sourceId.") % {"id": other.pk})
        else:
            item.existing = existing.get(item.key)


def _check_duplicates(items: list[_Item]) -> None:
    """Two items for one ticket in a request: the later ones are reported, not guessed at."""
    seen: dict[Any, int] = {}
    for item in items:
        if item.errors:
            continue
        ident = item.existing.pk if item.existing is not None else item.key
        if ident in seen:
            item.error("sourceId" if item.ticket_id is None else "_id",
                       _("Item %(n)d of this request is for the same ticket.") % {"n": seen[ident]})
        else:
            seen[ident] = item.index


def _resolve_reference_data(items: list[_Item]) -> dict[int, TicketStatus]:
    """Statuses (by id, title or alias), departments, and what a new ticket must have."""
    statuses = list(TicketStatus.objects.all())
    by_id = {s.pk: s for s in statuses}
    by_title = {s.title.lower(): s for s in statuses}
    for alias, title in helpdesk_settings.UPSERT_STATUS_ALIASES.items():
        if title.lower() in by_title:
            by_title.setdefault(alias.lower(), by_title[title.lower()])

    department_ids = {i.department_id for i in items if i.department_id is not _MISSING}
    departments = {d.pk: d for d in Department.objects.filter(Q(pk__in=department_ids) | Q(is_default=True))}
    default_department = next((d for d in departments.values() if d.is_default), None)
    default_status = by_id.get(helpdesk_settings.DEFAULT_STATUS_ID)

    def status(ref: Any) -> TicketStatus | None:
        return by_id.get(ref) if isinstance(ref, int) else by_title.get(ref)

    for item in items:
        new = item.existing is None and not item.by_id
        if new and not isinstance(item.email, str) and "email" not in item.errors:
            item.error("email", _("This field is required to create a ticket."))
        if item.status_ref is not _MISSING:
            item.status = status(item.status_ref)
            if item.status is None:
                item.error("status", _("Unknown status %(s)r. Use one of: %(all)s.") % {
                    "s": _shown(item.status_ref), "all": ", ".join(s.title for s in statuses)})
        if item.history is not None:
            rows = []
            for ref, at in item.history:
                found = status(ref)
                if found is None:
                    item.error("history", _("Unknown status %(s)r.") % {"s": _shown(ref)})
                else:
                    rows.append((found, at))
            rows.sort(key=lambda r: r[1])
            # A run of the same status is one stay in it: keep when it was entered.
            item.history_rows = [r for n, r in enumerate(rows) if n == 0 or rows[n - 1][0].pk != r[0].pk]
        if item.department_id is not _MISSING:
            item.department = departments.get(item.department_id)
            if item.department is None:
                item.error("departmentId", _("No department has this id."))
        elif new:
            item.department = default_department
            if item.department is None:
                item.error("departmentId", _("Give departmentId: no department is marked default."))
        if new and item.status is None and not item.history_rows and default_status is None:
            item.error("status", _("Give a status: the default status does not exist."))
        if new and item.status is None:
            item.status = item.history_rows[-1][0] if item.history_rows else default_status
    return by_id


def _resolve_clients_and_users(items: list[_Item]) -> None:
    """Requesters and agents by email; the client by the first match of companyId,
    companyExternalId, domains[], the email's domain, the requester's contact."""
    user_model = get_user_model()
    email_field = user_model.get_email_field_name()
    emails = {i.email for i in items if isinstance(i.email, str)} | {i.agent_email for i in items if i.agent_email}
    users: dict[str, Any] = {}
    if emails:
        # Several users may share an address: the oldest one is the person.
        for user in (
            user_model.objects.annotate(_email=Lower(email_field)).filter(_email__in=emails).order_by("-pk")
        ):
            users[user._email] = user
    contacts = dict(
        Contact.objects.filter(user_id__in=[u.pk for u in users.values()]).values_list("user_id", "client_id")
    )

    refs: set[str] = set()
    domains: set[str] = set()
    for item in items:
        refs.update(r for r in (item.company_id, item.company_external_id) if r)
        domains.update(item.domains)
        if item.email_domain:
            domains.add(item.email_domain)
    numeric = {n for n in map(_id, refs) if n is not None}
    clients_by_id = {c.pk: c for c in Client.objects.filter(Q(pk__in=numeric) | Q(pk__in=set(contacts.values())))}
    clients_by_ext = {c.external_id: c for c in Client.objects.filter(external_id__in=refs)} if refs else {}
    clients_by_domain = (
        {d.domain: d.client for d in ClientDomain.objects.filter(domain__in=refs | domains).select_related("client")}
        if refs or domains else {}
    )
    default_client = None
    if helpdesk_settings.UPSERT_DEFAULT_CLIENT_ID is not None:
        default_client = Client.objects.filter(pk=helpdesk_settings.UPSERT_DEFAULT_CLIENT_ID).first()
    free = {d.lower() for d in helpdesk_settings.UPSERT_FREE_EMAIL_DOMAINS}

    def lookup(ref: str) -> Client | None:
        if _id(ref) in clients_by_id:
            return clients_by_id[_id(ref)]
        return clients_by_ext.get(ref) or clients_by_domain.get(ref.lower())

    for item in items:
        if isinstance(item.email, str):
            item.requester = users.get(item.email)
        if item.agent_email:
            item.assignee = users.get(item.agent_email)
            if not is_agent(item.assignee):
                item.error("agentEmail", _("No active staff user has this email."))

        company_given = bool(item.company_id or item.company_external_id or item.domains)
        if item.by_id and item.existing is None:
            continue  # an unknown _id: reported already, never created
        if item.existing is not None and not company_given and not isinstance(item.email, str):
            continue  # nothing says the client changed
        for ref in (item.company_id, item.company_external_id, *item.domains, item.email_domain):
            if ref and (client := lookup(ref)) is not None:
                item.client = client
                break
        else:
            contact_client = contacts.get(item.requester.pk) if item.requester is not None else None
            if contact_client is not None:
                item.client = clients_by_id[contact_client]
            elif item.existing is not None:
                pass  # an update keeps its client rather than guessing a new one
            elif helpdesk_settings.UPSERT_CREATE_CLIENTS and item.company_external_id:
                item.client_plan = ("external_id", item.company_external_id)
            elif helpdesk_settings.UPSERT_CREATE_CLIENTS and item.domains:
                item.client_plan = ("domain", item.domains[0])
            elif helpdesk_settings.UPSERT_CREATE_CLIENTS and item.email_domain and item.email_domain not in free:
                item.client_plan = ("domain", item.email_domain)
            elif default_client is not None:
                item.client = default_client
            elif "email" not in item.errors:
                item.error("companyId", _(
                    "No client matches companyId, companyExternalId, domains or the email's domain; "
                    "give companyExternalId or domains to create one."
                ))


# --------------------------------------------------------------------------- writing


def _create_clients(items: list[_Item]) -> None:
    """Clients that items asked for and that do not exist yet, race-safely."""
    plans: dict[tuple[str, str], list[_Item]] = defaultdict(list)
    for item in items:
        if item.client_plan:
            plans[item.client_plan].append(item)
    if not plans:
        return
    free = {d.lower() for d in helpdesk_settings.UPSERT_FREE_EMAIL_DOMAINS}
    domains_of = {
        plan: sorted({d for i in group for d in (i.domains or [i.email_domain]) if d and d not in free} | (
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
    if by_domain:
        made = Client.objects.bulk_create([Client(name=p[1]) for p in by_domain])
        for plan, client in zip(by_domain, made):
            for item in plans[plan]:
                item.client = client
    rows = sorted({(d, item.client.pk) for plan, group in plans.items() for item in group[:1] for d in domains_of[plan]})
    ClientDomain.objects.bulk_create([ClientDomain(domain=d, client_id=c) for d, c in rows], ignore_conflicts=True)
    if by_domain:
        # A concurrent request may have claimed a domain first: its client wins, ours goes.
        owners = {d.domain: d.client for d in ClientDomain.objects.filter(domain__in=[p[1] for p in by_domain]).select_related("client")}
        orphans = []
        for plan in by_domain:
            winner = owners[plan[1]]
            for item in plans[plan]:
                if item.client.pk != winner.pk:
                    orphans.append(item.client.pk)
                    item.client = winner
        if orphans:
            Client.objects.filter(pk__in=set(orphans)).delete()


def _create_users(items: list[_Item]) -> None:
    """Requesters that have no user yet (no usable password), and their contact rows."""
    user_model = get_user_model()
    username_field = user_model.USERNAME_FIELD
    email_field = user_model.get_email_field_name()
    max_username = user_model._meta.get_field(username_field).max_length or 150
    missing: dict[str, _Item] = {}
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
            assignments = ", ".join(f"{qn(column_of[f])} = s.{qn(column_of[f])}" for f in _UPDATE_FIELDS)
            cursor.execute(f"UPDATE {table} AS t SET {assignments} FROM hd_sync_ticket AS s WHERE t.id = s.id")
        if creates:
            cols = [qn(column_of[f.name]) for f in _TICKET_FIELDS]
            on_conflict = ", ".join(f"{qn(column_of[f])} = EXCLUDED.{qn(column_of[f])}" for f in _NEW_CONFLICT_UPDATE_FIELDS)
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(cols)}) "
                f"SELECT {', '.join(cols)} FROM hd_sync_ticket WHERE id IS NULL "
                f"ORDER BY external_source, external_id "
                f"ON CONFLICT (external_source, external_id) DO UPDATE SET {on_conflict} "
                f"RETURNING id, external_source, external_id, (xmax = 0)"
            )
            for pk, source, source_id, inserted in cursor.fetchall():
                result[(source, source_id)] = (pk, inserted)
    return result


def _apply(item: _Item, ticket: Ticket, *, statuses: dict[int, TicketStatus], now: datetime.datetime, by: Any) -> None:
    """Set a ticket's fields from an item, and queue its status history in ``item.history_rows``
    as (from, to, at, by) rows, so that the ticket's status, ``status_changed_at`` and
    ``closed_at`` agree with its history."""
    new = ticket._state.adding
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


def _write_tickets(
    items: list[_Item], *, statuses: dict[int, TicketStatus], by: Any, now: datetime.datetime
) -> set[int]:
    """Write the tickets (matched ones updated, new keys upserted); returns the ids created."""
    updates = sorted((i for i in items if i.existing is not None), key=lambda i: i.existing.pk)
    creates = sorted((i for i in items if i.existing is None), key=lambda i: i.key)
    creator_id = getattr(by, "pk", None)
    for item in updates:
        _apply(item, item.existing, statuses=statuses, now=now, by=by)
    for item in creates:
        ticket = Ticket(subject="", message="", priority=Priority.NORMAL, channel=Channel.API, creator_id=creator_id)
        _apply(item, ticket, statuses=statuses, now=now, by=by)
        item.existing = ticket
    if connection.vendor == "postgresql":
        written = _pg_write_tickets([i.existing for i in updates], [i.existing for i in creates])
        created = set()
        for item in creates:
            pk, inserted = written[item.key]
            item.existing.pk = pk
            item.existing._state.adding = False
            if inserted:
                created.add(pk)
        return created
    # SQLite & co: Django's upserts. SQLite runs one writer at a time, so the lookup
    # before the insert was exact: every key we did not find is one we create.
    if updates:
        Ticket.objects.bulk_create(
            [i.existing for i in updates], update_conflicts=True, unique_fields=["id"], update_fields=_UPDATE_FIELDS
        )
    if creates:
        Ticket.objects.bulk_create(
            [i.existing for i in creates],
            update_conflicts=True,
            unique_fields=["external_source", "external_id"],
            update_fields=_NEW_CONFLICT_UPDATE_FIELDS,
        )
    return {i.existing.pk for i in creates}


def _replace_m2m(through: Any, column: str, wanted: dict[int, set[int]]) -> None:
    """Make each ticket's rows in ``through`` exactly ``wanted[ticket_id]``: three queries."""
    if not wanted:
        return
    have: dict[int, dict[int, int]] = defaultdict(dict)
    for pk, ticket_id, other in through.objects.filter(ticket_id__in=wanted).values_list("pk", "ticket_id", column):
        have[ticket_id][other] = pk
    stale = [pk for t, rows in have.items() for other, pk in rows.items() if other not in wanted[t]]
    if stale:
        through.objects.filter(pk__in=stale).delete()
    _insert_rows(through, ["ticket_id", column],
                 sorted((t, o) for t, others in wanted.items() for o in others if o not in have[t]))


def _write_tags(items: list[_Item], tags: dict[str, Any]) -> None:
    _replace_m2m(
        Ticket.tags.through, "tag_id",
        {i.existing.pk: {tags[t.lower()].pk for t in i.tags} for i in items if i.tags is not None},
    )


def _write_assignees(items: list[_Item]) -> None:
    _replace_m2m(
        Ticket.assignees.through, "user_id",
        {i.existing.pk: ({i.assignee.pk} if i.assignee else set()) for i in items if i.agent_email is not _MISSING},
    )


def _write_history(items: list[_Item], created_ids: set[int]) -> None:
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
