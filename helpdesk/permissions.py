"""Who a user is to the helpdesk, and what they may do: the one permission model of the
admin, the native API, the dialects, the sync and the selectors.

* An **agent** is an active staff user who may work tickets: Django's model permission
  ``helpdesk.view_ticket`` or ``helpdesk.change_ticket`` (the "Helpdesk agents" group
  carries them; superusers have every permission). Every other action needs its own model
  permission (``change_ticket``, ``add_reply``, ``add_note``, ``view_note``,
  ``delete_ticket``, ...), exactly as in the Django admin. A staff user without them is
  nobody: 403 in the API as in the admin.
* An agent may be **limited to some departments** (``AgentAccess``); they then see,
  search, count and change only those departments' tickets. Superusers are never limited.
* A **client contact** is an active non-staff user linked to a client: their client's
  tickets, never internal notes, no model permissions needed.

The ``can_*`` functions take the ticket when there is one (``None`` asks "any ticket?").
"""

from __future__ import annotations

from typing import Any

from .models import AgentAccess, Contact

#: The group migration 0002 creates; migration 0010 grants it the note permissions.
AGENT_GROUP = "Helpdesk agents"
#: What the group carries (migrations 0002 and 0010): working tickets every day, but not
#: deleting tickets nor changing reference data.
AGENT_PERMISSIONS = {
    "ticket": ["view", "add", "change", "archive"],
    "reply": ["view", "add", "change", "delete", "view_note", "add_note"],
    "statuschange": ["view"],
    "tag": ["view", "add", "change"],
    "client": ["view", "add", "change"],
    "clientdomain": ["view", "add", "change", "delete"],
    "contact": ["view", "add", "change"],
    "project": ["view", "add", "change"],
    "department": ["view"],
    "ticketstatus": ["view"],
    "customfield": ["view"],
}


def ensure_agent_group() -> Any:
    """The "Helpdesk agents" group with every permission of ``AGENT_PERMISSIONS``, made or
    completed if needed (e.g. after a test database flush)."""
    from django.contrib.auth.models import Group, Permission

    group, _created = Group.objects.get_or_create(name=AGENT_GROUP)
    codenames = [
        action if "_" in action else f"{action}_{model}"
        for model, actions in AGENT_PERMISSIONS.items() for action in actions
    ]
    wanted = Permission.objects.filter(content_type__app_label="helpdesk", codename__in=codenames)
    missing = wanted.exclude(pk__in=group.permissions.values("pk"))
    if missing.exists():
        group.permissions.add(*missing)
    return group


def _has(user: Any, codename: str) -> bool:
    return bool(user.has_perm(f"helpdesk.{codename}"))


def is_agent(user: Any) -> bool:
    """An active staff user allowed to work tickets (``view_ticket`` or ``change_ticket``)."""
    if user is None or not user.is_authenticated or not user.is_active or not user.is_staff:
        return False
    return _has(user, "view_ticket") or _has(user, "change_ticket")


def contact_client_id(user: Any) -> int | None:
    """The client id of an active non-staff user linked to a client, else None."""
    if user is None or not user.is_authenticated or not user.is_active or user.is_staff:
        return None
    cached = getattr(user, "_helpdesk_client_id", False)
    if cached is not False:
        return cached
    client_id = Contact.objects.filter(user_id=user.pk).values_list("client_id", flat=True).first()
    user._helpdesk_client_id = client_id
    return client_id


def is_contact(user: Any) -> bool:
    return contact_client_id(user) is not None


def agent_department_ids(user: Any) -> frozenset[int] | None:
    """The departments an agent is limited to, or None for every department.

    None too for superusers and for anyone who is not limited by a row; read once per
    user object.
    """
    if user is None or not user.is_authenticated or getattr(user, "is_superuser", False):
        return None
    cached = getattr(user, "_helpdesk_department_ids", False)
    if cached is not False:
        return cached
    # (The API key's lookup reads them along with the user: ``helpdesk.user_permissions``.)
    rows = list(AgentAccess.objects.filter(user_id=user.pk).values_list("departments", flat=True))
    ids = None if not rows else frozenset(pk for pk in rows if pk is not None)
    user._helpdesk_department_ids = ids
    return ids


def can_use_department(user: Any, department: Any) -> bool:
    """May ``user`` put a ticket into ``department`` (an instance or an id)? Only a
    department-limited agent is ever refused; contacts open tickets in any department."""
    if department is None:
        return True
    ids = agent_department_ids(user) if is_agent(user) else None
    if ids is None:
        return True
    return getattr(department, "pk", department) in ids


def _agent_on(user: Any, ticket: Any) -> bool:
    """An agent whose departments include the ticket's (any ticket when ``ticket`` is None)."""
    if not is_agent(user):
        return False
    if ticket is None:
        return True
    ids = agent_department_ids(user)
    return ids is None or ticket.department_id in ids


def can_view_ticket(user: Any, ticket: Any = None) -> bool:
    """Agents within their departments; a contact their client's tickets."""
    if is_agent(user):
        return _agent_on(user, ticket)
    client_id = contact_client_id(user)
    return client_id is not None and (ticket is None or ticket.client_id == client_id)


def can_add_ticket(user: Any) -> bool:
    """Agents with ``add_ticket`` (into their departments, see ``can_use_department``); contacts."""
    return (is_agent(user) and _has(user, "add_ticket")) or is_contact(user)


def can_change_ticket(user: Any, ticket: Any = None) -> bool:
    """Edit, status, tags, assignees: agents with ``change_ticket`` within their departments."""
    return _agent_on(user, ticket) and _has(user, "change_ticket")


def can_archive_ticket(user: Any, ticket: Any = None) -> bool:
    return _agent_on(user, ticket) and _has(user, "archive_ticket")


def can_delete_ticket(user: Any, ticket: Any = None) -> bool:
    """Deleting for good needs ``delete_ticket`` (the agents group does not have it)."""
    return _agent_on(user, ticket) and _has(user, "delete_ticket")


def can_view_notes(user: Any, ticket: Any = None) -> bool:
    """Internal notes: agents with ``view_note``; never contacts."""
    return _agent_on(user, ticket) and _has(user, "view_note")


def can_add_reply(user: Any, ticket: Any = None) -> bool:
    """A public reply: agents who may change the ticket and have ``add_reply``; a contact
    on their client's tickets."""
    if is_agent(user):
        return can_change_ticket(user, ticket) and _has(user, "add_reply")
    return can_view_ticket(user, ticket)


def can_add_note(user: Any, ticket: Any = None) -> bool:
    return can_change_ticket(user, ticket) and _has(user, "add_note")


def can_delete_reply(user: Any, ticket: Any = None) -> bool:
    return can_change_ticket(user, ticket) and _has(user, "delete_reply")


def can_view_history(user: Any, ticket: Any = None) -> bool:
    """The status history: agents with ``view_statuschange``."""
    return _agent_on(user, ticket) and _has(user, "view_statuschange")


def can_sync(user: Any) -> bool:
    """The bulk upsert: agents who may create or change tickets (each item is checked too)."""
    return is_agent(user) and (_has(user, "add_ticket") or _has(user, "change_ticket"))


def can_view_clients(user: Any) -> bool:
    return is_agent(user) and _has(user, "view_client")


def can_view_projects(user: Any) -> bool:
    return is_agent(user) and _has(user, "view_project")


def can_act_on_behalf_of(user: Any) -> bool:
    """May send requests as another user (Zammad's ``X-On-Behalf-Of``): an agent who may
    change users (``auth.change_user``, Zammad's ``admin.user``)."""
    return bool(is_agent(user) and user.has_perm("auth.change_user"))
def can_manage_webhooks(user: Any) -> bool:
    """Webhooks (the admin's and the API's ``/webhooks``): agents with ``change_webhooksubscription``."""
    return is_agent(user) and _has(user, "change_webhooksubscription")
