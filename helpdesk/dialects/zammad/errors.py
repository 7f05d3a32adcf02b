"""Errors the way Zammad answers them: ``{"error": "...", "error_human": "..."}`` with
Zammad's status codes (401, 403, 404, 422, ...), for everything a client can cause."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import (
    ObjectDoesNotExist,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from ...api.exceptions import ValidationFailed


class Unprocessable(exceptions.APIException):
    """422 with one message, as Zammad's ``Exceptions::UnprocessableEntity``."""

    status_code = 422
    default_detail = "Unprocessable entity"


def messages(detail: Any, prefix: str = "") -> list[str]:
    """A service's or DRF's error detail as ``field: message`` strings."""
    if isinstance(detail, Mapping):
        out: list[str] = []
        for key, inner in detail.items():
            label = "" if key in ("__all__", "non_field_errors") else f"{key}"
            out.extend(messages(inner, f"{prefix}{label}: " if label else prefix))
        return out
    if isinstance(detail, (list, tuple)):
        out = []
        for item in detail:
            out.extend(messages(item, prefix))
        return out
    return [f"{prefix}{detail}"]


def unprocessable(exc: DjangoValidationError, names: Mapping[str, str] | None = None) -> Unprocessable:
    """A service's ``ValidationError`` as a 422, its fields renamed to Zammad's names."""
    names = names or {}
    if hasattr(exc, "error_dict"):
        detail = {names.get(key, key): value for key, value in exc.message_dict.items()}
    else:
        detail = exc.messages
    return Unprocessable(" ".join(messages(detail)))


def body(message: str) -> dict[str, str]:
    return {"error": message, "error_human": message}


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response | None:
    """DRF's ``EXCEPTION_HANDLER`` for the dialect's views."""
    headers: dict[str, str] = {}
    if isinstance(exc, (RequestDataTooBig, TooManyFieldsSent)):
        exc = exceptions.APIException(_("The request body is too large."))
        exc.status_code = 413
    elif isinstance(exc, DjangoValidationError):
        exc = unprocessable(exc)
    elif isinstance(exc, (Http404, ObjectDoesNotExist)):
        exc = exceptions.NotFound(_("Not found"))
    elif isinstance(exc, PermissionDenied):
        # A service's refusal names the missing permission; keep it.
        exc = exceptions.PermissionDenied(str(exc) if str(exc) else _("Not authorized"))
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError()
    if not isinstance(exc, exceptions.APIException):
        return None  # a bug on our side: Django logs it and answers 500
    status = exc.status_code
    if isinstance(exc, ValidationFailed):
        # The shared layers' 422 (an ``Idempotency-Key`` reused for another request): its fields.
        message = " ".join(messages(exc.fields))
    elif isinstance(exc, exceptions.ValidationError):
        status = 422
        message = " ".join(messages(exc.detail))
    elif isinstance(exc, exceptions.NotAuthenticated):
        message = _("Authentication required")
    elif isinstance(exc, exceptions.Throttled):
        wait = exc.wait
        headers["Retry-After"] = str(max(1, int(wait + 0.999))) if wait is not None else "60"
        message = _("Too many requests. Retry in %(s)s seconds.") % {"s": headers["Retry-After"]}
    elif isinstance(exc, exceptions.ParseError):
        message = _("The request body could not be parsed: %(detail)s") % {"detail": exc.detail}
    else:
        message = " ".join(messages(exc.detail))
    if status in (401, 403):
        # Zammad names the reason in X-Failure too.
        headers["X-Failure"] = message
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    set_rollback()
    return Response(body(message), status=status, headers=headers)
