"""Who a user is to the helpdesk: an agent, a client contact, or nobody.

The API's permission classes and the selectors both ask these functions, so the
roles of API.md are defined once.
"""

from __future__ import annotations

from typing import Any

from .models import Contact


def is_agent(user: Any) -> bool:
    """An active staff user: sees and changes every ticket."""
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff)


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


def can_delete_ticket(user: Any) -> bool:
    return bool(is_agent(user) and user.has_perm("helpdesk.delete_ticket"))


def can_manage_webhooks(user: Any) -> bool:
    """An agent with the permission to change webhooks (the API's ``/webhooks``)."""
    return bool(is_agent(user) and user.has_perm("helpdesk.change_webhooksubscription"))
