"""System checks that report a misconfigured helpdesk before it fails at run time."""

from __future__ import annotations

import re
from typing import Any

from django.apps import apps
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

# What DRF's SimpleRateThrottle.parse_rate understands: "<n>/<s|m|h|d>..." ("60/min").
_RATE = re.compile(r"\d+/[smhd]\w*")


def _whole(value: Any) -> bool:
    """A whole number; True and False are ints to Python but not to a settings author."""
    return isinstance(value, int) and not isinstance(value, bool)


@register(Tags.compatibility)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    from .conf import DEFAULTS, helpdesk_settings

    errors: list[Any] = []
    try:
        user = helpdesk_settings.user_settings
    except ImproperlyConfigured as exc:
        return [Error(str(exc), hint="Fix the HELPDESK dict in your settings.", id="helpdesk.E001")]
    value = {**DEFAULTS, **user}

    for app in ("rest_framework", "django_filters"):
        if not apps.is_installed(app):
            errors.append(
                Error(f"'{app}' must be in INSTALLED_APPS for the helpdesk API.", id="helpdesk.E002")
            )
    page, most = value["PAGE_SIZE"], value["MAX_PAGE_SIZE"]
    if not (_whole(page) and _whole(most) and 0 < page <= most):
        errors.append(
            Error("HELPDESK PAGE_SIZE and MAX_PAGE_SIZE must be whole numbers with 0 < PAGE_SIZE <= MAX_PAGE_SIZE.",
                  id="helpdesk.E003")
        )
    for key in ("UPSERT_MAX_ITEMS", "UPSERT_MAX_BYTES", "MAX_BODY_BYTES"):
        if not _whole(value[key]) or value[key] <= 0:
            errors.append(Error(f"HELPDESK {key} must be a positive whole number.", id="helpdesk.E004"))
    try:
        helpdesk_settings.NOTIFIER
    except ImportError as exc:
        errors.append(Error(f"HELPDESK NOTIFIER cannot be imported: {exc}", id="helpdesk.E005"))
    rates = value["THROTTLE_RATES"]
    if not isinstance(rates, dict):
        errors.append(Error("HELPDESK THROTTLE_RATES must be a dict of scope to rate.", id="helpdesk.E006"))
    else:
        bad = sorted(str(scope) for scope, rate in rates.items() if rate is not None and not (
            isinstance(rate, str) and _RATE.fullmatch(rate.strip())))
        if bad:
            errors.append(Error(
                f"HELPDESK THROTTLE_RATES has invalid rates for: {', '.join(bad)}.",
                hint='Use "<number>/<second|minute|hour|day>", e.g. "60/min", or None to disable a scope.',
                id="helpdesk.E006",
            ))
    # Status ids are rows in the database, which checks do not read; their type is checked here.
    if not _whole(value["DEFAULT_STATUS_ID"]) or value["DEFAULT_STATUS_ID"] <= 0:
        errors.append(Error("HELPDESK DEFAULT_STATUS_ID must be a status id.", id="helpdesk.E007"))
    for key in ("STATUS_ON_AGENT_REPLY", "STATUS_ON_CONTACT_REPLY"):
        if value[key] is not None and (not _whole(value[key]) or value[key] <= 0):
            errors.append(Error(f"HELPDESK {key} must be a status id or None.", id="helpdesk.E007"))
    if not isinstance(value["MERGE_NOTIFY_REQUESTER"], bool):
        errors.append(Error("HELPDESK MERGE_NOTIFY_REQUESTER must be True or False.", id="helpdesk.E009"))
    waiting = value["WAITING_ON_CUSTOMER_STATUS_IDS"]
    if isinstance(waiting, (str, bytes)) or not isinstance(waiting, (list, tuple, set, frozenset)) or not all(
            _whole(v) and v > 0 for v in waiting):
        errors.append(Error("HELPDESK WAITING_ON_CUSTOMER_STATUS_IDS must be a list of status ids.", id="helpdesk.E007"))
    # The bulk upsert's client and status rules (helpdesk.sync).
    if not isinstance(value["UPSERT_CREATE_CLIENTS"], bool):
        errors.append(Error("HELPDESK UPSERT_CREATE_CLIENTS must be True or False.", id="helpdesk.E009"))
    default_client = value["UPSERT_DEFAULT_CLIENT_ID"]
    if default_client is not None and (not _whole(default_client) or default_client <= 0):
        errors.append(Error("HELPDESK UPSERT_DEFAULT_CLIENT_ID must be a client id or None.", id="helpdesk.E009"))
    domains = value["UPSERT_FREE_EMAIL_DOMAINS"]
    if isinstance(domains, str) or not isinstance(domains, (list, tuple, set, frozenset)) or not all(
            isinstance(d, str) for d in domains):
        errors.append(Error("HELPDESK UPSERT_FREE_EMAIL_DOMAINS must be a list of domain names.", id="helpdesk.E009"))
    aliases = value["UPSERT_STATUS_ALIASES"]
    if not isinstance(aliases, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in aliases.items()):
        errors.append(Error(
            "HELPDESK UPSERT_STATUS_ALIASES must map other systems' status names to our status titles (strings).",
            id="helpdesk.E009",
        ))
    cap = value["COUNT_EXACT_UP_TO"]
    if cap is not None and (not _whole(cap) or cap <= 0):
        errors.append(Error("HELPDESK COUNT_EXACT_UP_TO must be a positive whole number or None.", id="helpdesk.E004"))
    if not _whole(value["TASK_MAX_ATTEMPTS"]) or value["TASK_MAX_ATTEMPTS"] <= 0:
        errors.append(Error("HELPDESK TASK_MAX_ATTEMPTS must be a positive whole number.", id="helpdesk.E010"))
    for key in ("TASK_RETRY_BACKOFF_SECONDS", "TASK_RETRY_MAX_DELAY_SECONDS"):
        if isinstance(value[key], bool) or not isinstance(value[key], (int, float)) or value[key] < 0:
            errors.append(Error(f"HELPDESK {key} must be a number of seconds (0 or more).", id="helpdesk.E010"))
    for key in ("API_VERSION", "SEARCH_CONFIG"):
        if not isinstance(value[key], str) or not value[key].strip():
            errors.append(Error(f"HELPDESK {key} must be a non-empty string.", id="helpdesk.E008"))
    return errors
