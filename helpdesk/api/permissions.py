"""The API's roles (API.md): agents, client contacts, and the model permissions.

The rules themselves live in ``helpdesk.permissions``; these classes only ask them.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from ..permissions import can_delete_ticket, can_sync, can_view_clients, can_view_projects, is_agent, is_contact


class IsHelpdeskUser(BasePermission):
    """An agent or a client contact; any other signed-in user gets 403."""

    message = _("Only helpdesk agents and client contacts can use this API.")

    def has_permission(self, request: Any, view: Any) -> bool:
        return is_agent(request.user) or is_contact(request.user)


class IsAgent(BasePermission):
    message = _("Only agents can do this.")

    def has_permission(self, request: Any, view: Any) -> bool:
        return is_agent(request.user)


class CanDeleteTicket(BasePermission):
    message = _("Deleting tickets needs the helpdesk.delete_ticket permission.")

    def has_permission(self, request: Any, view: Any) -> bool:
        return can_delete_ticket(request.user)


class CanSync(BasePermission):
    message = _("Syncing tickets needs the helpdesk.add_ticket or helpdesk.change_ticket permission.")

    def has_permission(self, request: Any, view: Any) -> bool:
        return can_sync(request.user)


class CanViewClients(BasePermission):
    message = _("Listing clients needs the helpdesk.view_client permission.")

    def has_permission(self, request: Any, view: Any) -> bool:
        return can_view_clients(request.user)


class CanViewProjects(BasePermission):
    message = _("Listing projects needs the helpdesk.view_project permission.")

    def has_permission(self, request: Any, view: Any) -> bool:
        return can_view_projects(request.user)
