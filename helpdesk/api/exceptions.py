"""The API's errors: one shape, ``{"error": {status, code, message, fields?}}``, for everything.

``exception_handler`` turns every exception a client can cause (DRF's own, Django's
``ValidationError``/``Http404``/``PermissionDenied``, oversized or malformed bodies) into
that shape, so no client input ever reaches a 500.
"""

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
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

#: HTTP status -> the machine-readable ``code`` of the error object.
CODES = {
    400: "parse_error",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "request_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "throttled",
    500: "server_error",
    501: "not_implemented",
}


class ValidationFailed(exceptions.APIException):
    """422 with per-field messages, keyed by the API's own parameter names."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = _("Validation failed.")
    default_code = "validation_failed"

    def __init__(self, fields: Mapping[str, Any], message: str | None = None) -> None:
        super().__init__(message or self.default_detail)
        self.fields = {key: _as_messages(value) for key, value in fields.items()}


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "request_too_large"


class NotImplementedYet(exceptions.APIException):
    status_code = status.HTTP_501_NOT_IMPLEMENTED
    default_detail = _("This endpoint is not available on this server.")
    default_code = "not_implemented"


def _as_messages(value: Any) -> list[str]:
    """Flatten DRF/Django error detail (nested lists/dicts) into a list of strings."""
    if isinstance(value, Mapping):
        out: list[str] = []
        for key, inner in value.items():
            out.extend(f"{key}: {m}" for m in _as_messages(inner))
        return out
    if isinstance(value, (list, tuple)):
        out = []
        for item in value:
            out.extend(_as_messages(item))
        return out
    return [str(value)]


def rename_fields(errors: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, list[str]]:
    """Key a service's errors (model field names) by the API's parameter names."""
    out: dict[str, list[str]] = {}
    for key, messages in errors.items():
        api_key = names.get(key, key)
        if key == "__all__":
            api_key = "non_field_errors"
        out.setdefault(api_key, []).extend(_as_messages(messages))
    return out


def from_django(exc: DjangoValidationError, names: Mapping[str, str] | None = None) -> ValidationFailed:
    """A service's ``ValidationError`` as a 422 keyed by API names."""
    if hasattr(exc, "error_dict"):
        return ValidationFailed(rename_fields(exc.message_dict, names or {}))
    return ValidationFailed({"non_field_errors": exc.messages})


def error_body(status_code: int, message: Any, code: str | None = None, fields: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": status_code,
        "code": code or CODES.get(status_code, "error"),
        "message": str(message),
    }
    if fields is not None:
        body["fields"] = fields
    return {"error": body}


def _translate(exc: Exception) -> exceptions.APIException | None:
    if isinstance(exc, exceptions.APIException):
        return exc
    if isinstance(exc, (RequestDataTooBig, TooManyFieldsSent)):
        return RequestTooLarge()
    if isinstance(exc, DjangoValidationError):
        return from_django(exc)
    if isinstance(exc, (Http404, ObjectDoesNotExist)):
        return exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        # A service's refusal names the missing permission; keep its message.
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, SuspiciousOperation):
        return exceptions.ParseError()
    return None


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response | None:
    """DRF's ``EXCEPTION_HANDLER`` for the helpdesk views (set per view, not site-wide)."""
    api_exc = _translate(exc)
    if api_exc is None:
        return None  # a bug on our side: let Django log it and answer 500
    headers: dict[str, str] = {}
    if getattr(api_exc, "auth_header", None):
        headers["WWW-Authenticate"] = api_exc.auth_header
    code_status = api_exc.status_code
    fields = None
    message: Any = api_exc.detail
    if isinstance(api_exc, ValidationFailed):
        fields = api_exc.fields
    elif isinstance(api_exc, exceptions.ValidationError):
        # DRF's serializer/filter errors: the contract says 422 with fields.
        code_status = status.HTTP_422_UNPROCESSABLE_ENTITY
        detail = api_exc.detail
        fields = (
            {key: _as_messages(value) for key, value in detail.items()}
            if isinstance(detail, Mapping)
            else {"non_field_errors": _as_messages(detail)}
        )
        message = _("Validation failed.")
    elif isinstance(api_exc, exceptions.Throttled):
        wait = api_exc.wait
        headers["Retry-After"] = str(max(1, int(wait + 0.999))) if wait is not None else "60"
        message = _("Too many requests. Retry in %(s)s seconds.") % {"s": headers["Retry-After"]}
    elif isinstance(api_exc, exceptions.ParseError):
        message = _("The request body could not be parsed: %(detail)s") % {"detail": api_exc.detail}
    if isinstance(message, (list, dict)):
        message = " ".join(_as_messages(message))
    set_rollback()
    response = Response(error_body(code_status, message, fields=fields), status=code_status, headers=headers)
    return response
