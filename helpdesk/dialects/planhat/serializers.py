"""Our tickets as Planhat ticket objects (the seed's example response), built by a plain
function like the native API's ``ticket_data``."""

from __future__ import annotations

import datetime
from typing import Any

from ...api.serializers import user_name
from ...models import ActiveState, Priority, Ticket

#: Every property of a Planhat ticket object we send, in Planhat's order (``select`` and
#: ``sort`` take these names).
PROPERTIES = (
    "_id", "externalId", "type", "source", "subType", "subject", "snippet", "email", "status", "history",
    "url", "createDate", "updateDate", "date", "days", "timeBucket", "companyId", "companyName", "endusers",
    "inDate", "custom", "starred", "pinned", "activityTags", "emailTemplateIds", "isOpen", "tags",
    "waitsToBeFiltered", "archived", "users", "sender", "severity", "product", "timeSpent", "priority",
)

#: ``sort`` property -> ORDER BY (ascending); the id breaks ties so offset paging is stable.
SORTS = {
    "_id": ("id",),
    "externalId": ("external_id", "id"),
    "type": ("type", "id"),
    "source": ("external_source", "id"),
    "subject": ("subject", "id"),
    "email": ("requester__email", "id"),
    "status": ("status__title", "id"),
    "url": ("external_url", "id"),
    "createDate": ("created_at", "id"),
    "inDate": ("created_at", "id"),
    "updateDate": ("updated_at", "id"),
    "date": ("updated_at", "id"),
    "days": ("updated_at", "id"),
    "companyId": ("client_id", "id"),
    "companyName": ("client__name", "id"),
    "isOpen": ("-status__is_closed", "id"),
    "archived": ("active_state", "id"),
    "severity": ("severity", "id"),
    "product": ("product", "id"),
    "timeSpent": ("time_spent", "id"),
    "priority": ("priority", "id"),
}

_EPOCH = datetime.date(1970, 1, 1)


def ms(value: datetime.datetime | None) -> str | None:
    """Planhat's dates: UTC, milliseconds, ``Z`` (``2021-06-24T19:38:16.000Z``)."""
    if value is None:
        return None
    value = value.astimezone(datetime.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _time_bucket(value: datetime.datetime) -> list[str]:
    day = value.astimezone(datetime.UTC).date()
    iso_year, iso_week, _weekday = day.isocalendar()
    return [str(day.year), f"{day.year}-Q{(day.month - 1) // 3 + 1}", f"{day.year}-{day.month}", f"{iso_year}-W{iso_week}"]


def ticket_object(t: Ticket, fields: tuple[str, ...] | None = None) -> dict[str, Any]:
    """A Planhat ticket object. Needs the view's prefetch (history, tags, assignees)."""
    requester = t.requester
    history = [{"status": c.to_status.title, "time": ms(c.changed_at)} for c in t.status_changes.all()]
    data = {
        "_id": str(t.pk),
        "externalId": t.external_id,
        "type": t.type or "ticket",
        "source": t.external_source if t.external_id is not None else t.channel,
        "subType": "ticket",
        "subject": t.subject,
        "snippet": t.message,
        "email": requester.email if requester is not None else None,
        "status": t.status.title,
        "history": history,
        "url": t.external_url or None,
        "createDate": ms(t.created_at),
        "updateDate": ms(t.updated_at),
        "date": ms(t.updated_at),
        "days": (t.updated_at.astimezone(datetime.UTC).date() - _EPOCH).days,
        "timeBucket": _time_bucket(t.updated_at),
        "companyId": str(t.client_id),
        "companyName": t.client.name,
        "endusers": [{"id": str(requester.pk), "name": user_name(requester)}] if requester is not None else [],
        "inDate": ms(t.created_at),
        "custom": dict(t.custom_fields or {}),
        "starred": False,
        "pinned": False,
        "activityTags": [],
        "emailTemplateIds": [],
        "isOpen": not t.status.is_closed,
        "tags": sorted((tag.name for tag in t.tags.all()), key=str.lower),
        "waitsToBeFiltered": False,
        "archived": t.active_state == ActiveState.ARCHIVED,
        "users": [{"id": str(u.pk), "name": user_name(u), "email": u.email} for u in sorted(t.assignees.all(), key=lambda u: u.pk)],
        "sender": [],
        "severity": t.severity,
        "product": t.product,
        "timeSpent": float(t.time_spent),
        "priority": Priority(t.priority).slug,
    }
    if fields is None:
        return data
    return {name: data[name] for name in ("_id", *fields) if name in data}
