"""Fetch mail from the IMAP (imap-tools) and POP3 (the standard library's poplib)
mailboxes configured in the admin, and ingest each message.

A message is removed from the server (IMAP: flagged deleted and expunged; POP3: DELE)
only after ``ingest_mail`` has stored it, as a ticket, a reply, a duplicate or a
quarantine row: a crash in between leaves it on the server, and the next fetch finds
it again and recognizes it by its Message-ID.
"""

from __future__ import annotations

import logging
import poplib
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.utils import timezone

from ..models import Mailbox
from .ingest import IngestResult, ingest_mail

logger = logging.getLogger(__name__)

DEFAULT_PORTS = {
    (Mailbox.Protocol.IMAP, Mailbox.Security.SSL): 993,
    (Mailbox.Protocol.IMAP, Mailbox.Security.STARTTLS): 143,
    (Mailbox.Protocol.IMAP, Mailbox.Security.NONE): 143,
    (Mailbox.Protocol.POP3, Mailbox.Security.SSL): 995,
    (Mailbox.Protocol.POP3, Mailbox.Security.STARTTLS): 110,
    (Mailbox.Protocol.POP3, Mailbox.Security.NONE): 110,
}
TIMEOUT = 60


@dataclass
class FetchReport:
    mailbox: Mailbox
    results: list[IngestResult] = field(default_factory=list)
    error: str = ""


def _pop3_messages(box: Mailbox, password: str) -> Iterator[tuple[bytes, Callable[[], object]]]:
    port = box.port or DEFAULT_PORTS[(box.protocol, box.security)]
    if box.security == Mailbox.Security.SSL:
        client = poplib.POP3_SSL(box.host, port, timeout=TIMEOUT, context=ssl.create_default_context())
    else:
        client = poplib.POP3(box.host, port, timeout=TIMEOUT)
        if box.security == Mailbox.Security.STARTTLS:
            client.stls(context=ssl.create_default_context())
    try:
        client.user(box.username)
        client.pass_(password)
        count = len(client.list()[1])
        for number in range(1, count + 1):
            lines = client.retr(number)[1]
            yield b"\r\n".join(lines) + b"\r\n", (lambda n=number: client.dele(n))
    except GeneratorExit:  # stopped early (a limit): keep what was done
        client.quit()
        raise
    except Exception:
        client.close()  # without QUIT: the server undeletes everything
        raise
    client.quit()  # commits the deletions


def _raw_imap(box: Mailbox, password: str) -> Iterator[tuple[bytes, Callable[[], object]]]:
    # imap-tools parses each message; the raw bytes are what we store, so ask for them.
    from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted

    port = box.port or DEFAULT_PORTS[(box.protocol, box.security)]
    cls = {Mailbox.Security.SSL: MailBox, Mailbox.Security.STARTTLS: MailBoxStartTls}.get(box.security, MailBoxUnencrypted)
    kwargs = {"ssl_context": ssl.create_default_context()} if box.security != Mailbox.Security.NONE else {}
    with cls(box.host, port=port, timeout=TIMEOUT, **kwargs).login(box.username, password, box.folder) as client:
        uids = list(client.uids("ALL"))
        for uid in uids:
            status, data = client.client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((part[1] for part in data if isinstance(part, tuple) and len(part) > 1), b"")
            yield raw, (lambda uid=uid: client.delete([uid]))


def fetch_mailbox(box: Mailbox, *, limit: int | None = None) -> FetchReport:
    """Ingest every message waiting in ``box``; the error of a failed connection (or of a
    stored password that cannot be decrypted: no connection then) is kept on the box."""
    report = FetchReport(mailbox=box)
    source = f"{box.protocol}:{box.name}"
    try:
        password = box.login_password()
        read = _raw_imap if box.protocol == Mailbox.Protocol.IMAP else _pop3_messages
        messages = read(box, password)
        for raw, done in messages:
            result = ingest_mail(raw, source=source, mailbox=box)
            report.results.append(result)
            done()
            if limit is not None and len(report.results) >= limit:
                break
        if hasattr(messages, "close"):
            messages.close()
    except Exception as exc:
        logger.warning("Fetching mailbox %s failed: %s", box.name, exc)
        report.error = f"{type(exc).__name__}: {exc}"
    Mailbox.objects.filter(pk=box.pk).update(last_fetched_at=timezone.now(), last_error=report.error[:10000])
    return report


def fetch_all(*, names: list[str] | None = None) -> list[FetchReport]:
    boxes = Mailbox.objects.filter(active=True).select_related("department")
    if names:
        boxes = boxes.filter(name__in=names)
    return [fetch_mailbox(box) for box in boxes]
