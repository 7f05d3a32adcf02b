"""One inbound mail → a ticket or a reply, through the services; every source (stdin,
IMAP/POP3, providers' webhooks) calls ``ingest_mail``.

Threading: ``In-Reply-To``/``References`` naming one of our ``Message-ID``s, then a
``[#123]`` token in the subject (only from someone the ticket concerns), else a new
ticket. A mail seen twice (same ``Message-ID``) is stored once. A mail that does not
become a ticket or reply (unparseable, too large, an auto-reply or bounce, a blocked
sender, an error) is kept whole as a ``QuarantinedMail`` row: nothing is lost.
"""

from __future__ import annotations

import logging
import re
import traceback
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from .. import services
from ..attachments import IncomingFile, attachments_add
from ..conf import helpdesk_settings
from ..models import (
    Channel, Department, Mailbox, MailDirection, MailMessage, MailStatus, QuarantinedMail, QuarantineReason, Reply,
    Ticket,
)
from ..permissions import contact_client_id, is_agent
from .outbound import ROOT_ID
from .parse import ParsedMail, UnparseableMail, parse_mail, trim_reply

logger = logging.getLogger(__name__)

_TOKEN = re.compile(r"\[#\s*(\d{1,18})\s*\]")


@dataclass
class IngestResult:
    #: "ticket", "reply", "duplicate" or "quarantined".
    outcome: str
    ticket: Ticket | None = None
    reply: Reply | None = None
    quarantined: QuarantinedMail | None = None

    def __str__(self) -> str:
        if self.outcome == "ticket":
            return f"ticket #{self.ticket.pk}"
        if self.outcome == "reply":
            return f"reply #{self.reply.pk} on ticket #{self.ticket.pk}"
        if self.outcome == "duplicate":
            return f"duplicate of a mail on ticket #{self.ticket.pk}" if self.ticket else "duplicate"
        return f"quarantined ({self.quarantined.reason}): {self.quarantined.detail}"


def quarantine(*, raw: bytes, reason: str, detail: str = "", source: str = "", parsed: ParsedMail | None = None) -> QuarantinedMail:
    return QuarantinedMail.objects.create(
        raw=bytes(raw), reason=reason, detail=detail[:10000], source=source[:100],
        sender=(parsed.from_address if parsed else "")[:320], subject=(parsed.subject if parsed else "")[:998],
        message_id=(parsed.message_id if parsed else "")[:255],
    )


def _blocked(address: str) -> bool:
    address = address.lower()
    domain = "@" + address.rpartition("@")[2]
    entries = {entry.strip().lower() for entry in helpdesk_settings.MAIL_BLOCKLIST}
    return address in entries or domain in entries


def _department(mailbox: Mailbox | None, department: Department | None) -> Department | None:
    if department is not None:
        return department
    if mailbox is not None and mailbox.department_id:
        return mailbox.department
    wanted = helpdesk_settings.MAIL_DEFAULT_DEPARTMENT_ID
    if wanted is not None:
        return Department.objects.filter(pk=wanted).first()
    return Department.objects.filter(is_default=True).first() or Department.objects.order_by("pk").first()


def _our_addresses() -> set[str]:
    from django.conf import settings

    ours = {a.lower() for a in Department.objects.exclude(email="").values_list("email", flat=True)}
    ours |= {u.lower() for u in Mailbox.objects.values_list("username", flat=True) if "@" in u}
    for value in (helpdesk_settings.MAIL_FROM, getattr(settings, "DEFAULT_FROM_EMAIL", "")):
        if value:
            import email.utils

            ours.add(email.utils.parseaddr(value)[1].lower())
    return ours


def _concerns(ticket: Ticket, user: Any, address: str) -> bool:
    """Whether the sender may add to ``ticket`` by its subject token."""
    if is_agent(user) or ticket.requester_id == user.pk:
        return True
    if address.lower() in {a.lower() for a in ticket.cc or []}:
        return True
    return contact_client_id(user) == ticket.client_id


def find_thread(parsed: ParsedMail, user: Any) -> Ticket | None:
    """The ticket this mail answers, or None for a new one."""
    ids = [*parsed.in_reply_to, *reversed(parsed.references)]
    if ids:
        known = (
            MailMessage.objects.filter(message_id__in=ids, ticket__isnull=False)
            .select_related("ticket").order_by("-created_at").first()
        )
        if known is not None:
            return known.ticket
    for message_id in ids:  # the root reference of a ticket that did not start as a mail
        root = ROOT_ID.match(message_id)
        if root:
            ticket = Ticket.objects.filter(pk=int(root[1])).first()
            if ticket is not None and _concerns(ticket, user, parsed.from_address):
                return ticket
    match = _TOKEN.search(parsed.subject)
    if match:
        ticket = Ticket.objects.filter(pk=int(match[1])).first()
        if ticket is not None and _concerns(ticket, user, parsed.from_address):
            return ticket
    return None


def _files(parsed: ParsedMail) -> list[IncomingFile]:
    return [
        IncomingFile.from_bytes(f.filename, f.content, content_id=f.content_id, inline=f.inline) for f in parsed.files
    ]


def ingest_mail(
    raw: bytes, *, source: str = "", mailbox: Mailbox | None = None, department: Department | None = None
) -> IngestResult:
    """Turn one raw mail into a ticket or a reply (or keep it in quarantine)."""
    raw = bytes(raw)
    if len(raw) > helpdesk_settings.MAIL_MAX_BYTES:
        row = quarantine(raw=raw, reason=QuarantineReason.TOO_LARGE, source=source, detail=_(
            "%(n)d bytes; MAIL_MAX_BYTES is %(max)d.") % {"n": len(raw), "max": helpdesk_settings.MAIL_MAX_BYTES})
        return IngestResult("quarantined", quarantined=row)
    try:
        parsed = parse_mail(raw)
    except UnparseableMail as exc:
        return IngestResult("quarantined", quarantined=quarantine(
            raw=raw, reason=QuarantineReason.UNPARSEABLE, detail=str(exc), source=source))
    seen = MailMessage.objects.filter(message_id=parsed.message_id).first()
    if seen is not None:
        return IngestResult("duplicate", ticket=seen.ticket)
    if parsed.automatic:
        reason = QuarantineReason.BOUNCE if parsed.automatic == "bounce" else QuarantineReason.AUTO_REPLY
        # Kept, never answered: an auto-reply to our auto-reply would loop.
        if not QuarantinedMail.objects.filter(message_id=parsed.message_id, reason=reason).exists() or parsed.synthetic_id:
            return IngestResult("quarantined", quarantined=quarantine(raw=raw, reason=reason, source=source, parsed=parsed))
        return IngestResult("duplicate")
    if _blocked(parsed.from_address):
        return IngestResult("quarantined", quarantined=quarantine(
            raw=raw, reason=QuarantineReason.BLOCKED, detail=parsed.from_address, source=source, parsed=parsed))
    try:
        with transaction.atomic():
            return _ingest(parsed, raw=raw, source=source, mailbox=mailbox, department=department)
    except IntegrityError:
        # The same Message-ID, ingested meanwhile by a concurrent fetch.
        seen = MailMessage.objects.filter(message_id=parsed.message_id).first()
        if seen is not None:
            return IngestResult("duplicate", ticket=seen.ticket)
        detail = traceback.format_exc()
    except _Refused as exc:
        return IngestResult("quarantined", quarantined=quarantine(
            raw=raw, reason=exc.reason, detail=exc.detail, source=source, parsed=parsed))
    except Exception:
        logger.exception("Could not ingest mail %s", parsed.message_id)
        detail = traceback.format_exc()
    return IngestResult("quarantined", quarantined=quarantine(
        raw=raw, reason=QuarantineReason.ERROR, detail=detail, source=source, parsed=parsed))


class _Refused(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def _ingest(parsed: ParsedMail, *, raw: bytes, source: str, mailbox: Mailbox | None,
            department: Department | None) -> IngestResult:
    # The Message-ID row first: a concurrent ingest of the same mail waits on it, then fails.
    record = MailMessage.objects.create(
        direction=MailDirection.INBOUND, message_id=parsed.message_id, status=MailStatus.RECEIVED,
        sender=parsed.from_address[:320], recipients=parsed.to[:50], cc=parsed.cc[:50], subject=parsed.subject[:998],
        html=parsed.html, kind=source[:32],
    )
    try:
        user, client = services.requester_for_mail(email=parsed.from_address, name=parsed.from_name)
    except ValidationError as exc:
        raise _Refused(QuarantineReason.UNPARSEABLE, "; ".join(exc.messages)) from None
    ours = _our_addresses() | {parsed.from_address.lower()}
    cc = [a for a in parsed.cc if a.lower() not in ours]
    ticket = find_thread(parsed, user)
    files = _files(parsed)
    if ticket is not None:
        text = trim_reply(parsed.text) or (_("(attachments only)") if files else _("(empty message)"))
        reply = services.reply_post(ticket=ticket, author=user, text=text)
        if files:
            attachments_add(ticket=ticket, reply=reply, files=files, by=user, enforce_limits=False)
        if cc:
            services.ticket_add_cc(ticket=ticket, cc=cc, by=user)
        record.ticket, record.reply = ticket, reply
        record.save(update_fields=["ticket", "reply"])
        return IngestResult("reply", ticket=ticket, reply=reply)
    target = _department(mailbox, department)
    if target is None:
        raise _Refused(QuarantineReason.NO_DEPARTMENT, _("There is no department to put a new ticket in."))
    ticket = services.ticket_create(
        subject=(parsed.subject or _("(no subject)"))[:255],
        message=parsed.text or (_("(attachments only)") if files else _("(empty message)")),
        department=target, client=client, creator=user, requester=user, channel=Channel.EMAIL,
    )
    if cc:
        services.ticket_set_cc(ticket=ticket, cc=cc, by=user)
    if files:
        attachments_add(ticket=ticket, files=files, by=user, enforce_limits=False)
    record.ticket = ticket
    record.save(update_fields=["ticket"])
    return IngestResult("ticket", ticket=ticket)
