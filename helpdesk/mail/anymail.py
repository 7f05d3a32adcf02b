"""Inbound mail from providers' webhooks (Mailgun, Postmark, SES, SendGrid, ...) through
django-anymail: its ``inbound`` signal hands us each message, which ``ingest_mail`` stores.

Enabled when ``anymail`` is installed: add ``path("anymail/", include("anymail.urls"))`` to
the site's URLs, set ``ANYMAIL = {"WEBHOOK_SECRET": "user:password", ...}`` and point the
provider's inbound route at ``/anymail/<provider>/inbound/`` (see README, "Mail").
"""

from __future__ import annotations

import logging
from typing import Any

from .ingest import ingest_mail

logger = logging.getLogger(__name__)


def handle_inbound(sender: Any, event: Any, esp_name: str, **kwargs: Any) -> None:
    """The ``anymail.signals.inbound`` receiver: one provider event → one ingested mail."""
    message = event.message
    if message is None:
        return
    raw = message.as_bytes()
    result = ingest_mail(raw, source=f"anymail:{esp_name}"[:100])
    logger.info("Inbound mail from %s: %s", esp_name, result)


def connect() -> bool:
    """Connect ``handle_inbound`` if django-anymail is installed (called from ``apps.ready``)."""
    try:
        from anymail.signals import inbound
    except ImportError:
        return False
    inbound.connect(handle_inbound, dispatch_uid="helpdesk.mail.anymail")
    return True
