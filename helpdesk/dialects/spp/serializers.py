"""SPP's ``StoreTicketRequest`` (input) and ``TicketResource`` (output: a plain function,
like the native API's ``ticket_data``)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ...api.serializers import MetadataField, ModelIdField, StatusField, StrictSerializer, UserIdListField, _no_nul
from ...models import Reply, ReplyType, Ticket

#: Where ``order`` is kept in the ticket's metadata (SPP's orders are not ours).
ORDER_KEY = "spp_order"
#: Service (model) field names -> SPP's names, for 422 ``fields``.
FIELD_NAMES = {"subject": "subject", "message": "subject", "assignees": "employees", "tags": "tags",
               "metadata": "metadata", "requester": "user_id", "client": "user_id", "department": "user_id",
               "text": "note"}


class StoreTicketRequest(StrictSerializer):
    user_id = ModelIdField(get_user_model().objects.all(), help_text=_("The client (a contact of one of our clients)."))
    subject = serializers.CharField(max_length=255)
    status = StatusField(required=False, help_text=_("A status id (or title)."))
    employees = UserIdListField(required=False, help_text=_("Staff user ids: the assignees."))
    tags = serializers.ListField(child=serializers.CharField(max_length=50, allow_blank=True), required=False, max_length=500)
    order = serializers.CharField(max_length=100, required=False, allow_blank=True)
    metadata = MetadataField(required=False)
    note = serializers.CharField(required=False, allow_blank=True)

    def validate_subject(self, value: str) -> str:
        return _no_nul(value)

    def validate_order(self, value: str) -> str:
        return _no_nul(value)

    def validate_note(self, value: str) -> str:
        return _no_nul(value)

    def validate_metadata(self, value: dict[str, Any]) -> dict[str, Any]:
        if ORDER_KEY in value:
            raise serializers.ValidationError(_("%(k)s is kept for order; send order instead.") % {"k": ORDER_KEY})
        return value


def iso(value: datetime.datetime | None) -> str | None:
    """SPP's dates: ``2021-09-01T00:00:00+00:00``."""
    return value.astimezone(datetime.UTC).isoformat(timespec="seconds") if value is not None else None


def _names(user: Any) -> tuple[str, str]:
    return getattr(user, "first_name", "") or "", getattr(user, "last_name", "") or ""


def employee(user: Any) -> dict[str, Any]:
    first, last = _names(user)
    return {"id": user.pk, "name_f": first, "name_l": last, "group_id": None, "role_id": None}


def client_user(user: Any, ticket: Ticket) -> dict[str, Any] | None:
    """SPP's User object for the ticket's requester; fields we do not keep are empty."""
    if user is None:
        return None
    first, last = _names(user)
    empty_address = dict.fromkeys(
        ("line_1", "line_2", "city", "country", "state", "postcode", "name_f", "name_l", "tax_id", "company_name",
         "company_vat"), "")
    return {
        "id": user.pk, "aff_id": None, "aff_link": "", "created_at": iso(getattr(user, "date_joined", None)),
        "name_f": first, "name_l": last, "email": user.email, "company": ticket.client.name, "tax_id": "",
        "phone": "", "address": empty_address, "note": "", "balance": 0, "optin": "", "stripe_id": "",
        "custom_fields": {}, "status": 1 if user.is_active else 0, "role_id": None, "role": None,
        "name": (user.get_full_name() or user.get_username()), "spent": None, "employee_id": None, "managers": [],
        "ga_cid": "", "team_owner_ids": [], "team_member_ids": [],
    }


def ticket_resource(t: Ticket, replies: list[Reply], *, file_url: Callable[[int], str]) -> dict[str, Any]:
    """SPP's TicketResource. ``replies`` are the ones the caller may read (a selector's),
    with their ``attachments``; ``file_url`` makes an attachment id its absolute download
    URL (SPP's ``files: array[string]``)."""
    metadata = dict(t.metadata or {})
    order = metadata.pop(ORDER_KEY, None)
    notes = [r for r in replies if r.type == ReplyType.NOTE]
    return {
        "id": t.pk,
        "created_at": iso(t.created_at),
        "updated_at": iso(t.updated_at),
        "last_message_at": iso(t.last_reply_at),
        "date_closed": iso(t.closed_at),
        "subject": t.subject,
        "user_id": t.requester_id,
        "form_data": dict(t.custom_fields or {}),
        "tags": sorted((tag.name for tag in t.tags.all()), key=str.lower),
        "note": notes[0].text if notes else "",
        "employees": [employee(u) for u in sorted(t.assignees.all(), key=lambda u: u.pk)],
        "status": t.status.title,
        "source": t.external_source if t.external_id is not None else t.channel,
        "order_id": int(order) if isinstance(order, str) and order.isdecimal() and len(order) < 19 else None,
        "order": {"id": order} if order else None,
        "messages": [
            {"id": r.pk, "user_id": r.author_id, "created_at": iso(r.created_at), "message": r.text,
             "staff_only": r.type == ReplyType.NOTE, "files": [file_url(a.pk) for a in r.attachments.all()]}
            for r in replies
        ],
        "client": client_user(t.requester, t),
        "metadata": metadata,
    }
