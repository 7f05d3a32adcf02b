"""Validation of ticket custom field values against the enabled ``CustomField`` rows."""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from .limits import MAX_CUSTOM_FIELD_LENGTH
from .models import CustomField

#: Integer values are kept within a signed 64-bit range, like the database's bigint.
INTEGER_LIMIT = 2**63 - 1

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def _load_enabled_fields() -> dict[str, CustomField]:
    return {f.key: f for f in CustomField.objects.filter(enabled=True)}


def enabled_fields() -> dict[str, CustomField]:
    """The enabled custom fields by key (cached: ``helpdesk.refcache``)."""
    from . import refcache

    return dict(refcache.get("custom_fields"))


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _coerce(field: CustomField, value: Any) -> Any:
    """The JSON-storable value for ``field``; raises ``ValueError`` with a message."""
    T = CustomField.Type
    if field.type in (T.TEXT, T.TEXTAREA):
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ValueError(_("Enter text."))
        value = str(value)
        if field.type == T.TEXT and len(value) > 255:
            raise ValueError(_("At most 255 characters."))
        return value
    if field.type == T.INTEGER:
        if isinstance(value, bool):
            raise ValueError(_("Enter a whole number."))
        try:
            number = decimal.Decimal(str(value).strip())
        except decimal.InvalidOperation:
            raise ValueError(_("Enter a whole number.")) from None
        # Infinity would overflow int(), sNaN raises on comparison, and 1e999999999
        # would make int() build a gigantic number: bound it first.
        if not number.is_finite() or number != number.to_integral_value():
            raise ValueError(_("Enter a whole number."))
        if number.copy_abs() > INTEGER_LIMIT:  # copy_abs, unlike abs(), never rounds or overflows
            raise ValueError(_("Enter a whole number between -%(n)d and %(n)d.") % {"n": INTEGER_LIMIT})
        return int(number)
    if field.type == T.DECIMAL:
        if isinstance(value, bool):
            raise ValueError(_("Enter a number."))
        try:
            number = decimal.Decimal(str(value).strip())
        except decimal.InvalidOperation:
            raise ValueError(_("Enter a number.")) from None
        if not number.is_finite():
            raise ValueError(_("Enter a number."))
        return str(number)
    if field.type == T.BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(_("Enter true or false."))
    if field.type == T.DATE:
        if isinstance(value, datetime.datetime):
            return value.date().isoformat()
        if isinstance(value, datetime.date):
            return value.isoformat()
        try:
            parsed = parse_date(value.strip()) if isinstance(value, str) else None
        except ValueError:  # well formed but impossible, e.g. 2025-02-30
            parsed = None
        if parsed is None:
            raise ValueError(_("Enter a date as YYYY-MM-DD."))
        return parsed.isoformat()
    if field.type == T.CHOICE:
        if not isinstance(value, str) or value not in field.choices:
            raise ValueError(_("Select one of: %(choices)s.") % {"choices": ", ".join(field.choices)})
        return value
    raise ValueError(_("Unsupported field type."))  # pragma: no cover


def clean_custom_fields(
    values: Mapping[str, Any] | None,
    *,
    existing: Mapping[str, Any] | None = None,
    partial: bool = False,
) -> dict[str, Any]:
    """Validate ``values`` and return the ticket's complete custom field dict.

    ``existing`` is the ticket's current dict (on update). With ``partial`` only the
    given keys change; otherwise (create) every required field must be present.
    A blank value removes a key, unless the field is required. Unknown or disabled
    keys are errors, never dropped. Errors are keyed by the field's key.
    """
    if values is not None and not isinstance(values, Mapping):
        raise ValidationError({"custom_fields": [_("Send custom fields as an object of key to value.")]})
    fields = enabled_fields()
    values = dict(values or {})
    result = dict(existing or {})
    errors: dict[str, list[str]] = {}
    for key, value in values.items():
        field = fields.get(key)
        if field is None:
            errors[key] = [_("Unknown or disabled custom field.")]
            continue
        if _is_blank(value):
            if field.required:
                errors[key] = [_("This field is required.")]
            result.pop(key, None)
            continue
        try:
            result[key] = _coerce(field, value)
        except ValueError as exc:
            errors[key] = [str(exc)]
            continue
        if isinstance(result[key], str) and len(result[key]) > MAX_CUSTOM_FIELD_LENGTH:
            errors[key] = [_("At most %(n)d characters.") % {"n": MAX_CUSTOM_FIELD_LENGTH}]
    if not partial:
        for key, field in fields.items():
            if field.required and _is_blank(result.get(key)) and key not in errors:
                errors[key] = [_("This field is required.")]
    if errors:
        raise ValidationError(errors)
    return result
