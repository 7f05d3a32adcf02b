"""``Idempotency-Key`` for any DRF view: a retried write answers as the first time, once.

Mix ``IdempotencyMixin`` into a view before the DRF base class (``HelpdeskAPIMixin``
already carries it, so does every dialect view built on it; a dialect with its own base
adds it there). For POST, PUT, PATCH and DELETE with the header:

- the first request claims the key in the database (``helpdesk.idempotency``), runs, and
  its 2xx response (status, body, ``idempotent_replay_headers``) is kept for
  ``IDEMPOTENCY_KEY_TTL`` seconds; an error response releases the key (nothing was written);
- a retry by the same user with the same key, method, path, query and body gets the kept
  response with ``Idempotent-Replayed: true`` and writes nothing;
- the same key on a different request is a 422; while the first is in flight, a 409 with
  ``Retry-After``.

Requests without the header, and safe methods, are not touched.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from typing import Any

from django.http import HttpResponse, QueryDict
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status

from ..idempotency import (
    KeyInFlight,
    KeyReused,
    StoredResponse,
    idempotency_claim,
    idempotency_complete,
    idempotency_release,
)
from .exceptions import ValidationFailed

HEADER = "Idempotency-Key"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


class KeyConflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("A request with this Idempotency-Key is still in progress; retry shortly.")
    default_code = "conflict"


class _Replay(Exception):
    """Raised in ``initial`` to answer with a kept response instead of running the view."""

    def __init__(self, stored: StoredResponse) -> None:
        self.stored = stored


def request_fingerprint(request: Any, max_bytes: int) -> str:
    """A digest of what makes two requests "the same": method, path, query, body.

    JSON bodies are compared as data (key order and spacing do not matter), form bodies
    as their fields, multipart bodies without their (random) boundary.
    """
    django_request = getattr(request, "_request", request)
    body = _read_body(django_request, max_bytes)
    content_type = (django_request.META.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
    canonical = body
    if content_type.endswith("json") and body.strip():
        try:
            canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
        except (ValueError, RecursionError):
            pass
    elif content_type == "application/x-www-form-urlencoded":
        fields = QueryDict(body, encoding=django_request.encoding or "utf-8")
        canonical = json.dumps(sorted(fields.lists())).encode()
    elif content_type.startswith("multipart/"):
        boundary = re.search(r"boundary=\"?([^\";]+)", django_request.META.get("CONTENT_TYPE", ""))
        if boundary:
            canonical = body.replace(boundary.group(1).encode(), b"")
    query = json.dumps(sorted(QueryDict(django_request.META.get("QUERY_STRING", "")).lists())).encode()
    digest = hashlib.sha256()
    for part in (django_request.method.encode(), django_request.path.rstrip("/").encode(), query,
                 content_type.encode(), canonical):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def _read_body(django_request: Any, max_bytes: int) -> bytes:
    """The raw body, left readable for the parsers and views after us.

    Read from the stream (not ``request.body``, whose ``DATA_UPLOAD_MAX_MEMORY_SIZE`` check
    would refuse a bulk upsert that the view's own limit allows).
    """
    if hasattr(django_request, "_body"):
        return django_request._body
    if getattr(django_request, "_read_started", False):  # pragma: no cover - nothing reads before initial()
        return b""
    body = django_request.read(max_bytes + 1)
    django_request._body = body
    django_request._stream = io.BytesIO(body)
    django_request._read_started = False
    return body


class IdempotencyMixin:
    """Honour ``Idempotency-Key`` on this view's unsafe methods (see the module docstring)."""

    #: Methods the header applies to.
    idempotent_methods: tuple[str, ...] = ("POST", "PUT", "PATCH", "DELETE")
    #: Response headers kept and replayed with the status and body.
    idempotent_replay_headers: tuple[str, ...] = ("Content-Type", "Location", "ETag", "Last-Modified")

    def idempotency_max_body_bytes(self, request: Any) -> int:
        """How much of the body the fingerprint may read: the view's own limit if it has one."""
        limit = getattr(self, "max_body_bytes", None)
        return limit(request) if callable(limit) else 32 * 1024 * 1024

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]  # authenticates, throttles
        self._idempotency_row = None
        key = request.META.get("HTTP_IDEMPOTENCY_KEY")
        if key is None or request.method not in self.idempotent_methods:
            return
        if not _KEY.match(key):
            raise ValidationFailed({HEADER: [_("Send 1 to 255 visible ASCII characters (a UUID, say).")]})
        user = request.user
        if not getattr(user, "is_authenticated", False):  # pragma: no cover - views here need a user
            return
        fingerprint = request_fingerprint(request, self.idempotency_max_body_bytes(request))
        try:
            row, stored = idempotency_claim(user=user, key=key, fingerprint=fingerprint)
        except KeyReused:
            raise ValidationFailed(
                {HEADER: [_("This key was used for a different request; use a new key for a new request.")]}
            ) from None
        except KeyInFlight:
            raise KeyConflict() from None
        if stored is not None:
            raise _Replay(stored)
        self._idempotency_row = row

    def handle_exception(self, exc: Exception) -> Any:
        if isinstance(exc, _Replay):
            stored = exc.stored
            response = HttpResponse(stored.body, status=stored.status_code)
            for name, value in stored.headers.items():
                response[name] = value
            response["Idempotent-Replayed"] = "true"
            return response
        try:
            response = super().handle_exception(exc)  # type: ignore[misc]
        except Exception:
            self._idempotency_release()  # an unhandled error: nothing was kept, let a retry run
            raise
        if isinstance(exc, KeyConflict):
            response["Retry-After"] = "1"
        return response

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        row = getattr(self, "_idempotency_row", None)
        if row is None:
            return response
        self._idempotency_row = None
        if not 200 <= response.status_code < 300:
            idempotency_release(row=row)
            return response
        if hasattr(response, "render") and not getattr(response, "is_rendered", True):
            response.render()
        headers = {name: response[name] for name in self.idempotent_replay_headers if response.has_header(name)}
        idempotency_complete(row=row, status_code=response.status_code, headers=headers, body=response.content)
        return response

    def _idempotency_release(self) -> None:
        row = getattr(self, "_idempotency_row", None)
        if row is not None:
            self._idempotency_row = None
            idempotency_release(row=row)
