"""Conditional requests on a ticket: ``ETag`` / ``Last-Modified`` out, ``If-*`` in.

A ticket's version is its ``updated_at`` (every service that changes a ticket moves it, to
the microsecond), so the ETag changes with every write: an edit, a status, tags, archive,
restore, a reply or note, a deleted reply. ``If-None-Match`` / ``If-Modified-Since`` on a
read answer 304; ``If-Match`` / ``If-Unmodified-Since`` on a write answer 412 when the
ticket changed since, checked under the ticket's row lock so no write slips in between.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction
from django.utils.http import http_date, parse_http_date_safe
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status

from ..models import Ticket


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = _("The ticket changed since you read it; read it again and retry.")
    default_code = "precondition_failed"


def ticket_etag(ticket: Ticket) -> str:
    """A strong ETag: the ticket id and its ``updated_at`` in microseconds."""
    stamp = ticket.updated_at
    micros = int(stamp.timestamp()) * 1_000_000 + stamp.microsecond
    return f'"{ticket.pk}-{micros}"'


def ticket_last_modified(ticket: Ticket) -> str:
    return http_date(ticket.updated_at.timestamp())


def set_validators(response: Any, ticket: Ticket) -> Any:
    response["ETag"] = ticket_etag(ticket)
    response["Last-Modified"] = ticket_last_modified(ticket)
    return response


def _etags(header: str) -> list[str]:
    """The entity tags of an ``If-Match`` / ``If-None-Match`` header; weak ones as strong."""
    tags = []
    for part in header.split(","):
        part = part.strip()
        if part.startswith("W/"):
            part = part[2:]
        if part:
            tags.append(part)
    return tags


def _seconds(ticket: Ticket) -> int:
    # HTTP dates have whole seconds: compare at that precision.
    return int(ticket.updated_at.timestamp())


def not_modified(request: Any, ticket: Ticket) -> bool:
    """True when the caller's copy is current (``If-None-Match``, else ``If-Modified-Since``)."""
    meta = request.META
    if "HTTP_IF_NONE_MATCH" in meta:
        tags = _etags(meta["HTTP_IF_NONE_MATCH"])
        return "*" in tags or ticket_etag(ticket) in tags
    since = parse_http_date_safe(meta.get("HTTP_IF_MODIFIED_SINCE", ""))
    return since is not None and _seconds(ticket) <= since


def has_preconditions(request: Any) -> bool:
    return "HTTP_IF_MATCH" in request.META or "HTTP_IF_UNMODIFIED_SINCE" in request.META


def check_preconditions(request: Any, ticket: Ticket) -> None:
    """412 unless ``If-Match`` names the ticket's ETag (or ``*``) and ``If-Unmodified-Since`` holds."""
    meta = request.META
    if "HTTP_IF_MATCH" in meta:
        tags = _etags(meta["HTTP_IF_MATCH"])
        if "*" not in tags and ticket_etag(ticket) not in tags:
            raise PreconditionFailed()
    elif "HTTP_IF_UNMODIFIED_SINCE" in meta:
        since = parse_http_date_safe(meta["HTTP_IF_UNMODIFIED_SINCE"])
        if since is not None and _seconds(ticket) > since:
            raise PreconditionFailed()


@contextmanager
def unchanged(request: Any, ticket: Ticket) -> Iterator[None]:
    """Run a write only if the request's preconditions hold, under the ticket's row lock.

    Without ``If-Match`` / ``If-Unmodified-Since`` the write runs as it is. With them, the
    check and the write share one transaction: a concurrent write waits for it, or it
    waits and then sees (and refuses) the other write.
    """
    if not has_preconditions(request):
        yield
        return
    with transaction.atomic():
        current = Ticket.objects.select_for_update().only("pk", "updated_at").filter(pk=ticket.pk).first()
        if current is None:
            raise exceptions.NotFound(_("Ticket not found."))
        check_preconditions(request, current)
        yield


__all__ = [
    "PreconditionFailed", "check_preconditions", "not_modified", "set_validators", "ticket_etag",
    "ticket_last_modified", "unchanged",
]
