"""Attachment services: the limits on files, saving them to storage, deleting them,
and the download response every surface (API, admin) serves a file with.

Writes are keyword-only and atomic, like ``services``; the file of a deleted row is
removed from storage once the deletion commits (a rolled-back delete keeps its file).
"""

from __future__ import annotations

import fnmatch
import mimetypes
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import filetype
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.http import FileResponse
from django.utils.translation import gettext as _

from .conf import helpdesk_settings
from .models import Attachment, Reply, Ticket

#: The ``code`` of the ValidationError for a file over ATTACHMENT_MAX_BYTES (the API's 413).
TOO_LARGE = "too_large"
_TEXTUAL = {"text/plain", "text/csv", "text/calendar", "application/json", "application/xml", "text/xml"}
#: Bytes read to sniff a type: every signature filetype knows sits in the first 8 KiB.
_SNIFF_BYTES = 8192


@dataclass(frozen=True)
class IncomingFile:
    """A file to attach, from an upload or a mail part."""

    name: str
    file: File
    size: int
    content_id: str = ""
    inline: bool = False

    @classmethod
    def from_bytes(cls, name: str, content: bytes, *, content_id: str = "", inline: bool = False) -> IncomingFile:
        return cls(name=name, file=ContentFile(content), size=len(content), content_id=content_id, inline=inline)

    @classmethod
    def from_upload(cls, upload: Any) -> IncomingFile:
        return cls(name=upload.name or "", file=upload, size=upload.size)


def clean_filename(name: str) -> str:
    """A safe base name: no directories, control characters or header-breaking quotes."""
    name = unicodedata.normalize("NFC", str(name or "")).replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r'[\x00-\x1f\x7f"]', "", name).strip().strip(".") or "attachment"
    stem, ext = os.path.splitext(name)
    return (stem[: 200 - len(ext[:20])] + ext[:20]) if len(name) > 200 else name


def sniff_type(head: bytes, name: str) -> str:
    """The content type read from the bytes; for formats without a signature (plain text,
    CSV) the name's type if the bytes are text; else ``application/octet-stream``."""
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    guessed = mimetypes.guess_type(name)[0] or ""
    try:
        head.decode("utf-8")
        is_text = b"\x00" not in head
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        is_text = exc.start >= len(head) - 3 and b"\x00" not in head
    if is_text:
        if guessed in _TEXTUAL or guessed.startswith("text/"):
            # Never text/html or image/svg+xml from a name alone: served as text/plain.
            return guessed if guessed in _TEXTUAL else "text/plain"
        return "text/plain"
    return "application/octet-stream"


def _type_allowed(content_type: str) -> bool:
    allowed = helpdesk_settings.ATTACHMENT_ALLOWED_TYPES
    return allowed is None or any(fnmatch.fnmatchcase(content_type, pattern) for pattern in allowed)


def _read_head(file: File) -> bytes:
    file.seek(0)
    head = file.read(_SNIFF_BYTES)
    file.seek(0)
    return head if isinstance(head, bytes) else head.encode()


def clean_files(files: Iterable[IncomingFile], *, enforce_limits: bool = True) -> list[tuple[IncomingFile, str, str]]:
    """Check ``files`` against the limits before anything is written.

    Returns ``(file, clean name, sniffed type)`` per file. Raises ``ValidationError``
    keyed ``files``; a file over ``ATTACHMENT_MAX_BYTES`` has the code ``too_large``.
    Without ``enforce_limits`` (mail ingest: a received mail is never refused for its
    files) only the names and types are worked out.
    """
    files = list(files)
    if enforce_limits and len(files) > helpdesk_settings.ATTACHMENT_MAX_COUNT:
        raise ValidationError(
            {"files": [_("At most %(n)d files per message.") % {"n": helpdesk_settings.ATTACHMENT_MAX_COUNT}]},
        )
    cleaned = []
    for incoming in files:
        name = clean_filename(incoming.name)
        if enforce_limits and incoming.size > helpdesk_settings.ATTACHMENT_MAX_BYTES:
            raise ValidationError({"files": [ValidationError(
                _("%(name)s is %(size)d bytes; the limit is %(max)d.")
                % {"name": name, "size": incoming.size, "max": helpdesk_settings.ATTACHMENT_MAX_BYTES},
                code=TOO_LARGE,
            )]})
        content_type = sniff_type(_read_head(incoming.file), name)
        if enforce_limits and not _type_allowed(content_type):
            raise ValidationError({"files": [
                _("%(name)s is of type %(type)s, which is not accepted.") % {"name": name, "type": content_type}
            ]})
        cleaned.append((incoming, name, content_type))
    return cleaned


def too_large_message(exc: ValidationError) -> str | None:
    """The message of a file over ``ATTACHMENT_MAX_BYTES`` in ``clean_files``' error (an
    API answers it with 413), or None when ``exc`` is about something else."""
    for error in getattr(exc, "error_dict", {}).get("files", []):
        if error.code == TOO_LARGE:
            return error.messages[0]
    return None


def message_files(ticket: Ticket) -> list[Attachment]:
    """The files of the ticket's own message (not its replies'): prefetched as
    ``ticket.message_attachments`` (``selectors.message_attachments_prefetch``), else one query."""
    rows = getattr(ticket, "message_attachments", None)
    if rows is None:
        rows = ticket.attachments.filter(reply__isnull=True)
    return list(rows)


@transaction.atomic
def attachments_add(
    *,
    ticket: Ticket,
    files: Iterable[IncomingFile],
    reply: Reply | None = None,
    by: Any = None,
    enforce_limits: bool = True,
) -> list[Attachment]:
    """Attach ``files`` to the ticket's message (no ``reply``) or to ``reply``.

    Validates every file first (``clean_files``): a refused file writes nothing. (Django
    has no rollback hook: a file stored by a transaction that later rolls back for
    another reason stays in storage, unreferenced.)
    """
    if reply is not None and reply.ticket_id != ticket.pk:
        raise ValidationError({"reply": [_("This reply is not on the ticket.")]})
    rows = []
    for incoming, name, content_type in clean_files(files, enforce_limits=enforce_limits):
        row = Attachment(
            ticket=ticket, reply=reply, filename=name, content_type=content_type, size=incoming.size,
            content_id=incoming.content_id[:255], inline=incoming.inline,
            uploaded_by=by if getattr(by, "pk", None) else None,
        )
        incoming.file.seek(0)
        row.file.save(name, incoming.file, save=False)
        row.save()
        rows.append(row)
    return rows


@transaction.atomic
def attachment_delete(*, attachment: Attachment, by: Any = None) -> None:
    """Delete one attachment (its file follows once the deletion commits)."""
    attachment.delete()


@receiver(post_delete, sender=Attachment)
def _delete_file(sender: type, instance: Attachment, **kwargs: Any) -> None:
    # Also runs for the cascade of a ticket's or reply's deletion.
    name, storage = instance.file.name, instance.file.storage
    if not name:
        return

    def remove() -> None:
        try:
            storage.delete(name)
        except Exception:  # the row is gone; a file the storage cannot delete stays an orphan
            import logging

            logging.getLogger(__name__).exception("Could not delete the attachment file %s.", name)

    transaction.on_commit(remove)


def download_response(attachment: Attachment) -> FileResponse:
    """The file, always as a download: ``Content-Disposition: attachment``, the sniffed
    type, ``nosniff``, and a sandboxing CSP in case a browser renders it anyway."""
    response = FileResponse(
        attachment.file.open("rb"), as_attachment=True, filename=attachment.filename,
        content_type=attachment.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response
