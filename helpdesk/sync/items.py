"""Reading one item of a bulk upsert: its shape and types, checked without the database."""

from __future__ import annotations

import dataclasses
import datetime
import functools
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from ..domains import email_domain
from ..limits import MAX_DOMAINS, MAX_HISTORY_ENTRIES, MAX_TEXT_LENGTH, parse_id
from ..models import Client, Department, Ticket, TicketStatus
from ..services import _clean_priority, _clean_time_spent, clean_tag_names


class _Missing:
    """A field the payload did not send (as opposed to one it sent as null)."""

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()
_FIELD = {f: Ticket._meta.get_field(f) for f in ("subject", "type", "severity", "product", "external_url")}
_SOURCE_MAX = Ticket._meta.get_field("external_source").max_length
_SOURCE_ID_MAX = Ticket._meta.get_field("external_id").max_length
_CLIENT_EXT_MAX = Client._meta.get_field("external_id").max_length
_DOMAIN_RE = re.compile(r"^[\w-]+(\.[\w-]+)+$")
_SPACE_RE = re.compile(r"\s")

#: The fields an item may have (API.md, "Bulk upsert"); any other is reported.
FIELDS = (
    "_id", "source", "sourceId", "email", "name", "companyId", "companyExternalId", "domains", "title",
    "description", "url", "tags", "type", "severity", "product", "timeSpent", "status", "history",
    "createdAt", "updatedAt", "agentEmail", "priority", "departmentId",
)


@dataclasses.dataclass(eq=False)
class Item:
    """One payload item: what it asks for (parsed), then what it resolved to."""

    index: int
    errors: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    parse_errors: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    ticket_id: int | None = None
    source: str | None = None
    source_id: str | None = None
    values: dict[str, Any] = dataclasses.field(default_factory=dict)  # Ticket field -> value
    email: Any = MISSING  # lower-cased, or MISSING
    name: str = ""
    agent_email: Any = MISSING  # None clears the assignees
    company_id: str | None = None
    company_external_id: str | None = None
    domains: list[str] = dataclasses.field(default_factory=list)
    status_ref: Any = MISSING
    history: list[tuple[Any, datetime.datetime]] | None = None
    tags: list[str] | None = None
    department_id: Any = MISSING
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
    #: Whether the item named its source: without one, sourceId alone may match a ticket.
    source_given: bool = True
    sent_source: str = ""
    by_id: bool = False  # it named a ticket by _id: an update
    is_object: bool = True

    @property
    def email_domain(self) -> str | None:
        return email_domain(self.email) if isinstance(self.email, str) else None


def _text(item: Item, raw: dict, name: str, *, max_length: int | None = None) -> Any:
    """A string field of the payload: MISSING when absent, "" for null."""
    if name not in raw:
        return MISSING
    value = raw[name]
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        item.error(name, _("Enter a string."))
        return MISSING
    value = str(value)
    if not _storable(value):
        item.error(name, _("Null characters and unpaired surrogates are not allowed."))
        return MISSING
    if max_length is not None and len(value) > max_length:
        item.error(name, _("At most %(n)d characters.") % {"n": max_length})
        return MISSING
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


def shown(text: Any) -> str:
    """User input quoted in a message, safe to render as UTF-8."""
    return str(text)[:60].encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def _datetime(item: Item, field: str, value: Any) -> datetime.datetime | None:
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
        and not _SPACE_RE.search(url)
    )


@functools.lru_cache(maxsize=4096)
def _valid_email(value: str) -> bool:
    """Django's email validator, remembered: a sync repeats the same requesters."""
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def parse_item(index: int, raw: Any) -> Item:
    """Check an item's shape and types; needs no database."""
    item = Item(index=index)
    if not isinstance(raw, dict):
        item.is_object = False
        item.error("non_field_errors", _("Each item must be a JSON object."))
        return item

    unknown = sorted(shown(k) for k in raw if k not in FIELDS)
    if unknown:
        # A misspelt field would otherwise be lost without a word.
        item.error("non_field_errors", _("Unknown field(s): %(names)s. Known: %(known)s.") % {
            "names": ", ".join(unknown[:10]), "known": ", ".join(FIELDS)})
    if raw.get("_id") not in (None, ""):
        item.by_id = True
        item.ticket_id = parse_id(raw["_id"])
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
    item.source = source.strip() if source is not MISSING else ""
    item.sent_source = item.source
    item.source_given = bool(item.source)
    if item.source_id is not None:
        item.key = (item.source, item.source_id)
    if item.ticket_id is None and item.source_id is None and "_id" not in item.errors and "sourceId" not in item.errors:
        item.error("sourceId", _("Give sourceId (or _id to update one of our tickets)."))

    for name, field in (("title", "subject"), ("type", "type"), ("severity", "severity"), ("product", "product")):
        value = _text(item, raw, name, max_length=_FIELD[field].max_length)
        if value is not MISSING:
            item.values[field] = value.strip() if field == "subject" else value
    description = _text(item, raw, "description", max_length=MAX_TEXT_LENGTH)
    if description is not MISSING:
        item.values["message"] = description
    url = _text(item, raw, "url", max_length=_FIELD["external_url"].max_length)
    if url:
        if _valid_url(url.strip()):
            item.values["external_url"] = url.strip()
        else:
            item.error("url", _("Enter a valid URL."))
    elif url is not MISSING:
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
    if agent_email is not MISSING:
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
        elif len(domains) > MAX_DOMAINS:
            item.error("domains", _("At most %(n)d domains.") % {"n": MAX_DOMAINS})
        else:
            for domain in domains:
                domain = domain.strip().lower().lstrip("@")
                if not domain:
                    continue
                if len(domain) > 253 or not _DOMAIN_RE.match(domain) or not _storable(domain):
                    item.error("domains", _("%(d)s is not a domain name.") % {"d": shown(domain)})
                elif domain not in item.domains:
                    item.domains.append(domain)

    if raw.get("status") is not None:
        item.status_ref = _status_ref(item, "status", raw["status"])
    history = raw.get("history")
    if history is not None:
        if not isinstance(history, list):
            item.error("history", _("Enter a list of {status, time} objects."))
        elif len(history) > MAX_HISTORY_ENTRIES:
            item.error("history", _("At most %(n)d history entries.") % {"n": MAX_HISTORY_ENTRIES})
        else:
            item.history = []
            for n, entry in enumerate(history):
                if not isinstance(entry, dict) or entry.get("status") in (None, "") or entry.get("time") in (None, ""):
                    item.error("history", _("Entry %(n)d: give status and time.") % {"n": n})
                    continue
                ref = _status_ref(item, "history", entry["status"])
                at = _datetime(item, "history", entry["time"])
                if ref is not MISSING and at is not None:
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
        item.department_id = parse_id(raw["departmentId"])
        if item.department_id is None:
            item.error("departmentId", _("Enter a department id."))
    for name in ("createdAt", "updatedAt"):
        if raw.get(name) not in (None, ""):
            setattr(item, "created_at" if name == "createdAt" else "updated_at", _datetime(item, name, raw[name]))
    if item.created_at and item.updated_at and item.updated_at < item.created_at:
        item.error("updatedAt", _("updatedAt is before createdAt."))
    item.parse_errors = {k: list(v) for k, v in item.errors.items()}
    return item


def _status_ref(item: Item, field: str, value: Any) -> Any:
    """A status reference: an int id or a title; MISSING when unusable."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        item.error(field, _("Give a status title or id."))
        return MISSING
    if isinstance(value, int):
        return value
    value = value.strip()
    if value.isdecimal() and value.isascii():
        pk = parse_id(value)
        if pk is None:
            # Digits too many for an id (or an id of 0): never a new status's title.
            item.error(field, _("No status has this id."))
            return MISSING
        return pk
    if not _storable(value):
        item.error(field, _("Null characters and unpaired surrogates are not allowed."))
        return MISSING
    return value  # a title as sent: matched case-insensitively, kept as sent when created
