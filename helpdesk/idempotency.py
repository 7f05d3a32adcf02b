"""Idempotency keys, kept in the database: claim a key before a write, keep its response after.

The HTTP side (the ``Idempotency-Key`` header, replaying a response) is
``helpdesk.api.idempotency.IdempotencyMixin``; this module is the storage every API
surface shares (the native API and the dialects), so it works across several app servers.

A key belongs to one user. Claiming inserts a row under a unique constraint (user, key),
committed at once: of two concurrent requests with one key only one can insert it, the
other sees the row in flight. A kept response is replayed for ``IDEMPOTENCY_KEY_TTL``
seconds; older rows are deleted by ``idempotency_prune`` (on each claim, for the claiming
user, and by ``manage.py helpdesk_idempotency_prune`` for everyone).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from .conf import helpdesk_settings
from .models import IdempotencyKey

#: A claim still in flight after this long belongs to a request that died (a killed
#: process never releases its claim); the key may then be claimed again.
ABANDONED_AFTER = datetime.timedelta(minutes=10)


class KeyInFlight(Exception):
    """The first request with this key has not finished yet."""


class KeyReused(Exception):
    """The key was used for a different request (another body, path or method)."""


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    headers: dict[str, str]
    body: bytes


def _cutoff(now: datetime.datetime) -> datetime.datetime:
    return now - datetime.timedelta(seconds=helpdesk_settings.IDEMPOTENCY_KEY_TTL)


def idempotency_claim(*, user: Any, key: str, fingerprint: str) -> tuple[IdempotencyKey | None, StoredResponse | None]:
    """Claim ``key`` for ``user`` and this request (``fingerprint``).

    Returns ``(row, None)`` when this request owns the key: run it, then call
    ``idempotency_complete`` (or ``idempotency_release`` if it should not be kept), or
    ``(None, response)`` when an earlier request with this key and fingerprint finished:
    answer with its response and write nothing. Raises ``KeyReused`` for the same key on
    another request, ``KeyInFlight`` while the first one runs.
    """
    now = timezone.now()
    idempotency_prune(user=user, now=now)
    for _attempt in range(3):
        try:
            # Its own (sub)transaction: a duplicate must not break the caller's transaction,
            # and outside ATOMIC_REQUESTS the claim commits at once, visible to every server.
            with transaction.atomic():
                return IdempotencyKey.objects.create(user=user, key=key, fingerprint=fingerprint, created_at=now), None
        except IntegrityError:
            pass
        row = IdempotencyKey.objects.filter(user=user, key=key).first()
        if row is None:
            continue  # released or pruned meanwhile: claim it again
        if row.created_at <= _cutoff(now) or (row.status_code is None and row.created_at <= now - ABANDONED_AFTER):
            IdempotencyKey.objects.filter(pk=row.pk, created_at=row.created_at).delete()
            continue
        if row.fingerprint != fingerprint:
            raise KeyReused(key)
        if row.status_code is None:
            raise KeyInFlight(key)
        return None, StoredResponse(row.status_code, dict(row.response_headers), bytes(row.response_body))
    raise KeyInFlight(key)


def idempotency_complete(*, row: IdempotencyKey, status_code: int, headers: dict[str, str], body: bytes) -> None:
    """Keep the response of the request that claimed ``row``, to replay it to retries."""
    IdempotencyKey.objects.filter(pk=row.pk).update(status_code=status_code, response_headers=headers, response_body=body)


def idempotency_release(*, row: IdempotencyKey) -> None:
    """Give the key up (the request failed, nothing was written): a retry runs again."""
    IdempotencyKey.objects.filter(pk=row.pk, status_code__isnull=True).delete()


def idempotency_prune(*, user: Any = None, now: datetime.datetime | None = None) -> int:
    """Delete keys older than ``IDEMPOTENCY_KEY_TTL`` (of ``user`` only, if given); returns how many."""
    rows = IdempotencyKey.objects.filter(created_at__lte=_cutoff(now or timezone.now()))
    if user is not None:
        rows = rows.filter(user=user)
    deleted, _by_model = rows.delete()
    return deleted
