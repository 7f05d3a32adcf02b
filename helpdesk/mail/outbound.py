"""The mails we send, from templates, threaded, as tasks after commit.

``MailNotifier`` (set ``"NOTIFIER": "helpdesk.mail.outbound.MailNotifier"``) turns the
helpdesk's events into mails: a new ticket a customer opened → an acknowledgement to
them and a note to the assignees (or the department's agents' address); an agent's public reply →
the requester and the ticket's CC; a customer's reply → the assignees (or the
department). Silent writes (the API) send nothing: notifiers never hear of them.

The notifier runs inside the write's transaction (it is an ``outbox`` notifier): each
mail is a ``MailMessage`` row made with the write, before it is queued, with its ``Message-ID``, so
a retry sends the very same mail and the admin shows its status, attempts and last error.
``send_mail_task`` is a ``helpdesk_task``: a dead mail server is retried with backoff and
never slows or fails a request. Templates ``helpdesk/mail/<kind>.txt`` and ``.html``
(``acknowledgement``, ``agent_reply``, ``customer_reply``, ``new_ticket``) are the site's
to override; ``<kind>_subject.txt`` too.
"""

from __future__ import annotations

import email.utils
import logging
import re
import secrets
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import timezone

from ..conf import helpdesk_settings
from ..events.tasks import enqueue_on_commit, helpdesk_task
from ..models import Attachment, MailDirection, MailMessage, MailStatus, Reply, Ticket
from ..notify import NullNotifier
from ..permissions import is_agent

logger = logging.getLogger(__name__)

ACKNOWLEDGEMENT = "acknowledgement"
AGENT_REPLY = "agent_reply"
CUSTOMER_REPLY = "customer_reply"
NEW_TICKET = "new_ticket"
#: References carried on a mail: the thread's first ids and its latest ones.
MAX_REFERENCES = 20
ROOT_ID = re.compile(r"^<helpdesk\.ticket\.(\d+)@")


def sender_address(ticket: Ticket) -> str:
    """The department's address, else ``MAIL_FROM``, else ``DEFAULT_FROM_EMAIL``."""
    return ticket.department.email or helpdesk_settings.MAIL_FROM or settings.DEFAULT_FROM_EMAIL


def _id_domain(ticket: Ticket) -> str:
    if helpdesk_settings.MAIL_MESSAGE_ID_DOMAIN:
        return helpdesk_settings.MAIL_MESSAGE_ID_DOMAIN
    domain = email.utils.parseaddr(sender_address(ticket))[1].rpartition("@")[2]
    return domain or "helpdesk.invalid"


def root_message_id(ticket: Ticket) -> str:
    """The thread's first reference for a ticket that did not start as a mail."""
    return f"<helpdesk.ticket.{ticket.pk}@{_id_domain(ticket)}>"


def _addresses(users: Any) -> list[str]:
    return list(dict.fromkeys(u.email for u in users if getattr(u, "email", "")))


def queue_mail(*, ticket: Ticket, kind: str, to: list[str], cc: list[str] = (), reply: Reply | None = None) -> MailMessage | None:
    """Record one mail (with its Message-ID) and queue its sending once this commits."""
    to = [a for a in dict.fromkeys(to) if a]
    cc = [a for a in dict.fromkeys(cc) if a and a.lower() not in {t.lower() for t in to}]
    if not to:
        return None
    # Short (unique by its random part), so no mail client folds the header.
    message_id = f"<{secrets.token_hex(10)}.t{ticket.pk}@{_id_domain(ticket)}>"
    row = MailMessage.objects.create(
        direction=MailDirection.OUTBOUND, message_id=message_id, ticket=ticket, reply=reply, kind=kind,
        sender=sender_address(ticket)[:320], recipients=to, cc=list(cc), status=MailStatus.PENDING,
    )
    enqueue_on_commit(send_mail_task, row.pk)
    return row


class MailNotifier(NullNotifier):
    """Mails the requester, the CC list and the agents about a ticket (see the module doc)."""

    #: Called inside the write's transaction (``helpdesk.events.notifications``): it only
    #: records ``MailMessage`` rows and queues ``send_mail_task`` for each on commit.
    outbox = True

    def ticket_created(self, ticket: Ticket) -> None:
        ticket = Ticket.objects.select_related("department", "requester", "creator").get(pk=ticket.pk)
        if ticket.creator is not None and is_agent(ticket.creator):
            return  # an agent opened it: nobody needs telling
        with transaction.atomic():
            requester = ticket.requester
            if helpdesk_settings.MAIL_ACKNOWLEDGE and requester is not None and requester.email:
                queue_mail(ticket=ticket, kind=ACKNOWLEDGEMENT, to=[requester.email], cc=ticket.cc or [])
            if helpdesk_settings.MAIL_NOTIFY_AGENTS:
                queue_mail(ticket=ticket, kind=NEW_TICKET, to=self.agent_addresses(ticket, exclude=requester))

    def reply_posted(self, reply: Reply) -> None:
        reply = Reply.objects.select_related("ticket__department", "ticket__requester", "author").get(pk=reply.pk)
        ticket = reply.ticket
        if reply.is_note:
            return
        with transaction.atomic():
            if is_agent(reply.author):
                requester = ticket.requester
                to = [requester.email] if requester is not None and requester.email and requester != reply.author else []
                queue_mail(ticket=ticket, kind=AGENT_REPLY, reply=reply, to=to or list(ticket.cc or [])[:1],
                           cc=ticket.cc or [])
            elif helpdesk_settings.MAIL_NOTIFY_AGENTS:
                queue_mail(ticket=ticket, kind=CUSTOMER_REPLY, reply=reply,
                           to=self.agent_addresses(ticket, exclude=reply.author))

    @staticmethod
    def agent_addresses(ticket: Ticket, exclude: Any = None) -> list[str]:
        """The assignees' addresses, else the department's agents' address."""
        users = [u for u in ticket.assignees.all() if exclude is None or u.pk != exclude.pk]
        return _addresses(users) or ([ticket.department.notify_email] if ticket.department.notify_email else [])


def _thread_ids(row: MailMessage) -> tuple[str, list[str]]:
    """(In-Reply-To, References) for ``row``: it answers the customer's latest mail (else
    the latest mail of the ticket); References lists the ticket's mails before it."""
    earlier = list(
        MailMessage.objects.filter(ticket_id=row.ticket_id, created_at__lte=row.created_at)
        .exclude(pk=row.pk).order_by("created_at", "id").values_list("message_id", "direction")
    )
    inbound = [mid for mid, direction in earlier if direction == MailDirection.INBOUND]
    chain = [mid for mid, _direction in earlier]
    if not inbound:
        chain = [root_message_id(row.ticket), *chain]
    if len(chain) > MAX_REFERENCES:
        chain = chain[:2] + chain[-(MAX_REFERENCES - 2):]
    in_reply_to = inbound[-1] if inbound else (chain[-1] if chain else "")
    return in_reply_to, chain


def _render(kind: str, context: dict[str, Any]) -> tuple[str, str, str | None]:
    subject = render_to_string(f"helpdesk/mail/{kind}_subject.txt", context).strip().replace("\n", " ")
    text = render_to_string(f"helpdesk/mail/{kind}.txt", context)
    try:
        html = render_to_string(f"helpdesk/mail/{kind}.html", context)
    except TemplateDoesNotExist:
        html = None
    return subject, text, html


def build_message(row: MailMessage, connection: Any = None) -> EmailMultiAlternatives:
    """The mail of ``row``: rendered, threaded, with the reply's (or ticket's) files."""
    ticket = Ticket.objects.select_related("department", "requester", "client").get(pk=row.ticket_id)
    reply = Reply.objects.select_related("author").get(pk=row.reply_id) if row.reply_id else None
    files = list(Attachment.objects.filter(ticket=ticket, reply=reply) if reply else
                 Attachment.objects.filter(ticket=ticket, reply__isnull=True))
    context = {"ticket": ticket, "reply": reply, "attachments": files, "kind": row.kind}
    subject, text, html = _render(row.kind, context)
    in_reply_to, references = _thread_ids(row)
    sender = row.sender or sender_address(ticket)
    headers = {"Message-ID": row.message_id, "X-Helpdesk-Ticket": str(ticket.pk)}
    if in_reply_to:
        headers["In-Reply-To"] = in_reply_to
        headers["References"] = " ".join(references)
    if row.kind != AGENT_REPLY:
        # Machine-written: well-behaved auto-responders stay silent (RFC 3834).
        headers["Auto-Submitted"] = "auto-replied" if row.kind == ACKNOWLEDGEMENT else "auto-generated"
        headers["X-Auto-Response-Suppress"] = "All"
    message = EmailMultiAlternatives(
        subject=subject, body=text, from_email=sender, to=row.recipients, cc=row.cc, reply_to=[sender],
        headers=headers, connection=connection,
    )
    if html:
        message.attach_alternative(html, "text/html")
    for attachment in files:
        with attachment.file.open("rb") as handle:
            message.attach(_attachment_part(attachment.filename, handle.read(), attachment.content_type))
    return message


def _attachment_part(name: str, data: bytes, content_type: str) -> Any:
    """A base64 MIME part of the file's exact bytes (Django would re-encode a text file's
    line endings), as a MIMEPart on Django 6+ and a MIMEBase (deprecated there) before."""
    import django

    maintype, _slash, subtype = (content_type or "application/octet-stream").partition("/")
    if django.VERSION >= (6, 0):
        import email.message
        import email.policy

        part = email.message.MIMEPart(policy=email.policy.default)
        part.set_content(data, maintype=maintype, subtype=subtype or "octet-stream", disposition="attachment",
                         filename=name)
        return part
    from email import encoders
    from email.mime.base import MIMEBase

    part = MIMEBase(maintype, subtype or "octet-stream")
    part.set_payload(data)
    encoders.encode_base64(part)
    part.add_header("Content-Disposition", "attachment", filename=name)
    return part


@helpdesk_task
def send_mail_task(mail_id: int) -> str:
    """Send one recorded mail; safe to run twice (a sent mail is not sent again)."""
    with transaction.atomic():
        row = MailMessage.objects.select_for_update().filter(pk=mail_id, direction=MailDirection.OUTBOUND).first()
        if row is None:
            return "gone"  # its ticket was deleted meanwhile
        if row.status == MailStatus.SENT:
            return "already sent"
        row.attempts += 1
        try:
            message = build_message(row)
            message.send()
        except Exception as exc:
            row.status, row.error = MailStatus.FAILED, f"{type(exc).__name__}: {exc}"[:10000]
            row.save(update_fields=["status", "error", "attempts"])
            failed = exc
        else:
            row.status, row.error, row.sent_at = MailStatus.SENT, "", timezone.now()
            row.subject = message.subject[:998]
            row.save(update_fields=["status", "error", "attempts", "sent_at", "subject"])
            return "sent"
    raise failed  # outside the transaction, so the failure is recorded; the task layer retries


def retry_mail(*, mail: MailMessage) -> None:
    """Queue a failed mail again (the admin's action)."""
    if mail.direction == MailDirection.OUTBOUND and mail.status != MailStatus.SENT:
        MailMessage.objects.filter(pk=mail.pk).update(status=MailStatus.PENDING)
        enqueue_on_commit(send_mail_task, mail.pk)
