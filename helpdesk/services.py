"""Every write with a rule behind it: tickets, their status and history, tags, replies.

The API, the admin and the management commands all call these functions, so the rules
(dates, counters, history, project belongs to client, custom fields) live here only.
Each function is keyword-only, atomic, and raises ``django.core.exceptions.ValidationError``
(keyed by model field name, or by custom field key) before it writes anything.
Signals and notifications go out after the transaction commits, unless ``silent``.

Inside a caller's transaction, ``ticket_create`` and ``reply_post`` (the API's hot writes)
take no savepoint of their own (``atomic(savepoint=False)``). Their checks run before that
block, so a ``ValidationError`` (or a refused permission) leaves the caller's transaction
as it was; an error in their writes (a database error) undoes the caller's whole
transaction, and a caller that goes on after one wraps the call in its own
``transaction.atomic()``, Django's idiom (the dialects, the admin and mail ingest do).
"""

from __future__ import annotations

import datetime
import decimal
import json
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, F, Max, Q, Value
from django.db.models.functions import Coalesce, Greatest, Least, Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from . import refcache, signals, sla
from .conf import helpdesk_settings
from .custom_fields import clean_custom_fields
from .domains import client_for_email
from .limits import MAX_ASSIGNEES, MAX_METADATA_LENGTH, MAX_TAGS, MAX_TEXT_LENGTH
from .events import webhooks
from .events.notifications import notify_on_commit
from .models import (
    ActiveState,
    Channel,
    Client,
    Contact,
    Department,
    Priority,
    Project,
    Reply,
    ReplyType,
    StatusChange,
    Tag,
    Ticket,
    TicketStatus,
)
from . import permissions
from .permissions import can_add_note, can_use_department, is_agent

TAG_MAX_LENGTH = Tag._meta.get_field("name").max_length


def _require(by: Any, allowed: Any, ticket: Ticket | None, permission: str) -> None:
    """Refuse a write by a staff user ``helpdesk.permissions`` does not allow (Django's
    ``PermissionDenied``: 403 in the API and the admin), so that every caller (a dialect,
    a command, a host site's view) gets the one permission model. Contacts and the system
    (``by=None``) are not checked here: what a contact may do is each endpoint's rule."""
    if by is None or not getattr(by, "is_staff", False):
        return
    if not allowed(by, ticket):
        raise PermissionDenied(_("This needs the permission: %(perm)s.") % {"perm": permission})


def _notify(event: str, *args: Any) -> None:
    getattr(helpdesk_settings.NOTIFIER(), event)(*args)


def _after_commit(silent: bool, event: str, signal: Any, sender: type, notify_args: tuple, **kwargs: Any) -> None:
    """After commit: the signal in-process (an extension point), the notification to
    people as a task (``helpdesk.events.notifications``), unless ``silent``."""

    def send() -> None:
        signal.send(sender=sender, silent=silent, **kwargs)

    # Robust: the write has committed by now, so a failing receiver must not turn it into
    # an error response (the caller would retry and write it twice). Django logs the
    # exception on the ``django.db.backends.base`` logger.
    transaction.on_commit(send, robust=True)
    if not silent:
        notify_on_commit(event, **_notify_ids(event, notify_args))


def _notify_ids(event: str, notify_args: tuple) -> dict[str, int]:
    if event == "reply_posted":
        return {"reply_id": notify_args[0].pk}
    if event == "ticket_status_changed":
        return {"ticket_id": notify_args[0].pk, "change_id": notify_args[1].pk}
    return {"ticket_id": notify_args[0].pk}


def _configured_status(setting: str) -> TicketStatus:
    """The status a setting names; a deleted status is a configuration error, said plainly."""
    status_id = getattr(helpdesk_settings, setting)
    try:
        return refcache.get("statuses")[int(status_id)]
    except (KeyError, ValueError, TypeError):
        raise ImproperlyConfigured(f"HELPDESK {setting} is {status_id!r}, which is not a status id.") from None


def _check_project(project: Project | None, client: Client | None) -> None:
    if project is not None and client is not None and project.client_id != client.pk:
        raise ValidationError({"project": [_("This project does not belong to the ticket's client.")]})


def _clean_priority(priority: Any) -> int:
    if isinstance(priority, str) and not priority.strip().isdigit():
        try:
            return Priority.from_slug(priority)
        except ValueError:
            pass
    elif isinstance(priority, (int, str)) and not isinstance(priority, bool):
        # Only whole numbers and their strings: int() would turn True into 1 and 2.7 into 2.
        try:
            return Priority(int(priority))
        except (TypeError, ValueError):
            pass
    raise ValidationError({"priority": [_("Use one of: normal, high, urgent.")]})


def _clean_text(field: str, value: Any, *, max_length: int | None = None, required: bool = True) -> str:
    text = "" if value is None else str(value)
    if required and not text.strip():
        raise ValidationError({field: [_("This field is required.")]})
    if max_length is not None and len(text) > max_length:
        raise ValidationError({field: [_("At most %(n)d characters.") % {"n": max_length}]})
    return text


def _clean_metadata(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError({"metadata": [_("Send metadata as an object.")]})
    try:
        size = len(json.dumps(value, cls=DjangoJSONEncoder))
    except (TypeError, ValueError):
        raise ValidationError({"metadata": [_("Metadata must be JSON: objects, lists, strings, numbers.")]}) from None
    if size > MAX_METADATA_LENGTH:
        raise ValidationError({"metadata": [_("At most %(n)d characters of JSON.") % {"n": MAX_METADATA_LENGTH}]})
    return dict(value)


def _clean_time_spent(value: Any) -> decimal.Decimal:
    try:
        minutes = decimal.Decimal(str(value))
    except decimal.InvalidOperation:
        raise ValidationError({"time_spent": [_("Enter a number of minutes.")]}) from None
    if not minutes.is_finite() or minutes < 0 or minutes >= 10**8:
        raise ValidationError({"time_spent": [_("Enter a number of minutes from 0 to 99999999.")]})
    return minutes.quantize(decimal.Decimal("0.01"))


def _record_status(
    ticket: Ticket, *, from_status: TicketStatus | None, to_status: TicketStatus, by: Any, at: datetime.datetime
) -> StatusChange:
    return StatusChange.objects.create(
        ticket=ticket, from_status=from_status, to_status=to_status, changed_at=at, changed_by=by
    )


def clean_tag_names(names: Iterable[Any]) -> list[str]:
    """Strip and de-duplicate (case-insensitively) tag names; blanks are ignored.

    A single string is one tag name (never iterated into characters).
    """
    if isinstance(names, str):
        names = [names]
    result: dict[str, str] = {}
    errors = []
    for raw in names:
        name = str(raw).strip()
        if not name:
            continue
        if len(name) > TAG_MAX_LENGTH:
            errors.append(_("Tag %(name)r is longer than %(n)d characters.") % {"name": name[:20] + "…", "n": TAG_MAX_LENGTH})
            continue
        result.setdefault(name.lower(), name)
    if len(result) > MAX_TAGS:
        errors.append(_("At most %(n)d tags per ticket; got %(got)d.") % {"n": MAX_TAGS, "got": len(result)})
    if errors:
        raise ValidationError({"tags": errors})
    return list(result.values())


def tags_get_or_create(names: Iterable[str]) -> list[Tag]:
    """The Tag rows for ``names`` (already clean), creating the missing ones race-safely."""
    names = list(names)
    if not names:
        return []
    wanted = {n.lower(): n for n in names}

    def lookup() -> dict[str, Tag]:
        # The database's LOWER() may differ from Python's (SQLite folds ASCII only), so
        # exact names are matched too and the result is keyed by Python's lower().
        rows = Tag.objects.annotate(lname=Lower("name")).filter(Q(lname__in=wanted) | Q(name__in=wanted.values()))
        return {t.name.lower(): t for t in rows}

    found = lookup()
    missing = [Tag(name=n) for low, n in wanted.items() if low not in found]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        found = lookup()
    return [found[low] for low in wanted]


def _check_assignees(users: Iterable[Any]) -> list[Any]:
    users = list(dict.fromkeys(users))
    if len(users) > MAX_ASSIGNEES:
        raise ValidationError({"assignees": [_("At most %(n)d assignees per ticket.") % {"n": MAX_ASSIGNEES}]})
    not_agents = [str(u) for u in users if not is_agent(u)]
    if not_agents:
        raise ValidationError({"assignees": [_("Only active staff can be assigned: %(u)s.") % {"u": ", ".join(not_agents)}]})
    return users


@transaction.atomic
def requester_for_email(
    *, email: Any, name: str = "", client: Client | None = None, create_client: bool | None = None
) -> tuple[Any, Client | None]:
    """The person behind an email address, as the sync, the dialects and mail ingest find
    them: ``(user, client)``.

    The user is the oldest one with that address (case-insensitive), else a new user
    (username = the address, no usable password). The client is, in order: the user's
    contact client, ``client`` if given, the client of the address's domain by the rule of
    ``helpdesk.domains`` (the sync's too), made with ``create_client`` (by default
    ``UPSERT_CREATE_CLIENTS``) when none owns it; else ``None``. A non-staff user found a
    client becomes its contact. Raises ``ValidationError`` ({"email": ...}) for an invalid address.
    """
    if not isinstance(email, str):
        raise ValidationError({"email": [_("Enter a valid email address.")]})
    email = email.strip()
    user_model = get_user_model()
    username_field = user_model.USERNAME_FIELD
    email_field = user_model.get_email_field_name()
    try:
        validate_email(email)
        if len(email) > (user_model._meta.get_field(email_field).max_length or 254):
            raise ValidationError("too long")
    except ValidationError:
        raise ValidationError({"email": [_("Enter a valid email address.")]}) from None
    max_username = user_model._meta.get_field(username_field).max_length or 150
    lowered = email.lower()

    def find() -> Any:
        by_email = user_model.objects.annotate(_email=Lower(email_field)).filter(_email=lowered).order_by("pk").first()
        return by_email or user_model.objects.filter(**{username_field: email[:max_username]}).first()

    user = find()
    if user is None:
        first, _sep, last = (name or "").strip().partition(" ")
        fields = {f.name for f in user_model._meta.get_fields()}
        new = user_model(**{username_field: email[:max_username], email_field: email})
        if "first_name" in fields:
            new.first_name, new.last_name = first[:150], last.strip()[:150]
        new.password = make_password(None)
        try:
            with transaction.atomic():
                new.save()
            user = new
        except IntegrityError:  # created meanwhile by a concurrent request
            user = find()
            if user is None:
                raise
    contact = Contact.objects.filter(user_id=user.pk).select_related("client").first()
    if contact is not None:
        return user, contact.client
    if client is None:
        if create_client is None:
            create_client = helpdesk_settings.UPSERT_CREATE_CLIENTS
        client = client_for_email(lowered, create=create_client)
    if client is not None and not user.is_staff:
        Contact.objects.get_or_create(user=user, defaults={"client": client})
    return user, client


#: The writes of ``ticket_create`` and ``reply_post``, after their checks: their own
#: transaction, or none inside a caller's (a ValidationError comes before it).
_atomic_no_savepoint = transaction.atomic(savepoint=False)


def ticket_create(
    *,
    subject: str,
    message: str,
    department: Department,
    client: Client,
    priority: Any = Priority.NORMAL,
    project: Project | None = None,
    creator: Any = None,
    requester: Any = None,
    channel: str = Channel.WEB,
    status: TicketStatus | None = None,
    assignees: Iterable[Any] = (),
    tags: Iterable[str] = (),
    custom_fields: Mapping[str, Any] | None = None,
    type: str = "",
    severity: str = "",
    product: str = "",
    time_spent: Any = 0,
    metadata: Mapping[str, Any] | None = None,
    silent: bool = False,
) -> Ticket:
    """Open a ticket: validates everything, records the first status, sends ``ticket_created``."""
    _require(creator, lambda user, _ticket: permissions.can_add_ticket(user), None, "helpdesk.add_ticket")
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    checks = [
        ("subject", lambda: _clean_text("subject", subject, max_length=255)),
        ("message", lambda: _clean_text("message", message, max_length=MAX_TEXT_LENGTH)),
        ("metadata", lambda: _clean_metadata(metadata)),
        ("priority", lambda: _clean_priority(priority)),
        ("time_spent", lambda: _clean_time_spent(time_spent)),
        ("tags", lambda: clean_tag_names(tags)),
        ("assignees", lambda: _check_assignees(assignees)),
        ("project", lambda: _check_project(project, client)),
        ("custom_fields", lambda: clean_custom_fields(custom_fields, partial=False)),
    ]
    for field, value in (("type", type), ("severity", severity), ("product", product)):
        max_length = Ticket._meta.get_field(field).max_length
        checks.append((field, lambda f=field, v=value, n=max_length: _clean_text(f, v, max_length=n, required=False)))
    for name, check in checks:
        try:
            cleaned[name] = check()
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(key, []).extend(messages)
    if department is None:
        errors.setdefault("department", []).append(_("This field is required."))
    elif not can_use_department(creator, department):
        errors.setdefault("department", []).append(_("You have no access to this department."))
    if client is None:
        errors.setdefault("client", []).append(_("This field is required."))
    if errors:
        raise ValidationError(errors)

    status = status or _configured_status("DEFAULT_STATUS_ID")
    with _atomic_no_savepoint:
        now = timezone.now()
        ticket = Ticket.objects.create(
            subject=cleaned["subject"],
            message=cleaned["message"],
            department=department,
            client=client,
            project=project,
            priority=cleaned["priority"],
            creator=creator,
            requester=requester,
            channel=channel,
            status=status,
            type=cleaned["type"],
            severity=cleaned["severity"],
            product=cleaned["product"],
            time_spent=cleaned["time_spent"],
            custom_fields=cleaned["custom_fields"],
            metadata=cleaned["metadata"],
            created_at=now,
            updated_at=now,
            status_changed_at=now,
            closed_at=now if status.is_closed else None,
        )
        _record_status(ticket, from_status=None, to_status=status, by=creator, at=now)
        _set_new_ticket_sla(ticket, at=now)
        # A new ticket has no links yet: insert them, no diff to read first. Their names and
        # ids stay on the instance, so the API's answer and the webhook need no re-read.
        tag_rows = tags_get_or_create(cleaned["tags"]) if cleaned["tags"] else []
        if tag_rows:
            Ticket.tags.through.objects.bulk_create(
                [Ticket.tags.through(ticket_id=ticket.pk, tag_id=t.pk) for t in tag_rows])
        if cleaned["assignees"]:
            Ticket.assignees.through.objects.bulk_create(
                [Ticket.assignees.through(ticket_id=ticket.pk, user_id=u.pk) for u in cleaned["assignees"]])
        # What the API's ticket object reads first (as its list query annotates them).
        ticket.tag_names = [t.name for t in tag_rows]
        ticket.assignee_id_list = [u.pk for u in cleaned["assignees"]]
        webhooks.emit("ticket.created", ticket_id=ticket.pk, data=lambda: webhooks.ticket_object(ticket))
        _after_commit(silent, "ticket_created", signals.ticket_created, Ticket, (ticket,), ticket=ticket, by=creator)
    return ticket


def _update_and_read(ticket: Ticket, updates: dict[str, Any], fields: list[str]) -> None:
    """``UPDATE`` the ticket's row with ``updates`` and read ``fields`` back onto the
    instance: one ``UPDATE … RETURNING`` on PostgreSQL and SQLite, else an update and a
    re-read."""
    from django.db import connections
    from django.db.models.sql import UpdateQuery

    using = Ticket.objects.db
    connection = connections[using]
    if connection.vendor not in ("postgresql", "sqlite"):
        Ticket.objects.filter(pk=ticket.pk).update(**updates)
        ticket.refresh_from_db(fields=fields)
        return
    query = UpdateQuery(Ticket)
    query.add_q(Q(pk=ticket.pk))
    query.add_update_values(updates)
    sql, params = query.get_compiler(using).as_sql()
    columns = [Ticket._meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    sql += " RETURNING " + ", ".join(quote(f.column) for f in columns)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:  # the ticket is gone: as refresh_from_db would
        raise Ticket.DoesNotExist
    for field, value in zip(columns, row):
        expression = field.get_col(Ticket._meta.db_table)
        for converter in connection.ops.get_db_converters(expression) + field.get_db_converters(connection):
            value = converter(value, expression, connection)
        setattr(ticket, field.attname, value)


#: Fields ``ticket_update`` may change, and how each is cleaned.
_UPDATABLE = {
    "subject", "message", "department", "client", "project", "priority", "requester",
    "type", "severity", "product", "time_spent", "custom_fields", "metadata",
}


@transaction.atomic
def ticket_update(*, ticket: Ticket, by: Any = None, silent: bool = False, **changes: Any) -> Ticket:
    """Edit a ticket's fields (any subset of ``_UPDATABLE``); status, tags, assignees
    and the active state have their own services. ``custom_fields`` is merged into the
    current values (a blank value removes a key; required ones cannot be blanked).

    Only the changed columns (and ``updated_at``) are written, so a stale ``ticket``
    instance never overwrites the counters, dates or status other services keep.
    """
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise TypeError(f"ticket_update() cannot change: {', '.join(sorted(unknown))}")
    _require(by, permissions.can_change_ticket, ticket, "helpdesk.change_ticket")
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}

    def attempt(field: str, fn: Any) -> None:
        try:
            values[field] = fn()
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(key, []).extend(messages)

    if "subject" in changes:
        attempt("subject", lambda: _clean_text("subject", changes["subject"], max_length=255))
    if "message" in changes:
        attempt("message", lambda: _clean_text("message", changes["message"], max_length=MAX_TEXT_LENGTH))
    if "priority" in changes:
        attempt("priority", lambda: _clean_priority(changes["priority"]))
    if "time_spent" in changes:
        attempt("time_spent", lambda: _clean_time_spent(changes["time_spent"]))
    for field in ("type", "severity", "product"):
        if field in changes:
            max_length = Ticket._meta.get_field(field).max_length
            attempt(field, lambda f=field, n=max_length: _clean_text(f, changes[f], max_length=n, required=False))
    for field in ("department", "client"):
        if field in changes:
            if changes[field] is None:
                errors.setdefault(field, []).append(_("This field is required."))
            elif field == "department" and not can_use_department(by, changes[field]):
                # A department-limited agent never moves a ticket out of their reach.
                errors.setdefault(field, []).append(_("You have no access to this department."))
            else:
                values[field] = changes[field]
    if "project" in changes:
        values["project"] = changes["project"]
    if "requester" in changes:
        values["requester"] = changes["requester"]
    if "metadata" in changes:
        attempt("metadata", lambda: _clean_metadata(changes["metadata"]))
    if "custom_fields" in changes:
        attempt(
            "custom_fields",
            lambda: clean_custom_fields(changes["custom_fields"], existing=ticket.custom_fields, partial=True),
        )
    if "project" in changes or "client" in changes:
        try:
            _check_project(values.get("project", ticket.project), values.get("client", ticket.client))
        except ValidationError as exc:
            errors.setdefault("project", []).extend(exc.message_dict["project"])
    if errors:
        # Nothing was assigned to ``ticket`` yet: the caller's instance stays as it was.
        raise ValidationError(errors)
    for field, value in values.items():
        setattr(ticket, field, value)
    ticket.updated_at = timezone.now()
    ticket.save(update_fields=[*values, "updated_at"])
    webhooks.emit("ticket.updated", ticket_id=ticket.pk)
    if {"priority", "department", "client"} & set(values):
        ticket_refresh_sla(ticket=ticket, at=ticket.updated_at)
    return ticket


@transaction.atomic
def ticket_change_status(
    *,
    ticket: Ticket,
    status: TicketStatus,
    by: Any = None,
    at: datetime.datetime | None = None,
    silent: bool = False,
) -> StatusChange | None:
    """Move a ticket to ``status``, recording history and the status/closed dates.

    Returns the new ``StatusChange``, or None when the ticket already had that status.
    The ticket row is locked, so concurrent changes each record their true ``from``.
    """
    if not isinstance(status, TicketStatus) or status.pk is None:
        raise ValidationError({"status": [_("Choose an existing status.")]})
    _require(by, permissions.can_change_ticket, ticket, "helpdesk.change_ticket")
    # The ticket row alone: with a join (select_related) PostgreSQL re-checks the joined
    # row after waiting for a concurrent change, finds the old status no longer matches,
    # and returns no row at all (a spurious DoesNotExist).
    current = Ticket.objects.select_for_update().only("status_id", "updated_at", *sla.TICKET_FIELDS).get(pk=ticket.pk)
    if current.status_id == status.pk:
        return None
    previous = refcache.get("statuses").get(current.status_id) or TicketStatus.objects.get(pk=current.status_id)
    at = at or timezone.now()
    change = _record_status(ticket, from_status=previous, to_status=status, by=by, at=at)
    fields = {"status": status, "status_changed_at": at, "updated_at": max(at, current.updated_at)}
    if status.is_closed and not previous.is_closed:
        fields["closed_at"] = at
    elif not status.is_closed:
        fields["closed_at"] = None
    # The SLA clock pauses while we wait on the customer and runs again when we do not.
    fields.update(sla.ticket_sla_fields(current, at=at, status_id=status.pk, closed=status.is_closed))
    Ticket.objects.filter(pk=ticket.pk).update(**fields)
    for name, value in fields.items():
        setattr(ticket, name, value)
    webhooks.emit("ticket.status_changed", ticket_id=ticket.pk,
                  extra={"previous_status": {"id": previous.pk, "title": previous.title}})
    _after_commit(
        silent, "ticket_status_changed", signals.ticket_status_changed, Ticket, (ticket, change),
        ticket=ticket, change=change, by=by,
    )
    return change


def _set_active_state(ticket: Ticket, state: str) -> Ticket:
    # Decided by the row, not by the (possibly stale) instance.
    now = timezone.now()
    if Ticket.objects.filter(pk=ticket.pk).exclude(active_state=state).update(active_state=state, updated_at=now):
        ticket.updated_at = now
        webhooks.emit("ticket.updated", ticket_id=ticket.pk)
    ticket.active_state = state
    return ticket


@transaction.atomic
def ticket_archive(*, ticket: Ticket, by: Any = None) -> Ticket:
    """Hide a ticket from the default lists; its data stays."""
    _require(by, permissions.can_archive_ticket, ticket, "helpdesk.archive_ticket")
    return _set_active_state(ticket, ActiveState.ARCHIVED)


@transaction.atomic
def ticket_restore(*, ticket: Ticket, by: Any = None) -> Ticket:
    _require(by, permissions.can_archive_ticket, ticket, "helpdesk.archive_ticket")
    return _set_active_state(ticket, ActiveState.ACTIVE)


@transaction.atomic
def ticket_set_tags(*, ticket: Ticket, tags: Iterable[Any], by: Any = None) -> list[Tag]:
    """Replace the ticket's tags with ``tags`` (names); unknown names are created, empty clears."""
    _require(by, permissions.can_change_ticket, ticket, "helpdesk.change_ticket")
    rows = tags_get_or_create(clean_tag_names(tags))
    ticket.tags.set(rows)
    ticket.updated_at = timezone.now()
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=ticket.updated_at)
    webhooks.emit("tags.changed", ticket_id=ticket.pk)
    return rows


@transaction.atomic
def ticket_add_tags(*, ticket: Ticket, tags: Iterable[Any], by: Any = None) -> list[Tag]:
    """Add ``tags`` to the ticket's tags, keeping the ones it has (at most ``MAX_TAGS`` in all)."""
    _require(by, permissions.can_change_ticket, ticket, "helpdesk.change_ticket")
    rows = tags_get_or_create(clean_tag_names(tags))
    have = set(Ticket.tags.through.objects.filter(ticket_id=ticket.pk).values_list("tag_id", flat=True))
    if len(have | {t.pk for t in rows}) > MAX_TAGS:
        raise ValidationError({"tags": [_("At most %(n)d tags per ticket.") % {"n": MAX_TAGS}]})
    ticket.tags.add(*rows)
    ticket.updated_at = timezone.now()
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=ticket.updated_at)
    webhooks.emit("tags.changed", ticket_id=ticket.pk)
    return rows


@transaction.atomic
def ticket_set_assignees(*, ticket: Ticket, assignees: Iterable[Any], by: Any = None) -> None:
    """Replace the ticket's assignees; each must be an active staff user."""
    _require(by, permissions.can_change_ticket, ticket, "helpdesk.change_ticket")
    users = _check_assignees(assignees)
    ticket.assignees.set(users)
    ticket.updated_at = timezone.now()
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=ticket.updated_at)
    webhooks.emit("ticket.updated", ticket_id=ticket.pk)


@transaction.atomic
def ticket_delete(*, ticket: Ticket, by: Any = None) -> None:
    """Remove a ticket for good, with its replies and history."""
    _require(by, permissions.can_delete_ticket, ticket, "helpdesk.delete_ticket")
    pk = ticket.pk
    # The row is locked before the event is written, so a concurrent change of the
    # ticket is recorded (and sent) before its deletion, never after.
    webhooks.emit("ticket.deleted", ticket_id=pk, data=lambda: (
        Ticket.objects.select_for_update().filter(pk=pk).exists() and webhooks.ticket_payload(pk)))
    ticket.delete()


def reply_post(
    *,
    ticket: Ticket,
    author: Any,
    text: str,
    type: str = ReplyType.REPLY,
    silent: bool = False,
    at: datetime.datetime | None = None,
    locked: bool = False,
) -> Reply:
    """Add a reply or an internal note and update the ticket's dates and counters.

    A public reply sets ``last_reply_at`` (and ``first_response_at`` on the first reply
    by an agent); a note only bumps ``updated_at``, so contacts learn nothing of notes.
    Only agents may write notes. ``locked``: the caller read ``ticket`` with
    ``select_for_update()`` in the current transaction (the API does, to read and lock
    it in one statement), so the service takes no lock of its own.
    """
    text = _clean_text("text", text, max_length=MAX_TEXT_LENGTH)
    if type not in ReplyType.values:
        raise ValidationError({"type": [_("Use reply or note.")]})
    agent = is_agent(author)
    if type == ReplyType.NOTE and not agent:
        raise ValidationError({"type": [_("Only agents can write internal notes.")]})
    if type == ReplyType.NOTE and not can_add_note(author, ticket):
        raise ValidationError({"type": [_("Writing internal notes needs the helpdesk.add_note permission.")]})
    if type == ReplyType.REPLY:
        _require(author, permissions.can_add_reply, ticket, "helpdesk.change_ticket and helpdesk.add_reply")
    with _atomic_no_savepoint:
        if at is None and not locked:
            # Lock the ticket first, then take the time: concurrent replies are dated in the
            # order they are written, and so are the status changes they cause.
            list(Ticket.objects.select_for_update().filter(pk=ticket.pk).values_list("pk", flat=True))
        if at is None:
            at = timezone.now()
        reply = Reply.objects.create(ticket=ticket, author=author, text=text, type=type, created_at=at)
        # A reply dated in the past (``at``, e.g. an import) never moves a date backwards
        # or forwards wrongly: last dates only grow, the first response only shrinks.
        # Coalesce because SQLite's MAX()/MIN() return NULL when any argument is NULL.
        stamp = Value(at, output_field=DateTimeField())
        updates: dict[str, Any] = {"updated_at": Greatest(F("updated_at"), stamp)}
        if type == ReplyType.NOTE:
            updates["notes_count"] = F("notes_count") + 1
        else:
            updates["replies_count"] = F("replies_count") + 1
            updates["last_reply_at"] = Greatest(Coalesce(F("last_reply_at"), stamp), stamp)
            if agent:
                updates["first_response_at"] = Least(Coalesce(F("first_response_at"), stamp), stamp)
        _update_and_read(ticket, updates, ["updated_at", "last_reply_at", "first_response_at", "replies_count", "notes_count"])
        if type == ReplyType.REPLY:
            setting = "STATUS_ON_AGENT_REPLY" if agent else "STATUS_ON_CONTACT_REPLY"
            if getattr(helpdesk_settings, setting) is not None:
                ticket_change_status(ticket=ticket, status=_configured_status(setting), by=author, at=at, silent=silent)
        webhooks.emit("reply.created", ticket_id=ticket.pk, data=lambda: webhooks.reply_payload(reply))
        _after_commit(silent, "reply_posted", signals.reply_posted, Reply, (reply,), reply=reply, ticket=ticket, by=author)
    return reply


@transaction.atomic
def reply_delete(*, reply: Reply, by: Any = None) -> None:
    """Delete a reply or note; the counters and ``last_reply_at`` follow.

    ``first_response_at`` is kept: it records when the customer was first answered.
    """
    if by is not None and getattr(by, "is_staff", False):
        _require(by, permissions.can_delete_reply, reply.ticket, "helpdesk.change_ticket and helpdesk.delete_reply")
    ticket_id = reply.ticket_id
    is_note = reply.is_note
    # Captured before the row goes; sent after the ticket's row is written (its order).
    payload = webhooks.reply_payload(reply) if webhooks.wanted("reply.deleted") else None
    reply.delete()
    updates: dict[str, Any] = {"updated_at": timezone.now()}
    if is_note:
        updates["notes_count"] = F("notes_count") - 1
    else:
        updates["replies_count"] = F("replies_count") - 1
        updates["last_reply_at"] = Reply.objects.filter(ticket_id=ticket_id, type=ReplyType.REPLY).aggregate(
            last=Max("created_at")
        )["last"]
    Ticket.objects.filter(pk=ticket_id).update(**updates)
    if payload is not None:
        webhooks.emit("reply.deleted", ticket_id=ticket_id, data=payload)


@transaction.atomic
def ticket_remove_tags(*, ticket: Ticket, tags: Iterable[Any], by: Any = None) -> list[Tag]:
    """Take ``tags`` (names, case-insensitive) off the ticket; names it lacks are ignored.
    Returns the tags removed; ``updated_at`` moves only when one was."""
    _require(by, permissions.can_change_ticket, ticket, "helpdesk.change_ticket")
    wanted = {name.lower() for name in clean_tag_names(tags)}
    rows = [tag for tag in Tag.objects.filter(tickets=ticket) if tag.name.lower() in wanted]
    if rows:
        ticket.tags.remove(*rows)
        ticket.updated_at = timezone.now()
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=ticket.updated_at)
    return rows


@transaction.atomic
def ticket_add_time_spent(*, ticket: Ticket, minutes: Any, by: Any = None) -> Ticket:
    """Add ``minutes`` (a number, 0 to 99999999) to the ticket's time spent, in one UPDATE,
    so concurrent additions all count; a total past the column's range is a ValidationError."""
    _require(by, permissions.can_change_ticket, ticket, "helpdesk.change_ticket")
    minutes = _clean_time_spent(minutes)
    now = timezone.now()
    changed = (
        Ticket.objects.filter(pk=ticket.pk, time_spent__lt=decimal.Decimal(10**8) - minutes)
        .update(time_spent=F("time_spent") + minutes, updated_at=Greatest(F("updated_at"), Value(now)))
    )
    if not changed:
        raise ValidationError({"time_spent": [_("The ticket's time spent would pass 99999999 minutes.")]})
    ticket.refresh_from_db(fields=["time_spent", "updated_at"])
    return ticket
# -- CC and mail senders (issue #13) ---------------------------------------------------

CC_MAX = 50


def clean_cc(addresses: Iterable[Any]) -> list[str]:
    """Valid, de-duplicated (case-insensitively) addresses, in order; blanks ignored."""
    if isinstance(addresses, str):
        addresses = addresses.split(",")
    result: dict[str, str] = {}
    bad = []
    for raw in addresses:
        address = str(raw).strip()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError:
            bad.append(address[:100])
            continue
        result.setdefault(address.lower(), address)
    if bad:
        raise ValidationError({"cc": [_("Not a valid email address: %(a)s.") % {"a": ", ".join(bad)}]})
    if len(result) > CC_MAX:
        raise ValidationError({"cc": [_("At most %(n)d CC addresses.") % {"n": CC_MAX}]})
    return list(result.values())


@transaction.atomic
def ticket_set_cc(*, ticket: Ticket, cc: Iterable[Any], by: Any = None) -> list[str]:
    """Replace the ticket's CC list (the addresses copied on its mail)."""
    addresses = clean_cc(cc)
    ticket.cc = addresses
    ticket.updated_at = timezone.now()
    Ticket.objects.filter(pk=ticket.pk).update(cc=addresses, updated_at=ticket.updated_at)
    return addresses


@transaction.atomic
def ticket_add_cc(*, ticket: Ticket, cc: Iterable[Any], by: Any = None) -> list[str]:
    """Add addresses to the ticket's CC list (the row is locked: concurrent adds both stay)."""
    current = Ticket.objects.select_for_update().values_list("cc", flat=True).get(pk=ticket.pk) or []
    merged = clean_cc([*current, *clean_cc(cc)])
    if merged != current:
        Ticket.objects.filter(pk=ticket.pk).update(cc=merged)
    ticket.cc = merged
    return merged


@transaction.atomic
def requester_for_mail(*, email: str, name: str = "") -> tuple[Any, Client]:
    """The requester of a mail and their client: ``requester_for_email``, then, for a
    sender whose domain gives no client (free mail), ``MAIL_DEFAULT_CLIENT_ID`` if set,
    else a client of their own named after them."""
    user, client = requester_for_email(email=email, name=name)
    if client is not None:
        return user, client
    default_id = helpdesk_settings.MAIL_DEFAULT_CLIENT_ID
    if default_id is not None:
        client = Client.objects.filter(pk=default_id).first()
        if client is None:
            raise ImproperlyConfigured(f"HELPDESK MAIL_DEFAULT_CLIENT_ID is {default_id!r}, which is not a client id.")
    else:
        client = Client.objects.create(name=(name.strip() or email)[:200])
    if not user.is_staff:
        Contact.objects.get_or_create(user=user, defaults={"client": client})
    return user, client




def _set_new_ticket_sla(ticket: Ticket, *, at: datetime.datetime) -> None:
    """The SLA columns of a ticket inserted in this very transaction: computed from the
    instance (no other transaction can see the row yet, so no re-read and no lock), and
    written only when they differ from what was inserted (no policy, no pause: nothing)."""
    fields = sla.ticket_sla_fields(ticket, at=at)
    changed = {name: value for name, value in fields.items() if getattr(ticket, name) != value}
    if changed:
        Ticket.objects.filter(pk=ticket.pk).update(**changed)
        for name, value in changed.items():
            setattr(ticket, name, value)


@transaction.atomic
def ticket_refresh_sla(*, ticket: Ticket, at: datetime.datetime | None = None) -> Ticket:
    """Pick the ticket's SLA policy again and store its due times and pause (``helpdesk.sla``).

    The ticket services call it whenever what a policy depends on changes (creation,
    priority, department, client, status). A changed policy or calendar refreshes the
    open tickets it affects by itself, in bulk (``helpdesk.sla_refresh``).
    """
    current = Ticket.objects.select_for_update().get(pk=ticket.pk)
    fields = sla.ticket_sla_fields(current, at=at or timezone.now())
    Ticket.objects.filter(pk=ticket.pk).update(**fields)
    for name, value in fields.items():
        setattr(ticket, name, value)
    return ticket


# -- canned replies and merging -------------------------------------------------------------

@transaction.atomic
def canned_reply_use(
    *, canned: Any, ticket: Ticket, by: Any, text: str | None = None, silent: bool = False,
) -> Reply:
    """Post ``canned`` on ``ticket`` as ``by``: its text with the placeholders filled in
    (or ``text``, the agent's edit of it), then its status and tags, if it sets any."""
    from .canned import render

    if not is_agent(by):
        raise ValidationError({"canned_reply": [_("Only agents can use canned replies.")]})
    if canned.owner_id is not None and canned.owner_id != getattr(by, "pk", None):
        raise ValidationError({"canned_reply": [_("This canned reply belongs to another agent.")]})
    body = text if text and text.strip() else render(canned.body, ticket=ticket, agent=by)
    reply = reply_post(ticket=ticket, author=by, text=body, silent=silent)
    if canned.status_id is not None:
        ticket_change_status(ticket=ticket, status=canned.status, by=by, silent=silent)
    if canned.tag_names:
        ticket_add_tags(ticket=ticket, tags=canned.tag_names, by=by)
    return reply


def _recount(ticket: Ticket) -> None:
    """Counters and reply dates from the rows (after replies moved between tickets)."""
    from django.db.models import Count, Min, Q

    figures = Reply.objects.filter(ticket_id=ticket.pk).aggregate(
        replies=Count("id", filter=Q(type=ReplyType.REPLY)), notes=Count("id", filter=Q(type=ReplyType.NOTE)),
        last=Max("created_at", filter=Q(type=ReplyType.REPLY)), first=Min("created_at", filter=Q(type=ReplyType.REPLY)),
    )
    Ticket.objects.filter(pk=ticket.pk).update(
        replies_count=figures["replies"], notes_count=figures["notes"], last_reply_at=figures["last"],
    )
    ticket.refresh_from_db(fields=["replies_count", "notes_count", "last_reply_at"])


@transaction.atomic
def ticket_merge(*, source: Ticket, target: Ticket, by: Any, silent: bool = False) -> Ticket:
    """Merge the duplicate ``source`` into ``target``.

    The conversation (replies and notes) and tags move to the target, which gets the
    source's opening message as a note; the source is closed, points at the target
    (``merged_into``) and says so in a note: both conversations and both status
    histories record the merge. The requester hears of it only with
    ``MERGE_NOTIFY_REQUESTER`` (and never for a silent merge, e.g. from the API).
    """
    if not is_agent(by):
        raise ValidationError({"target": [_("Only agents can merge tickets.")]})
    if source.pk == target.pk:
        raise ValidationError({"target": [_("A ticket cannot be merged into itself.")]})
    _require(by, permissions.can_change_ticket, source, "helpdesk.change_ticket")
    _require(by, permissions.can_change_ticket, target, "helpdesk.change_ticket")
    locked = {t.pk: t for t in Ticket.objects.select_for_update().filter(pk__in=[source.pk, target.pk]).order_by("pk")}
    current_source, current_target = locked[source.pk], locked[target.pk]
    if current_source.merged_into_id is not None:
        raise ValidationError({"target": [_("Ticket #%(id)s was already merged into #%(to)s.")
                                          % {"id": source.pk, "to": current_source.merged_into_id}]})
    if current_target.merged_into_id is not None:
        raise ValidationError({"target": [_("Ticket #%(id)s was merged into #%(to)s: merge into that one.")
                                          % {"id": target.pk, "to": current_target.merged_into_id}]})
    closed = TicketStatus.objects.filter(is_closed=True).order_by("order", "id").first()
    if closed is None:
        raise ValidationError({"target": [_("There is no closed status to give the merged ticket.")]})
    Reply.objects.filter(ticket_id=source.pk).update(ticket_id=target.pk)
    source_tags = list(current_source.tags.all())
    if source_tags:
        target.tags.add(*source_tags)
    # Keep the earliest first response: the customer was answered then.
    if current_source.first_response_at and (
            current_target.first_response_at is None or current_source.first_response_at < current_target.first_response_at):
        Ticket.objects.filter(pk=target.pk).update(first_response_at=current_source.first_response_at)
    opening = _("Merged #%(id)s (%(subject)s) into this ticket. Its opening message:") % {
        "id": source.pk, "subject": current_source.subject}
    # The merge's own records: notes written here (not by ``reply_post``, whose permission
    # to write notes the merging agent need not have); ``_recount`` settles the counters.
    now = timezone.now()
    opening_note = Reply.objects.create(ticket=target, author=by, type=ReplyType.NOTE, created_at=now,
                                        text=f"{opening}\n\n{current_source.message or '—'}")
    # Files go with their messages: the replies' with the replies, the opening message's
    # with the note that now carries it. CC addresses join the target's list.
    from .models import Attachment

    Attachment.objects.filter(ticket_id=source.pk, reply__isnull=False).update(ticket_id=target.pk)
    Attachment.objects.filter(ticket_id=source.pk, reply__isnull=True).update(ticket_id=target.pk, reply=opening_note)
    if current_source.cc:
        Ticket.objects.filter(pk=target.pk).update(cc=clean_cc([*(current_target.cc or []), *current_source.cc]))
    Ticket.objects.filter(pk=source.pk).update(merged_into=target)
    source.merged_into_id = target.pk
    Reply.objects.create(ticket=source, author=by, type=ReplyType.NOTE, created_at=now,
                         text=_("Merged into #%(id)s (%(subject)s).") % {"id": target.pk, "subject": current_target.subject})
    Ticket.objects.filter(pk__in=[source.pk, target.pk]).update(updated_at=now)
    ticket_change_status(ticket=source, status=closed, by=by, silent=True)
    _recount(source)
    _recount(target)
    target.refresh_from_db()

    def send() -> None:
        signals.ticket_merged.send(sender=Ticket, source=source, target=target, by=by, silent=silent)
        if not silent and helpdesk_settings.MERGE_NOTIFY_REQUESTER:
            _notify("ticket_merged", source, target)

    transaction.on_commit(send, robust=True)
    return target
