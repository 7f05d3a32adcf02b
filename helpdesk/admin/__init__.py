"""The helpdesk's Django admin: importing this package registers every model.

``tickets`` is the agents' workplace (list, ticket page, actions, overview);
``reference`` the reference data and conversation rows; ``apikeys`` the API keys; ``webhooks`` the webhooks and their messages.
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
from .tickets import TicketAdmin, TicketOverviewAdmin
from .webhooks import WebhookAttemptAdmin, WebhookDeliveryAdmin, WebhookSubscriptionAdmin

__all__ = [
    "AgentAccessAdmin", "AgentAccessInline", "APIKeyAdmin", "IdempotencyKeyAdmin", "ClientAdmin", "ClientDomainAdmin", "ContactAdmin", "CustomFieldAdmin", "DepartmentAdmin",
    "ProjectAdmin", "ReplyAdmin", "StatusChangeAdmin", "TagAdmin", "TicketAdmin", "TicketOverviewAdmin",
    "TicketStatusAdmin", "AttachmentAdmin", "MailboxAdmin", "MailMessageAdmin", "QuarantinedMailAdmin",
    "TicketStatusAdmin", "WebhookAttemptAdmin", "WebhookDeliveryAdmin", "WebhookSubscriptionAdmin",
]
