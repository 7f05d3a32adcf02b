"""The webhook tables: subscriptions, the outbox of messages (one per subscription and
event, written in the transaction of the change) and the log of delivery attempts.

Imported by ``helpdesk.models``, so they are the ``helpdesk`` app's models.
"""

from __future__ import annotations

import base64
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def new_message_id() -> str:
    return "msg_" + secrets.token_hex(16)


class WebhookSubscription(models.Model):
    """A URL that wants some events, and the secret its messages are signed with."""

    url = models.URLField(_("URL"), max_length=2000)
    events = models.JSONField(_("events"), default=list, help_text=_("Event types, e.g. ticket.created."))
    secret = models.CharField(_("secret"), max_length=200, default=new_secret,
                              help_text=_("Standard Webhooks secret (whsec_…) the receiver verifies signatures with."))
    description = models.CharField(_("description"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.TextField(_("why disabled"), blank=True, editable=False)
    failure_count = models.PositiveIntegerField(_("failures in a row"), default=0, editable=False)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("created by"), editable=False)
    # One worker delivers a subscription's messages at a time (that keeps them in order);
    # it holds this lease, renewed per message. A killed worker's lease simply runs out.
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    lease_token = models.CharField(max_length=32, blank=True, editable=False)

    class Meta:
        ordering = ["id"]
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    DELIVERED = "delivered", _("delivered")
    FAILED = "failed", _("failed")


class WebhookDelivery(models.Model):
    """One message for one subscription: the outbox row, then its delivery state."""

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries",
                                     verbose_name=_("webhook"))
    message_id = models.CharField(_("message id"), max_length=40, unique=True, default=new_message_id)
    event = models.CharField(_("event"), max_length=50)
    # Not a foreign key: a ticket.deleted message outlives its ticket.
    ticket_id = models.BigIntegerField(_("ticket id"), null=True, blank=True)
    payload = models.JSONField(_("payload"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    status = models.CharField(_("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("webhook message")
        verbose_name_plural = _("webhook messages")
        indexes = [models.Index(fields=["subscription", "status", "id"], name="helpdesk_whd_sub_status")]

    def __str__(self) -> str:
        return f"{self.event} {self.message_id}"


class WebhookAttempt(models.Model):
    """One try at delivering a message: what the receiver answered, and how fast."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log",
                                 verbose_name=_("message"))
    at = models.DateTimeField(_("at"), default=timezone.now)
    ok = models.BooleanField(_("delivered"), default=False)
    status_code = models.PositiveIntegerField(_("HTTP status"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("time (ms)"), default=0)
    response_excerpt = models.TextField(_("response excerpt"), blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")

    def __str__(self) -> str:
        return f"{self.delivery_id} @ {self.at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error[:40]}"
