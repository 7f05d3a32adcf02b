"""The helpdesk's Django admin: importing this package registers every model.

``tickets`` is the agents' workplace (list, ticket page, actions, overview);
``reference`` the reference data and conversation rows; ``apikeys`` the API keys; ``webhooks`` the
webhooks and their messages; ``sla`` the SLA calendars and policies; ``canned`` the canned replies.
Each admin class is importable, so a site can unregister one and subclass it.
"""

from .access import AgentAccessAdmin, AgentAccessInline
from .apikeys import APIKeyAdmin
from .idempotency import IdempotencyKeyAdmin
from .mail import AttachmentAdmin, MailboxAdmin, MailMessageAdmin, QuarantinedMailAdmin
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
from .webhooks import WebhookAttemptAdmin, WebhookDeliveryAdmin, WebhookSubscriptionAdmin

__all__ = [
    "AgentAccessAdmin", "AgentAccessInline", "APIKeyAdmin", "BusinessCalendarAdmin", "CannedReplyAdmin", "HolidayAdmin",
    "IdempotencyKeyAdmin", "SLAPolicyAdmin", "ClientAdmin", "ClientDomainAdmin", "ContactAdmin", "CustomFieldAdmin",
    "DepartmentAdmin",
    "ProjectAdmin", "ReplyAdmin", "StatusChangeAdmin", "TagAdmin", "TicketAdmin", "TicketOverviewAdmin",
    "TicketStatusAdmin", "AttachmentAdmin", "MailboxAdmin", "MailMessageAdmin", "QuarantinedMailAdmin",
    "WebhookAttemptAdmin", "WebhookDeliveryAdmin", "WebhookSubscriptionAdmin",
]
