"""Zammad's JSON, both ways: plain functions that render tickets, articles, users,
organizations, groups, states and priorities in Zammad's field names and types, and the
parsers that turn a Zammad request body into service arguments (a clear 422 for what
they cannot take; nothing is dropped silently).
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models.functions import Lower
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from ...attachments import IncomingFile, message_files
from ...models import Attachment, Client, Contact, CustomField, Department, Reply, ReplyType, Ticket
from ...permissions import can_view_notes, contact_client_id, is_agent
from . import mapping
from .errors import Unprocessable
from .mapping import MAX_ID, date

# -- output ------------------------------------------------------------------------------


def _login(user: Any) -> str | None:
    return user.get_username() if user is not None else None


def _owner(ticket: Ticket) -> Any:
    assignees = sorted(ticket.assignees.all(), key=lambda u: u.pk)
    return assignees[0] if assignees else None


def article_count(ticket: Ticket, *, user: Any) -> int:
    """The opening message plus the replies (and, for who may read them, the notes) the caller sees."""
    count = 1 + ticket.replies_count
    if can_view_notes(user, ticket):
        count += ticket.notes_count
    return count


def ticket_data(
    ticket: Ticket, *, user: Any, expand: bool = False, article_ids: list[int] | None = None
) -> dict[str, Any]:
    """A ticket as Zammad renders it (``attributes_with_association_ids``; with ``expand``,
    the association names too). Needs ``selectors.ticket_list``'s joins to stay query-free."""
    owner = _owner(ticket)
    state_id = mapping.state_for_ticket(ticket)
    priority_id = mapping.priority_for_ticket(ticket)
    customer = ticket.requester
    data: dict[str, Any] = {
        "id": ticket.pk,
        "group_id": ticket.department_id,
        "priority_id": priority_id,
        "state_id": state_id,
        "organization_id": ticket.client_id,
        "number": str(ticket.pk),
        "title": ticket.subject,
        "owner_id": owner.pk if owner else None,
        "customer_id": ticket.requester_id,
        "note": (ticket.metadata or {}).get(mapping.NOTE_KEY),
        "first_response_at": date(ticket.first_response_at),
        "first_response_escalation_at": None,
        "first_response_in_min": None,
        "first_response_diff_in_min": None,
        "close_at": date(ticket.closed_at),
        "close_escalation_at": None,
        "close_in_min": None,
        "close_diff_in_min": None,
        "update_escalation_at": None,
        "update_in_min": None,
        "update_diff_in_min": None,
        "last_contact_at": date(ticket.last_reply_at),
        "last_contact_agent_at": None,
        "last_contact_customer_at": None,
        "last_owner_update_at": None,
        "create_article_type_id": mapping.ARTICLE_TYPES[_opening_type(ticket)],
        "create_article_sender_id": mapping.SENDER_IDS[_opening_sender(ticket)],
        "article_count": article_count(ticket, user=user),
        "escalation_at": None,
        "pending_time": None,
        "type": ticket.type or None,
        "time_unit": str(ticket.time_spent) if ticket.time_spent else None,
        "preferences": {},
        "updated_by_id": ticket.creator_id,
        "created_by_id": ticket.creator_id,
        "created_at": date(ticket.created_at),
        "updated_at": date(ticket.updated_at),
    }
    for key, value in (ticket.custom_fields or {}).items():
        data.setdefault(key, value)
    if article_ids is not None:
        data["article_ids"] = article_ids
        data["ticket_time_accounting_ids"] = []
    if expand:
        data.update({
            "group": ticket.department.name,
            "state": mapping.state_name(state_id),
            "priority": mapping.priority_name(priority_id),
            "organization": ticket.client.name,
            "customer": _login(customer),
            "owner": _login(owner) or "-",
            "created_by": _login(ticket.creator),
            "updated_by": _login(ticket.creator),
            "create_article_type": _opening_type(ticket),
            "create_article_sender": _opening_sender(ticket),
        })
    return data


def _address(user: Any) -> str | None:
    if user is None:
        return None
    name = user.get_full_name() if hasattr(user, "get_full_name") else ""
    email = getattr(user, "email", "") or ""
    if name and email:
        return f"{name} <{email}>"
    return email or name or user.get_username()


def _opening_sender(ticket: Ticket) -> str:
    author = ticket.requester or ticket.creator
    return "Agent" if author is not None and is_agent(author) else "Customer"


def _opening_type(ticket: Ticket) -> str:
    return {"email": "email", "web": "web"}.get(ticket.channel, "note")


def opening_article_data(ticket: Ticket, *, expand: bool = True) -> dict[str, Any]:
    """The ticket's own message as its first Zammad article (its id is the ticket's)."""
    author = ticket.requester or ticket.creator
    sender = _opening_sender(ticket)
    kind = _opening_type(ticket)
    data = {
        "id": mapping.opening_article_id(ticket.pk),
        "ticket_id": ticket.pk,
        "type_id": mapping.ARTICLE_TYPES[kind],
        "sender_id": mapping.SENDER_IDS[sender],
        "from": _address(author),
        "to": "",
        "cc": "",
        "subject": ticket.subject,
        "reply_to": None,
        "message_id": None,
        "message_id_md5": None,
        "in_reply_to": None,
        "content_type": "text/plain",
        "references": None,
        "body": ticket.message,
        "internal": False,
        "preferences": {},
        "updated_by_id": ticket.creator_id,
        "created_by_id": ticket.creator_id or ticket.requester_id,
        "origin_by_id": ticket.requester_id if ticket.requester_id != ticket.creator_id else None,
        "created_at": date(ticket.created_at),
        "updated_at": date(ticket.created_at),
        "attachments": [attachment_data(a) for a in message_files(ticket)],
        "time_unit": None,
    }
    if expand:
        data.update({"type": kind, "sender": sender, "created_by": _login(ticket.creator or author),
                     "updated_by": _login(ticket.creator or author)})
    return data


def reply_article_data(reply: Reply, *, expand: bool = True) -> dict[str, Any]:
    """A reply (public) or note (internal) as a Zammad article (id ``REPLY_OFFSET + reply id``)."""
    author = reply.author
    sender = "Agent" if author is not None and is_agent(author) else "Customer"
    data = {
        "id": mapping.reply_article_id(reply.pk),
        "ticket_id": reply.ticket_id,
        "type_id": mapping.ARTICLE_TYPES["note"],
        "sender_id": mapping.SENDER_IDS[sender],
        "from": _address(author),
        "to": "",
        "cc": "",
        "subject": "",
        "reply_to": None,
        "message_id": None,
        "message_id_md5": None,
        "in_reply_to": None,
        "content_type": "text/plain",
        "references": None,
        "body": reply.text,
        "internal": reply.type == ReplyType.NOTE,
        "preferences": {},
        "updated_by_id": reply.author_id,
        "created_by_id": reply.author_id,
        "origin_by_id": None,
        "created_at": date(reply.created_at),
        "updated_at": date(reply.created_at),
        "attachments": [attachment_data(a) for a in reply.attachments.all()],
        "time_unit": None,
    }
    if expand:
        data.update({"type": "note", "sender": sender, "created_by": _login(author), "updated_by": _login(author)})
    return data


def attachment_data(attachment: Attachment) -> dict[str, Any]:
    """A file as Zammad lists it on its article (a ``Store``: ``size`` is a string there);
    downloaded from ``/ticket_attachment/{ticket_id}/{article_id}/{id}``."""
    preferences = {"Content-Type": attachment.content_type, "Mime-Type": attachment.content_type}
    if attachment.inline:
        preferences["Content-Disposition"] = "inline"
        if attachment.content_id:
            preferences["Content-ID"] = attachment.content_id
    return {"id": attachment.pk, "filename": attachment.filename, "size": str(attachment.size),
            "preferences": preferences}


def role_names(user: Any) -> list[str]:
    if is_agent(user):
        return ["Admin", "Agent"] if user.is_superuser else ["Agent"]
    return ["Customer"]


def user_data(user: Any, *, expand: bool = False) -> dict[str, Any]:
    contact = getattr(user, "helpdesk_contact", None) if _has_contact(user) else None
    roles = role_names(user)
    data = {
        "id": user.pk,
        "organization_id": contact.client_id if contact else None,
        "login": user.get_username(),
        "firstname": getattr(user, "first_name", "") or "",
        "lastname": getattr(user, "last_name", "") or "",
        "email": getattr(user, "email", "") or "",
        "image": None,
        "web": "",
        "phone": contact.phone if contact else "",
        "fax": "",
        "mobile": "",
        "department": "",
        "street": "",
        "zip": "",
        "city": "",
        "country": "",
        "address": "",
        "vip": False,
        "verified": False,
        "active": bool(user.is_active),
        "note": "",
        "last_login": date(getattr(user, "last_login", None)),
        "source": None,
        "login_failed": 0,
        "out_of_office": False,
        "preferences": {},
        "role_ids": [mapping.ROLE_IDS[name] for name in roles],
        "organization_ids": [],
        "group_ids": {},
        "updated_by_id": 1,
        "created_by_id": 1,
        "created_at": date(getattr(user, "date_joined", None)),
        "updated_at": date(getattr(user, "last_login", None) or getattr(user, "date_joined", None)),
    }
    if expand:
        data["roles"] = roles
        data["organization"] = contact.client.name if contact else None
        data["organizations"] = []
    return data


def _has_contact(user: Any) -> bool:
    try:
        user.helpdesk_contact
    except Contact.DoesNotExist:
        return False
    return True


def organization_data(client: Client, *, expand: bool = False) -> dict[str, Any]:
    domains = [d.domain for d in client.domains.all()]
    data = {
        "id": client.pk,
        "name": client.name,
        "shared": True,
        "domain": domains[0] if domains else "",
        "domain_assignment": bool(domains),
        "active": True,
        "vip": False,
        "note": client.notes,
        "updated_by_id": 1,
        "created_by_id": 1,
        "created_at": date(client.created_at),
        "updated_at": date(client.created_at),
    }
    if expand:
        data["domains"] = domains
    return data


def group_data(department: Department) -> dict[str, Any]:
    return {
        "id": department.pk,
        "name": department.name,
        "assignment_timeout": None,
        "follow_up_possible": "yes",
        "follow_up_assignment": True,
        "email_address_id": None,
        "signature_id": None,
        "note": department.description,
        "active": True,
        "updated_by_id": 1,
        "created_by_id": 1,
        "created_at": None,
        "updated_at": None,
    }


def state_data(state_id: int, state: Mapping[str, Any], *, expand: bool = False) -> dict[str, Any]:
    from ...conf import helpdesk_settings

    default_status = helpdesk_settings.DEFAULT_STATUS_ID
    new = helpdesk_settings.ZAMMAD_NEW_STATE_ID
    data = {
        "id": state_id,
        "state_type_id": mapping.STATE_TYPE_IDS[state["type"]],
        "name": state["name"],
        "next_state_id": None,
        "ignore_escalation": state["type"] in ("closed", "pending reminder", "pending action"),
        "default_create": state_id == new if new is not None else state["status_id"] == default_status,
        "default_follow_up": state["type"] == "open" and state_id == min(
            (sid for sid, s in mapping.states().items() if s["type"] == "open"), default=state_id),
        "note": None,
        "active": True,
        "updated_by_id": 1,
        "created_by_id": 1,
        "created_at": None,
        "updated_at": None,
    }
    if expand:
        data["state_type"] = state["type"]
    return data


def priority_data(priority_id: int, entry: Mapping[str, Any]) -> dict[str, Any]:
    from ...conf import helpdesk_settings

    return {
        "id": priority_id,
        "name": entry["name"],
        "default_create": helpdesk_settings.ZAMMAD_PRIORITY_FOR_PRIORITY.get("normal") == priority_id,
        "ui_icon": None,
        "ui_color": {"high": "high-priority", "urgent": "high-priority"}.get(entry["priority"]),
        "note": None,
        "active": True,
        "updated_by_id": 1,
        "created_by_id": 1,
        "created_at": None,
        "updated_at": None,
    }


# -- input -------------------------------------------------------------------------------


def as_id(value: Any, field: str) -> int:
    """A Zammad id: a whole number or its digits; anything else is a 422."""
    if isinstance(value, bool):
        raise Unprocessable(_("%(f)s must be an id (a whole number).") % {"f": field})
    number = value if isinstance(value, int) else mapping.parse_id(value)
    if number is not None and 0 < number <= MAX_ID:
        return number
    raise Unprocessable(_("%(f)s must be an id (a whole number).") % {"f": field})


def as_text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise Unprocessable(_("%(f)s must be a string.") % {"f": field})
    return value


def find_user(value: Any, field: str) -> Any:
    """A user by id, username or email (Zammad's ``customer``/``owner`` lookups)."""
    User = get_user_model()
    manager = User._default_manager
    if isinstance(value, str) and mapping.parse_id(value) is None:
        text = value.strip()
        found = manager.filter(**{User.USERNAME_FIELD: text}).first()
        if found is None:
            email_field = User.get_email_field_name()
            found = manager.annotate(_email=Lower(email_field)).filter(_email=text.lower()).order_by("pk").first()
        if found is None:
            raise Unprocessable(_("No lookup value found for '%(f)s': %(v)r") % {"f": field, "v": text[:200]})
        return found
    pk = as_id(value, field)
    found = manager.filter(pk=pk).first()
    if found is None:
        raise Unprocessable(_("No lookup value found for '%(f)s': %(v)r") % {"f": field, "v": pk})
    return found


def find_department(data: Mapping[str, Any]) -> Department | None:
    """``group`` (a name) or ``group_id``; None when neither is sent. A name wins over an
    id, as in Zammad (``association_name_to_id_convert``)."""
    if data.get("group") is not None:
        name = as_text(data["group"], "group")
        department = mapping.department_for_group(name)
        if department is None:
            raise Unprocessable(_("No lookup value found for 'group': %(v)r") % {"v": name[:200]})
        return department
    if data.get("group_id") is not None:
        pk = as_id(data["group_id"], "group_id")
        department = Department.objects.filter(pk=pk).first()
        if department is None:
            raise Unprocessable(_("No lookup value found for 'group_id': %(v)r") % {"v": pk})
        return department
    return None


def _find_entry(
    data: Mapping[str, Any], field: str, table: Mapping[int, Mapping[str, Any]], resolve: Any,
    unknown: str, unresolved: str,
) -> tuple[int, Any] | None:
    """``FIELD`` (a name in ``table``) or ``FIELD_id`` -> (Zammad id, ``resolve(id)``); None
    if neither is sent. ``unknown`` is the 422 for a name not in the table (with ``%(v)r``
    and ``%(k)s``, the known names), ``unresolved`` the 422 for an id ``resolve`` finds nothing for."""
    if data.get(field) is not None:
        entry_id = mapping.by_name(table, as_text(data[field], field))
        if entry_id is None:
            names = ", ".join(entry["name"] for entry in table.values())
            raise Unprocessable(unknown % {"v": str(data[field])[:100], "k": names})
    elif data.get(f"{field}_id") is not None:
        entry_id = as_id(data[f"{field}_id"], f"{field}_id")
    else:
        return None
    found = resolve(entry_id)
    if found is None:
        raise Unprocessable(unresolved % {"v": entry_id})
    return entry_id, found


def find_state(data: Mapping[str, Any]) -> tuple[int, Any] | None:
    """``state`` (a name) or ``state_id`` -> (Zammad state id, our status); None if not sent."""
    return _find_entry(
        data, "state", mapping.states(), mapping.status_for_state,
        _("No lookup value found for 'state': %(v)r. Known: %(k)s."),
        _("State %(v)s is not supported here (see HELPDESK ZAMMAD_STATES)."),
    )


def find_priority(data: Mapping[str, Any]) -> Any:
    """``priority`` (a name) or ``priority_id`` -> our priority; None if not sent."""
    found = _find_entry(
        data, "priority", mapping.priorities(), mapping.our_priority,
        _("No lookup value found for 'priority': %(v)r. Known: %(k)s."),
        _("No lookup value found for 'priority_id': %(v)r"),
    )
    return found[1] if found else None


def find_organization(data: Mapping[str, Any]) -> Client | None:
    """``organization`` (a name) or ``organization_id``; None when neither is sent."""
    if data.get("organization") is not None:
        name = as_text(data["organization"], "organization").strip()
        client = Client.objects.filter(name__iexact=name).order_by("pk").first()
        if client is None:
            raise Unprocessable(_("No lookup value found for 'organization': %(v)r") % {"v": name[:200]})
        return client
    if data.get("organization_id") is not None:
        pk = as_id(data["organization_id"], "organization_id")
        client = Client.objects.filter(pk=pk).first()
        if client is None:
            raise Unprocessable(_("No lookup value found for 'organization_id': %(v)r") % {"v": pk})
        return client
    return None


def find_owner(data: Mapping[str, Any]) -> tuple[bool, Any]:
    """(sent, user or None): ``owner_id``/``owner``; null, 0 or ``"-"`` unassigns."""
    for key in ("owner", "owner_id"):
        if key in data:
            value = data[key]
            if value in (None, 0, "0", "", "-"):
                return True, None
            return True, find_user(value, key)
    return False, None


def tag_names(value: Any, field: str = "tags") -> list[str]:
    """Zammad's ``tags``: a comma-separated string, or a list of strings."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value if v.strip()]
    raise Unprocessable(_("%(f)s must be a comma-separated string or a list of strings.") % {"f": field})


def article_input(value: Any, *, user: Any) -> dict[str, Any]:
    """An ``article`` payload -> ``{"text", "internal", "subject"}``; 422 for what we cannot store."""
    if not isinstance(value, Mapping):
        raise Unprocessable(_("article must be an object with a body."))
    body = value.get("body")
    if not isinstance(body, str) or not body.strip():
        raise Unprocessable(_("article: body is required."))
    content_type = value.get("content_type") or "text/plain"
    if content_type not in ("text/plain", "text/html"):
        raise Unprocessable(_("article: content_type must be text/plain or text/html."))
    text = html_to_text(body) if content_type == "text/html" else body
    if not text.strip():
        raise Unprocessable(_("article: body is required."))
    kind = value.get("type") or "note"
    if kind not in mapping.WRITABLE_ARTICLE_TYPES:
        raise Unprocessable(
            _("article: type %(t)r is not supported here (this server sends no email, SMS or chat); use one of: %(k)s.")
            % {"t": str(kind)[:50], "k": ", ".join(sorted(mapping.WRITABLE_ARTICLE_TYPES))}
        )
    sender = value.get("sender")
    if sender is not None and sender not in mapping.SENDER_IDS:
        raise Unprocessable(_("article: sender must be one of: Agent, Customer, System."))
    internal = value.get("internal", False)
    if isinstance(internal, str) and internal.lower() in ("true", "false"):
        internal = internal.lower() == "true"
    if not isinstance(internal, bool):
        raise Unprocessable(_("article: internal must be true or false."))
    files = attachment_files(value.get("attachments"))
    subject = value.get("subject")
    if subject is not None and not isinstance(subject, str):
        raise Unprocessable(_("article: subject must be a string."))
    time_unit = value.get("time_unit")
    if time_unit in ("", None):
        time_unit = None
    elif isinstance(time_unit, bool) or not isinstance(time_unit, (int, float, str)):
        raise Unprocessable(_("article: time_unit must be a number of minutes."))
    return {"text": text, "internal": internal, "subject": subject or "", "time_unit": time_unit, "files": files}


def attachment_files(value: Any) -> list[IncomingFile]:
    """Zammad's ``attachments: [{"filename", "data" (base64), "mime-type"}]`` -> the files
    to attach. The type is sniffed from the bytes when stored (``helpdesk.attachments``),
    so ``mime-type`` is accepted but not trusted. A 422 names the attachment at fault; the
    limits (size, count, types) are the attachment service's."""
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise Unprocessable(_("article: attachments must be a list of objects with filename and data."))
    files = []
    for number, item in enumerate(value, 1):
        name = item.get("filename") if isinstance(item, Mapping) else None
        data = item.get("data") if isinstance(item, Mapping) else None
        mime = item.get("mime-type", item.get("mime_type")) if isinstance(item, Mapping) else None
        if not isinstance(name, str) or not name.strip() or not isinstance(data, str) or not isinstance(mime, (str, type(None))):
            raise Unprocessable(_("article: attachment %(n)d needs a filename and its data (base64).") % {"n": number})
        try:
            # Line-wrapped base64 (``base64.encodebytes``, MIME) is base64 too.
            content = base64.b64decode("".join(data.split()), validate=True)
        except (binascii.Error, ValueError):
            raise Unprocessable(_("article: attachment %(n)d (%(name)s): data is not valid base64.") % {
                "n": number, "name": name[:200]}) from None
        files.append(IncomingFile.from_bytes(name, content))
    return files


_BREAK = re.compile(r"<br\s*/?>|</(?:p|div|li|h[1-6]|tr|blockquote)\s*>", re.IGNORECASE)


def html_to_text(body: str) -> str:
    """An HTML body as the plain text we store: line breaks kept, tags dropped, entities decoded."""
    text = html.unescape(strip_tags(_BREAK.sub("\n", body)))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def custom_field_values(data: Mapping[str, Any], known: frozenset[str]) -> tuple[dict[str, Any], list[str]]:
    """Keys naming enabled custom fields (Zammad's object attributes) -> their values;
    returns (values, the unknown keys left)."""
    rest = [key for key in data if key not in known]
    if not rest:
        return {}, []
    fields = set(CustomField.objects.filter(enabled=True, key__in=rest).values_list("key", flat=True))
    return {key: data[key] for key in rest if key in fields}, [key for key in rest if key not in fields]


def contact_client(user: Any) -> Client | None:
    client_id = contact_client_id(user)
    return Client.objects.filter(pk=client_id).first() if client_id else None
