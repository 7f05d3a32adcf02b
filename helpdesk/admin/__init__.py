"""The helpdesk's Django admin: importing this package registers every model.

``tickets`` is the agents' workplace (list, ticket page, actions, overview);
``reference`` the reference data and conversation rows; ``apikeys`` the API keys; ``sla`` the SLA calendars and policies.
Each admin class is importable, so a site can unregister one and subclass it.
"""

from .access import AgentAccessAdmin, AgentAccessInline
from .apikeys import APIKeyAdmin
from .reference import (
    ClientAdmin,
    ClientDomainAdmin,
    ContactAdmin,
    CustomFieldAdmin,
    DepartmentAdmin,
    ProjectAdmin,
    ReplyAdmin,
    StatusChangeAdmin,
    TagAdmin,
    TicketStatusAdmin,
)
from .canned import CannedReplyAdmin
from .sla import BusinessCalendarAdmin, HolidayAdmin, SLAPolicyAdmin
from .tickets import TicketAdmin, TicketOverviewAdmin

__all__ = [
    "AgentAccessAdmin", "AgentAccessInline", "APIKeyAdmin", "BusinessCalendarAdmin", "CannedReplyAdmin", "HolidayAdmin",
    "SLAPolicyAdmin", "ClientAdmin", "ClientDomainAdmin", "ContactAdmin", "CustomFieldAdmin", "DepartmentAdmin",
    "ProjectAdmin", "ReplyAdmin", "StatusChangeAdmin", "TagAdmin", "TicketAdmin", "TicketOverviewAdmin",
    "TicketStatusAdmin",
]
