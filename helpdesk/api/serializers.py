"""What the API reads and writes.

Output is built by plain functions (``ticket_data`` …): a list of 1000 tickets costs
microseconds per row instead of DRF's per-field machinery. The output serializer classes
declare the same fields for the OpenAPI schema only (a test keeps both in step).
Input goes through DRF serializers that reject unknown keys instead of dropping them.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .. import refcache, sla
from ..attachments import message_files
from ..conf import helpdesk_settings
from ..custom_fields import clean_custom_fields
from ..limits import MAX_ID, parse_id
from ..models import (
    Attachment, Client, Department, Priority, Project, Reply, ReplyType, StatusChange, Ticket, TicketStatus,
)

#: Service (model) field names -> the API's parameter names, for 422 ``fields``.
TICKET_FIELD_NAMES = {
    "subject": "ticket_subject",
    "message": "ticket_message",
    "priority": "ticket_priority",
    "department": "ticket_categoryid",
    "client": "ticket_clientid",
    "project": "ticket_projectid",
    "status": "status",
    "tags": "tags",
    "requester": "requester",
    "assignees": "assignee_ids",
    "time_spent": "time_spent",
    "metadata": "metadata",
}
REPLY_FIELD_NAMES = {"text": "ticketreply_text", "type": "ticketreply_type"}
TICKET_FIELD_NAMES["cc"] = "ticket_cc"

#: Form fields a browser adds that are not data.
IGNORED_KEYS = frozenset({"csrfmiddlewaretoken"})
PRIORITIES = [p.slug for p in Priority]
# Looked up per row: Priority(rank).slug goes through the enum machinery (~0.1 ms a call).
_PRIORITY_SLUG = {int(p): p.slug for p in Priority}




class NamedChoiceField(serializers.ChoiceField):
    """A ``ChoiceField`` whose values are one named enum of the OpenAPI document
    (``openapi.NamedChoiceFieldExtension``), whichever field uses them: the ticket's
    ``priority`` and the write's ``ticket_priority`` are both ``PriorityEnum``. The app
    names its own enums, so no site needs ``ENUM_NAME_OVERRIDES`` for them."""

    def __init__(self, *, enum_name: str, **kwargs: Any) -> None:
        self.enum_name = enum_name
        super().__init__(**kwargs)


# -- output ------------------------------------------------------------------------------


def dt(value: datetime.datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, as DRF writes it."""
    if value is None:
        return None
    text = value.astimezone(datetime.UTC).isoformat() if timezone.is_aware(value) else value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def user_name(user: Any) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def sla_data(t: Ticket) -> dict[str, Any]:
    """The ticket's ``sla`` object: its policy, due times, pause and where it stands now."""
    state = sla.sla_state(t)
    return {
        "policy_id": t.sla_policy_id,
        "first_response_due": dt(t.first_response_due_at),
        "resolution_due": dt(t.resolution_due_at),
        "paused": t.sla_paused_at is not None,
        "state": state.state,
        "target": state.target or None,
        "due_at": dt(state.due_at),
    }


def ticket_data(t: Ticket, fields: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The ticket object of API.md. Needs ``ticket_list``'s select/prefetch to stay query-free.

    With ``fields`` only those keys are built (``tags`` and ``assignee_ids`` need their
    prefetch only when asked for).
    """
    requester = t.requester
    data = {
        "id": t.pk,
        "subject": t.subject,
        "message": t.message,
        "status": {"id": t.status_id, "title": t.status.title},
        "priority": _PRIORITY_SLUG.get(t.priority, str(t.priority)),
        "source": t.channel,
        "active_state": t.active_state,
        "department": {"id": t.department_id, "name": t.department.name},
        "client": {"id": t.client_id, "name": t.client.name},
        "project_id": t.project_id,
        "creator_id": t.creator_id,
        "requester": (
            {"id": requester.pk, "email": requester.email, "name": user_name(requester)} if requester else None
        ),
        "assignee_ids": _assignee_ids(t) if fields is None or "assignee_ids" in fields else None,
        "dates": {
            "created": dt(t.created_at),
            "last_updated": dt(t.updated_at),
            "status_changed": dt(t.status_changed_at),
            "first_response": dt(t.first_response_at),
            "last_reply": dt(t.last_reply_at),
            "closed": dt(t.closed_at),
        },
        "replies_count": t.replies_count,
        "tags": _tag_names(t) if fields is None or "tags" in fields else None,
        "type": t.type,
        "severity": t.severity,
        "product": t.product,
        "time_spent": float(t.time_spent),
        "external": (
            {"source": t.external_source, "source_id": t.external_id, "url": t.external_url or None}
            if t.external_id is not None
            else None
        ),
        "custom_fields": t.custom_fields or {},
        "metadata": t.metadata or {},
        "cc": list(t.cc or []),
        "attachments": _message_attachments(t) if fields is None or "attachments" in fields else None,
        "sla": sla_data(t),
    }
    return data if fields is None else {name: data[name] for name in fields}


def _tag_names(t: Ticket) -> list[str]:
    # The API's PostgreSQL queryset annotates the names (views.ticket_queryset); else prefetched.
    names = getattr(t, "tag_names", None)
    if names is None:
        names = [tag.name for tag in t.tags.all()]
    return sorted(names, key=str.lower)


def _assignee_ids(t: Ticket) -> list[int]:
    ids = getattr(t, "assignee_id_list", None)
    if ids is None:
        ids = [u.pk for u in t.assignees.all()]
    return sorted(ids)


def reply_data(r: Reply) -> dict[str, Any]:
    author = r.author
    return {
        "id": r.pk,
        "ticket_id": r.ticket_id,
        "text": r.text,
        "type": r.type,
        "author": {"id": author.pk, "name": user_name(author)} if author is not None else None,
        "created": dt(r.created_at),
        "attachments": [attachment_data(a) for a in r.attachments.all()],
    }


_ATTACHMENT_URL: list[str] = []


def attachment_url(pk: int) -> str:
    """``/api/attachments/<id>`` wherever the API is mounted (reversed once, then formatted)."""
    if not _ATTACHMENT_URL:
        from django.urls import reverse

        _ATTACHMENT_URL.append(reverse("helpdesk-api:attachment", args=["0"])[:-1])
    return f"{_ATTACHMENT_URL[0]}{pk}"


def _attachment_json(row: Any) -> dict[str, Any]:
    """``attachment_data`` of one object of ``selectors.message_attachments_array``."""
    if isinstance(row, str):
        row = json.loads(row)
    return {
        "id": row["id"],
        "filename": row["filename"],
        "content_type": row["content_type"],
        "size": row["size"],
        "inline": row["inline"],
        "created": dt(datetime.datetime.fromisoformat(row["created_at"])),
        "url": attachment_url(row["id"]),
    }


def attachment_data(a: Attachment) -> dict[str, Any]:
    return {
        "id": a.pk,
        "filename": a.filename,
        "content_type": a.content_type,
        "size": a.size,
        "inline": a.inline,
        "created": dt(a.created_at),
        "url": attachment_url(a.pk),
    }


def _message_attachments(t: Ticket) -> list[dict[str, Any]]:
    # PostgreSQL: a JSON array inside the ticket query (``selectors.message_attachments_array``);
    # else prefetched or read (``attachments.message_files``).
    array = getattr(t, "message_attachment_rows", None)
    if array is not None:
        return [_attachment_json(row) for row in array]
    return [attachment_data(a) for a in message_files(t)]


def history_data(c: StatusChange) -> dict[str, Any]:
    def status(s: TicketStatus | None) -> dict[str, Any] | None:
        return {"id": s.pk, "title": s.title} if s is not None else None

    by = c.changed_by
    return {
        "id": c.pk,
        "from": status(c.from_status),
        "to": status(c.to_status),
        "at": dt(c.changed_at),
        "by": {"id": by.pk, "name": user_name(by)} if by is not None else None,
    }


# Schema-only declarations of the shapes above (see the module docstring).


class StatusRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class NamedRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class RequesterSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()


class TicketDatesSerializer(serializers.Serializer):
    created = serializers.DateTimeField()
    last_updated = serializers.DateTimeField()
    status_changed = serializers.DateTimeField(allow_null=True)
    first_response = serializers.DateTimeField(allow_null=True)
    last_reply = serializers.DateTimeField(allow_null=True)
    closed = serializers.DateTimeField(allow_null=True)


class ExternalSerializer(serializers.Serializer):
    source = serializers.CharField(allow_null=True)
    source_id = serializers.CharField()
    url = serializers.URLField(allow_null=True)


class AttachmentSerializer(serializers.Serializer):
    """A file on a ticket's message or a reply; download it from ``url``."""

    id = serializers.IntegerField()
    filename = serializers.CharField()
    content_type = serializers.CharField(help_text=_("Sniffed from the content."))
    size = serializers.IntegerField(help_text=_("Bytes."))
    inline = serializers.BooleanField(help_text=_("An image shown inside a mail's HTML."))
    created = serializers.DateTimeField()
    url = serializers.CharField(help_text=_("GET it (authenticated) to download the file."))


class TicketSLASerializer(serializers.Serializer):
    policy_id = serializers.IntegerField(allow_null=True, help_text=_("The SLA policy that applies, or null."))
    first_response_due = serializers.DateTimeField(allow_null=True)
    resolution_due = serializers.DateTimeField(allow_null=True)
    paused = serializers.BooleanField(help_text=_("True while the ticket waits on the customer."))
    state = serializers.ChoiceField(choices=["none", "running", "breached", "paused", "met", "missed"])
    target = serializers.ChoiceField(choices=["first_response", "resolution"], allow_null=True,
                                     help_text=_("The next target the clock runs for."))
    due_at = serializers.DateTimeField(allow_null=True, help_text=_("When that target is due."))


class TicketSerializer(serializers.Serializer):
    """The ticket object (read)."""

    id = serializers.IntegerField()
    subject = serializers.CharField()
    message = serializers.CharField()
    status = StatusRefSerializer()
    priority = NamedChoiceField(choices=PRIORITIES, enum_name="PriorityEnum")
    source = serializers.ChoiceField(choices=["web", "api", "email"])
    active_state = serializers.ChoiceField(choices=["active", "archived"])
    department = NamedRefSerializer()
    client = NamedRefSerializer()
    project_id = serializers.IntegerField(allow_null=True)
    creator_id = serializers.IntegerField(allow_null=True)
    requester = RequesterSerializer(allow_null=True)
    assignee_ids = serializers.ListField(child=serializers.IntegerField())
    dates = TicketDatesSerializer()
    replies_count = serializers.IntegerField()
    tags = serializers.ListField(child=serializers.CharField())
    type = serializers.CharField()
    severity = serializers.CharField()
    product = serializers.CharField()
    time_spent = serializers.FloatField(help_text=_("Minutes."))
    external = ExternalSerializer(allow_null=True)
    custom_fields = serializers.DictField(help_text=_("Values by custom field key."))
    metadata = serializers.DictField()
    cc = serializers.ListField(child=serializers.EmailField(), help_text=_("Addresses copied on the ticket's mail."))
    attachments = AttachmentSerializer(many=True, help_text=_("The files of the ticket's own message."))
    sla = TicketSLASerializer()

    def to_representation(self, instance: Ticket) -> dict[str, Any]:
        return ticket_data(instance)


class AuthorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ReplySerializer(serializers.Serializer):
    """A reply or internal note (read)."""

    id = serializers.IntegerField()
    ticket_id = serializers.IntegerField()
    text = serializers.CharField()
    type = NamedChoiceField(choices=ReplyType.values, enum_name="ReplyTypeEnum")
    author = AuthorSerializer(allow_null=True)
    created = serializers.DateTimeField()
    attachments = AttachmentSerializer(many=True)


# "from" is a Python keyword, so this one is built with type().
HistorySerializer = type(
    "HistorySerializer",
    (serializers.Serializer,),
    {
        "__doc__": "One status change.",
        "__module__": __name__,
        "id": serializers.IntegerField(),
        "from": StatusRefSerializer(allow_null=True),
        "to": StatusRefSerializer(),
        "at": serializers.DateTimeField(),
        "by": AuthorSerializer(allow_null=True),
    },
)


class DepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "name", "description", "is_default"]


class StatusSerializer(serializers.ModelSerializer):
    class Meta:
        model = TicketStatus
        fields = ["id", "title", "is_closed", "order", "colour"]


class TagCountSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    count = serializers.IntegerField(help_text=_("Tickets carrying the tag (a contact: of their client)."))


class CustomFieldSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    type = serializers.CharField()
    choices = serializers.ListField(child=serializers.CharField())
    required = serializers.BooleanField()
    help_text = serializers.CharField()
    order = serializers.IntegerField()


class ClientSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    external_id = serializers.CharField(allow_null=True)
    domains = serializers.ListField(child=serializers.CharField())
    created = serializers.DateTimeField()


class ProjectSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    client_id = serializers.IntegerField()


# -- input -------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class ModelIdField(serializers.Field):
    """An id of an existing row; 422 "Unknown …" otherwise. Never a DB error for big numbers."""

    default_error_messages = {
        "invalid": _("Enter a whole number id."),
        "does_not_exist": _("Unknown {model}: {pk}."),
    }

    def __init__(self, queryset: Any, **kwargs: Any) -> None:
        self.queryset = queryset
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or isinstance(data, (dict, list)):
            self.fail("invalid")
        try:
            pk = int(str(data).strip())
        except (TypeError, ValueError):
            self.fail("invalid")
        if pk < 1 or pk > MAX_ID:
            self.fail("does_not_exist", model=self.queryset.model._meta.verbose_name, pk=pk)
        try:
            return self.lookup(pk)
        except self.queryset.model.DoesNotExist:
            self.fail("does_not_exist", model=self.queryset.model._meta.verbose_name, pk=pk)

    def to_representation(self, value: Any) -> Any:
        return value.pk

    def lookup(self, pk: int) -> Any:
        return self.queryset.get(pk=pk)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data == "" and self.allow_null:
            return True, None
        return super().validate_empty_values(data)


#: Form fields that are lists and may come PHP style (``name[]=a&name[]=b``).
LIST_KEYS = ("tags", "assignee_ids", "employees")


class RequesterRef(str):
    """An email address given as ``requester``: the view finds or creates the person."""


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string", "format": "email"}]})
class RequesterField(serializers.Field):
    """A user id, or an email address (found, or created as the client's contact)."""

    default_error_messages = {
        "invalid": _("Give a user id or an email address."),
        "does_not_exist": _("Unknown user: {pk}."),
        "email": _("Enter a valid email address."),
    }

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, (int, str)):
            self.fail("invalid")
        text = str(data).strip()
        if "@" in text:
            try:
                validate_email(text)
            except DjangoValidationError:
                self.fail("email")
            if len(text) > 254:
                self.fail("email")
            return RequesterRef(text)
        if not (text.isdecimal() and text.isascii()):
            self.fail("invalid")
        pk = parse_id(text)
        user = get_user_model().objects.filter(pk=pk).first() if pk is not None else None
        if user is None:
            self.fail("does_not_exist", pk=text)
        return user

    def to_representation(self, value: Any) -> Any:
        return getattr(value, "pk", value)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        # A form cannot send null: an empty ``requester=`` clears it, as for the project.
        if data == "" and self.allow_null:
            return True, None
        return super().validate_empty_values(data)


@extend_schema_field({"type": "array", "items": {"type": "integer"}})
class UserIdListField(serializers.Field):
    """User ids (a JSON array or the form field repeated); ``[]`` or one blank clears."""

    default_error_messages = {
        "invalid": _("Enter a list of user ids."),
        "does_not_exist": _("Unknown user(s): {pks}."),
        "too_many": _("At most {n} users."),
    }

    def get_value(self, dictionary: Any) -> Any:
        if isinstance(dictionary, QueryDict):
            return dictionary.getlist(self.field_name) if self.field_name in dictionary else serializers.empty
        return super().get_value(dictionary)

    def to_internal_value(self, data: Any) -> list[Any]:
        if isinstance(data, (str, int)) and not isinstance(data, bool):
            data = [data]
        if not isinstance(data, list):
            self.fail("invalid")
        ids = []
        for value in data:
            if isinstance(value, str) and not value.strip():
                continue
            text = str(value).strip()
            if isinstance(value, bool) or not isinstance(value, (int, str)) or not (text.isdecimal() and text.isascii()):
                self.fail("invalid")
            pk = parse_id(text)
            if pk is None:
                self.fail("does_not_exist", pks=text)
            ids.append(pk)
        ids = list(dict.fromkeys(ids))
        if len(ids) > 100:
            self.fail("too_many", n=100)
        users = {u.pk: u for u in get_user_model().objects.filter(pk__in=ids)}
        missing = [str(pk) for pk in ids if pk not in users]
        if missing:
            self.fail("does_not_exist", pks=", ".join(missing))
        return [users[pk] for pk in ids]

    def to_representation(self, value: Any) -> Any:
        return [u.pk for u in value]


@extend_schema_field({"type": "object", "additionalProperties": True})
class MetadataField(serializers.Field):
    """A JSON object (or, in a form, its JSON text) of at most ``METADATA_MAX_BYTES``."""

    default_error_messages = {
        "invalid": _("Enter a JSON object."),
        "too_large": _("At most {n} bytes of JSON."),
        "nul": _("Null characters are not allowed."),
    }

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, str):
            try:
                data = json.loads(data) if data.strip() else {}
            except (ValueError, RecursionError):
                self.fail("invalid")
        if data is None:
            data = {}
        if not isinstance(data, dict):
            self.fail("invalid")
        try:
            text = json.dumps(data, ensure_ascii=False)
            text.encode("utf-8")
        except (ValueError, TypeError, RecursionError, UnicodeEncodeError):
            self.fail("invalid")
        if "\\u0000" in json.dumps(data):
            self.fail("nul")
        limit = helpdesk_settings.METADATA_MAX_BYTES
        if len(text.encode("utf-8")) > limit:
            self.fail("too_large", n=limit)
        return data

    def to_representation(self, value: Any) -> Any:
        return value


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise serializers.ValidationError(_("Null characters are not allowed."))
    return value
class DepartmentIdField(ModelIdField):
    """A department id, looked up in the cached departments (``helpdesk.refcache``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(Department.objects.all(), **kwargs)

    def lookup(self, pk: int) -> Any:
        from ..refcache import get

        try:
            return get("departments")[pk]
        except KeyError:
            raise Department.DoesNotExist from None


class StrictSerializer(serializers.Serializer):
    """Rejects keys it does not know (``"Unknown field."``) instead of dropping them.

    Accepts ``tags[]`` (PHP style form arrays) as ``tags``.
    """

    #: Keys that are not fields but are handled by ``extra_keys``; None rejects all.
    allow_extra = False
    #: Known API names this endpoint refuses, with the reason.
    refused: dict[str, str] = {}

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, Mapping):
            raise serializers.ValidationError(
                {"non_field_errors": [_("Send an object (JSON) or form fields, not %(t)s.") % {"t": type(data).__name__}]}
            )
        if isinstance(data, QueryDict) and any(f"{name}[]" in data for name in LIST_KEYS):
            data = data.copy()
            for name in LIST_KEYS:
                if f"{name}[]" in data:
                    data.setlist(name, data.getlist(f"{name}[]"))
                    del data[f"{name}[]"]
        errors: dict[str, Any] = {}
        try:
            validated = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            errors.update(exc.detail)
            validated = {}
        extra = {k: data[k] for k in data if k not in self.fields and k not in IGNORED_KEYS}
        for key in list(extra):
            if key in self.refused:
                errors[key] = [self.refused[key]]
                extra.pop(key)
            elif not self.allow_extra:
                errors[key] = [_("Unknown field.")]
        if self.allow_extra:
            try:
                validated["custom_fields"] = self.clean_extra(extra)
            except DjangoValidationError as exc:
                errors.update(exc.message_dict)
        if errors:
            raise serializers.ValidationError(errors)
        return validated

    def clean_extra(self, extra: dict[str, Any]) -> dict[str, Any]:
        return extra


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}]})
class StatusField(serializers.Field):
    """A status id, or its title (case-insensitive)."""

    def to_internal_value(self, data: Any) -> TicketStatus:
        if isinstance(data, bool) or isinstance(data, (dict, list)) or data is None:
            raise serializers.ValidationError(_("Enter a status id."))
        text = str(data).strip()
        if "\x00" in text:
            raise serializers.ValidationError(_("Null characters are not allowed."))
        statuses = refcache.get("statuses")  # {id: status}, cached: no query per write
        status = None
        if text.isdecimal():
            pk = parse_id(text)  # None for more digits than an id has: unknown, never a 500
            if pk is not None:
                status = statuses.get(pk)
        elif text:
            folded = text.casefold()
            status = next((s for s in sorted(statuses.values(), key=lambda s: s.pk)
                           if s.title.casefold() == folded), None)
        if status is None:
            raise serializers.ValidationError(_("Unknown status: %(s)s.") % {"s": text[:64]})
        return status

    def to_representation(self, value: Any) -> Any:
        return value.pk


class CCField(serializers.ListField):
    """CC addresses: an array, the form field repeated, or one comma-separated string."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", _("Addresses copied on the ticket's mail (the full list)."))
        super().__init__(child=serializers.EmailField(max_length=254), max_length=50, allow_empty=True, **kwargs)

    def get_value(self, dictionary: Any) -> Any:
        value = super().get_value(dictionary)
        if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str) and "," in value[0]:
            value = value[0].split(",")
        elif isinstance(value, str):
            value = value.split(",") if value.strip() else []
        if isinstance(value, list):
            value = [v.strip() if isinstance(v, str) else v for v in value if not (isinstance(v, str) and not v.strip())]
        return value


class FilesField(serializers.ListField):
    """``files``: one or more files of a multipart request (the field repeated)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "help_text", _("Files to attach (multipart/form-data, the field repeated); limits: HELPDESK ATTACHMENT_*.")
        )
        super().__init__(child=serializers.FileField(allow_empty_file=True, use_url=False), allow_empty=True, **kwargs)


class TicketWriteSerializer(StrictSerializer):
    """Create (POST /tickets) and, partial, edit (PATCH /tickets/{id}) a ticket.

    Keys that are not ``ticket_*`` fields are the ticket's custom fields, by key; they are
    validated with the ticket's other fields so one 422 reports every problem.
    """

    allow_extra = True
    ticket_clientid = ModelIdField(Client.objects.all(), help_text=_("An existing client (contacts: their own, the default)."))
    ticket_categoryid = DepartmentIdField(help_text=_("A department id."))
    ticket_projectid = ModelIdField(
        Project.objects.all(), required=False, allow_null=True, help_text=_("A project of the client; null clears.")
    )
    ticket_subject = serializers.CharField(max_length=255)
    ticket_message = serializers.CharField()
    ticket_priority = NamedChoiceField(choices=PRIORITIES, enum_name="PriorityEnum")
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50, allow_blank=True), required=False, max_length=500,
        help_text=_("Tag names (array, or the form field repeated); unknown tags are created."),
    )
    requester = RequesterField(
        required=False, allow_null=True,
        help_text=_("A user id, or an email address: that user, or a new one made a contact of the ticket's client "
                    "(agents)."),
    )
    assignee_ids = UserIdListField(required=False, help_text=_("Active staff user ids (agents); [] clears."))
    status = StatusField(required=False, help_text=_("The first status, an id or title (agents; create only)."))
    metadata = MetadataField(required=False, help_text=_("A JSON object, kept as sent (size-limited)."))
    type = serializers.CharField(max_length=Ticket._meta.get_field("type").max_length, allow_blank=True, required=False)
    severity = serializers.CharField(
        max_length=Ticket._meta.get_field("severity").max_length, allow_blank=True, required=False,
        help_text=_("Free text (agents)."),
    )
    product = serializers.CharField(max_length=Ticket._meta.get_field("product").max_length, allow_blank=True, required=False)
    time_spent = serializers.DecimalField(
        max_digits=14, decimal_places=6, min_value=0, max_value=99999999, required=False,
        help_text=_("Minutes, decimal (agents)."),
    )

    #: What a contact may set on their own ticket's create besides the ``ticket_*`` fields.
    CONTACT_FIELDS = frozenset({"type", "product", "metadata"})
    AGENT_FIELDS = frozenset({"tags", "requester", "assignee_ids", "status", "severity", "time_spent"})

    def validate_type(self, value: str) -> str:
        return _no_nul(value)

    def validate_severity(self, value: str) -> str:
        return _no_nul(value)

    def validate_product(self, value: str) -> str:
        return _no_nul(value)
    ticket_cc = CCField(required=False)
    files = FilesField(required=False)

    def clean_extra(self, extra: dict[str, Any]) -> dict[str, Any]:
        # PostgreSQL cannot store NUL characters in text or JSON; say so instead of failing.
        nul = {key: [_("Null characters are not allowed.")] for key, value in extra.items() if "\x00" in str(value)}
        if nul:
            raise DjangoValidationError(nul)
        instance = self.instance
        clean_custom_fields(extra, existing=instance.custom_fields if instance else None, partial=self.partial)
        return extra


class TicketCreateSerializer(TicketWriteSerializer):
    def __init__(self, *args: Any, contact_client: Client | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.contact_client = contact_client
        if contact_client is not None:
            self.fields["ticket_clientid"].required = False

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.contact_client is not None:
            client = attrs.get("ticket_clientid")
            if client is not None and client.pk != self.contact_client.pk:
                raise serializers.ValidationError({"ticket_clientid": [_("You can only open tickets for your own client.")]})
            attrs["ticket_clientid"] = self.contact_client
            if attrs.get("tags"):
                raise serializers.ValidationError({"tags": [_("Only agents can tag tickets.")]})
            refused = {
                key: [_("Only agents can set this.")] for key in self.AGENT_FIELDS - {"tags"} if key in attrs
            }
            if refused:
                raise serializers.ValidationError(refused)
        return attrs


class TicketUpdateSerializer(TicketWriteSerializer):
    refused = {
        "ticket_clientid": _("A ticket's client cannot be changed."),
        "tags": _("Use PUT /tickets/{id}/tags."),
        "status": _("Use PUT /tickets/{id}/status."),
        "ticket_status": _("Use PUT /tickets/{id}/status."),
    }

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields.pop("ticket_clientid")
        fields.pop("tags")
        fields.pop("status")
        fields.pop("files")
        return fields


class TicketStatusWriteSerializer(StrictSerializer):
    status = StatusField(help_text=_("A status id (1 Open, 2 Closed, 3 On Hold, 4 Answered, 5 Customer Replied) or title."))


class TicketMergeWriteSerializer(StrictSerializer):
    target = serializers.IntegerField(min_value=1, max_value=MAX_ID,
                                      help_text=_("The id of the ticket this one is a duplicate of."))


class CannedReplySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    body = serializers.CharField(help_text=_("The text with its placeholders, e.g. {{ requester.first_name }}."))
    shared = serializers.BooleanField(help_text=_("False: the caller's personal reply."))
    status_id = serializers.IntegerField(allow_null=True, help_text=_("The status it sets, or null."))
    tags = serializers.ListField(child=serializers.CharField(), help_text=_("The tags it adds."))


class TicketTagsWriteSerializer(StrictSerializer):
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50, allow_blank=True), allow_empty=True, max_length=500,
        help_text=_("The complete set of tag names; [] (or tags= in a form) clears."),
    )


class ReplyWriteSerializer(StrictSerializer):
    ticketreply_text = serializers.CharField(help_text=_("The message."))
    ticketreply_type = NamedChoiceField(
        choices=ReplyType.values, enum_name="ReplyTypeEnum", default=ReplyType.REPLY, help_text=_("reply (default) or note (agents only).")
    )
    files = FilesField(required=False)


class EmptySerializer(StrictSerializer):
    """A body with nothing in it (archive, restore)."""
