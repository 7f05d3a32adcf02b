"""System checks that report a misconfigured helpdesk before it fails at run time."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured


@register(Tags.compatibility)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    from .conf import helpdesk_settings

    errors: list[Any] = []
    try:
        user = helpdesk_settings.user_settings
    except ImproperlyConfigured as exc:
        return [Error(str(exc), hint="Fix the HELPDESK dict in your settings.", id="helpdesk.E001")]

    for app in ("rest_framework", "django_filters"):
        if not apps.is_installed(app):
            errors.append(
                Error(f"'{app}' must be in INSTALLED_APPS for the helpdesk API.", id="helpdesk.E002")
            )
    page, most = user.get("PAGE_SIZE", 25), user.get("MAX_PAGE_SIZE", 1000)
    if not (isinstance(page, int) and isinstance(most, int) and 0 < page <= most):
        errors.append(
            Error("HELPDESK PAGE_SIZE and MAX_PAGE_SIZE must be whole numbers with 0 < PAGE_SIZE <= MAX_PAGE_SIZE.",
                  id="helpdesk.E003")
        )
    for key in ("UPSERT_MAX_ITEMS", "UPSERT_MAX_BYTES", "MAX_BODY_BYTES"):
        value = user.get(key, 1)
        if not isinstance(value, int) or value <= 0:
            errors.append(Error(f"HELPDESK {key} must be a positive whole number.", id="helpdesk.E004"))
    try:
        helpdesk_settings.NOTIFIER
    except ImportError as exc:
        errors.append(Error(f"HELPDESK NOTIFIER cannot be imported: {exc}", id="helpdesk.E005"))
    rates = user.get("THROTTLE_RATES", {})
    if not isinstance(rates, dict):
        errors.append(Error("HELPDESK THROTTLE_RATES must be a dict of scope to rate.", id="helpdesk.E006"))
    return errors
