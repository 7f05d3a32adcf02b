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
    if not isinstance(value["UPSERT_CREATE_STATUSES"], bool):
        errors.append(Error("HELPDESK UPSERT_CREATE_STATUSES must be True or False.", id="helpdesk.E009"))
    words = value["UPSERT_CLOSED_STATUS_WORDS"]
    if isinstance(words, str) or not isinstance(words, (list, tuple, set, frozenset)) or not all(
            isinstance(w, str) and w.strip() for w in words):
        errors.append(Error("HELPDESK UPSERT_CLOSED_STATUS_WORDS must be a list of words.", id="helpdesk.E009"))
    if not _whole(value["METADATA_MAX_BYTES"]) or value["METADATA_MAX_BYTES"] <= 0:
        errors.append(Error("HELPDESK METADATA_MAX_BYTES must be a positive whole number.", id="helpdesk.E004"))
    cap = value["COUNT_EXACT_UP_TO"]
    if cap is not None and (not _whole(cap) or cap <= 0):
        errors.append(Error("HELPDESK COUNT_EXACT_UP_TO must be a positive whole number or None.", id="helpdesk.E004"))
    ttl = value["IDEMPOTENCY_KEY_TTL"]
    if not _whole(ttl) or ttl <= 0:
        errors.append(Error("HELPDESK IDEMPOTENCY_KEY_TTL must be a positive whole number of seconds.",
                            id="helpdesk.E004"))
    if not _whole(value["TASK_MAX_ATTEMPTS"]) or value["TASK_MAX_ATTEMPTS"] <= 0:
        errors.append(Error("HELPDESK TASK_MAX_ATTEMPTS must be a positive whole number.", id="helpdesk.E010"))
    for key in ("TASK_RETRY_BACKOFF_SECONDS", "TASK_RETRY_MAX_DELAY_SECONDS", "ESTIMATE_CACHE_SECONDS"):
        if isinstance(value[key], bool) or not isinstance(value[key], (int, float)) or value[key] < 0:
            errors.append(Error(f"HELPDESK {key} must be a number of seconds (0 or more).", id="helpdesk.E010"))
    errors.extend(_check_webhook_settings(value))
    for key in ("API_VERSION", "SEARCH_CONFIG"):
        if not isinstance(value[key], str) or not value[key].strip():
            errors.append(Error(f"HELPDESK {key} must be a non-empty string.", id="helpdesk.E008"))
    set_version = value["API_VERSION"]
    if isinstance(set_version, str) and set_version.strip() and set_version != DEFAULTS["API_VERSION"]:
        from django.core.checks import Warning

        errors.append(Warning(
            f"HELPDESK API_VERSION is set ({set_version!r}): the API's responses then claim a version "
            f"date the code does not keep (it implements {DEFAULTS['API_VERSION']!r}).",
            hint="Remove API_VERSION from HELPDESK: the version date is the app's own (docs/versioning.md). "
                 "The setting is deprecated and will be removed in 0.3.",
            id="helpdesk.W102",
        ))
    errors.extend(_check_zammad(value))
    return errors


#: Zammad's state types (``ticket_state_types``), by name.
ZAMMAD_STATE_TYPES = ("new", "open", "pending reminder", "pending action", "closed", "merged", "removed")


def _check_zammad(value: dict[str, Any]) -> list[Any]:
    """The Zammad dialect's mapping tables (``ZAMMAD_*``): shapes and cross references."""
    from .models import Priority

    errors: list[Any] = []

    def error(key: str, message: str) -> None:
        errors.append(Error(f"HELPDESK {key} {message}", id="helpdesk.E011"))

    slugs = {p.slug for p in Priority}
    states = value["ZAMMAD_STATES"]
    if not isinstance(states, dict) or not states or not all(
        _whole(k) and k > 0 and isinstance(v, dict)
        and isinstance(v.get("name"), str) and v["name"].strip()
        and v.get("type") in ZAMMAD_STATE_TYPES
        and _whole(v.get("status_id")) and v["status_id"] > 0
        for k, v in states.items()
    ):
        error("ZAMMAD_STATES", "must map Zammad state ids to {'name': str, 'type': one of "
              f"{', '.join(ZAMMAD_STATE_TYPES)}, 'status_id': a status id}}.")
        states = {}
    elif len({v["name"].strip().lower() for v in states.values()}) != len(states):
        error("ZAMMAD_STATES", "has two states with the same name.")
    reverse = value["ZAMMAD_STATE_FOR_STATUS"]
    if not isinstance(reverse, dict) or not all(_whole(k) and k > 0 and _whole(v) for k, v in reverse.items()):
        error("ZAMMAD_STATE_FOR_STATUS", "must map status ids to Zammad state ids.")
    elif states and not set(reverse.values()) <= set(states):
        error("ZAMMAD_STATE_FOR_STATUS", "names Zammad state ids that ZAMMAD_STATES lacks.")
    new = value["ZAMMAD_NEW_STATE_ID"]
    if new is not None and (not _whole(new) or (states and new not in states)):
        error("ZAMMAD_NEW_STATE_ID", "must be one of the ZAMMAD_STATES ids, or None.")
    priorities = value["ZAMMAD_PRIORITIES"]
    if not isinstance(priorities, dict) or not priorities or not all(
        _whole(k) and k > 0 and isinstance(v, dict)
        and isinstance(v.get("name"), str) and v["name"].strip() and v.get("priority") in slugs
        for k, v in priorities.items()
    ):
        error("ZAMMAD_PRIORITIES", f"must map Zammad priority ids to {{'name': str, 'priority': one of "
              f"{', '.join(sorted(slugs))}}}.")
        priorities = {}
    back = value["ZAMMAD_PRIORITY_FOR_PRIORITY"]
    if not isinstance(back, dict) or set(back) != slugs or not all(_whole(v) for v in back.values()):
        error("ZAMMAD_PRIORITY_FOR_PRIORITY", f"must map each of {', '.join(sorted(slugs))} to a Zammad priority id.")
    elif priorities and not set(back.values()) <= set(priorities):
        error("ZAMMAD_PRIORITY_FOR_PRIORITY", "names Zammad priority ids that ZAMMAD_PRIORITIES lacks.")
    groups = value["ZAMMAD_GROUPS"]
    if not isinstance(groups, dict) or not all(
        isinstance(k, str) and k.strip() and (v is None or (isinstance(v, str) and v.strip()))
        for k, v in groups.items()
    ):
        error("ZAMMAD_GROUPS", "must map Zammad group names to a department name or None (the default department).")
    org = value["ZAMMAD_DEFAULT_ORGANIZATION_ID"]
    if org is not None and (not _whole(org) or org <= 0):
        error("ZAMMAD_DEFAULT_ORGANIZATION_ID", "must be a client id or None.")
    return errors


@register(Tags.compatibility, deploy=True)
def check_sqlite_options(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """SQLite without a busy timeout or IMMEDIATE transactions fails concurrent writes
    ("database is locked") instead of letting them wait their turn (README, "SQLite").
    A deployment check (``check --deploy``): a new project's SQLite file is fine to try things."""
    from django.conf import settings

    return sqlite_warnings(getattr(settings, "DATABASES", {}))


def sqlite_warnings(databases: dict[str, Any]) -> list[Any]:
    import django
    from django.core.checks import Warning

    warnings: list[Any] = []
    for alias, database in databases.items():
        if database.get("ENGINE") != "django.db.backends.sqlite3":
            continue
        options = database.get("OPTIONS") or {}
        missing = []
        timeout = options.get("timeout")
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout < 5:
            missing.append('"timeout": 20')
        if django.VERSION >= (5, 1) and str(options.get("transaction_mode", "")).upper() != "IMMEDIATE":
            missing.append('"transaction_mode": "IMMEDIATE"')
        if missing:
            warnings.append(Warning(
                f"The SQLite database {alias!r} is not set up for concurrent writers: a write that "
                "meets another one fails with 'database is locked' (the API answers 503).",
                hint=f"Add {', '.join(missing)} to DATABASES[{alias!r}]['OPTIONS'] (and WAL, see the README).",
                id="helpdesk.W101",
            ))
    return warnings
@register(Tags.compatibility)
def check_mail_settings(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Attachments and mail (helpdesk.E020–E029)."""
    from django.conf import settings as django_settings

    from .conf import DEFAULTS, helpdesk_settings

    try:
        value = {**DEFAULTS, **helpdesk_settings.user_settings}
    except ImproperlyConfigured:
        return []  # reported as helpdesk.E001
    errors: list[Any] = []
    storage = value["ATTACHMENT_STORAGE"]
    storages = getattr(django_settings, "STORAGES", {}) or {}
    if not isinstance(storage, str) or storage not in storages:
        errors.append(Error(
            f"HELPDESK ATTACHMENT_STORAGE is {storage!r}, which is not an alias in STORAGES.",
            hint="Use 'default' or add the alias to STORAGES.", id="helpdesk.E020",
        ))
    for key in ("ATTACHMENT_MAX_BYTES", "ATTACHMENT_MAX_COUNT", "MAIL_MAX_BYTES", "MAIL_FETCH_INTERVAL_SECONDS"):
        if not _whole(value[key]) or value[key] <= 0:
            errors.append(Error(f"HELPDESK {key} must be a positive whole number.", id="helpdesk.E021"))
    types = value["ATTACHMENT_ALLOWED_TYPES"]
    if types is not None and (isinstance(types, str) or not isinstance(types, (list, tuple, set, frozenset))
                              or not all(isinstance(t, str) and "/" in t for t in types)):
        errors.append(Error(
            "HELPDESK ATTACHMENT_ALLOWED_TYPES must be None or a list of content types such as 'image/*'.",
            id="helpdesk.E022",
        ))
    for key in ("MAIL_FROM", "MAIL_MESSAGE_ID_DOMAIN"):
        if value[key] is not None and (not isinstance(value[key], str) or not value[key].strip()):
            errors.append(Error(f"HELPDESK {key} must be a non-empty string or None.", id="helpdesk.E023"))
    for key in ("MAIL_DEFAULT_DEPARTMENT_ID", "MAIL_DEFAULT_CLIENT_ID"):
        if value[key] is not None and (not _whole(value[key]) or value[key] <= 0):
            errors.append(Error(f"HELPDESK {key} must be an id or None.", id="helpdesk.E024"))
    blocklist = value["MAIL_BLOCKLIST"]
    if isinstance(blocklist, str) or not isinstance(blocklist, (list, tuple, set, frozenset)) or not all(
            isinstance(b, str) and b.strip() for b in blocklist):
        errors.append(Error("HELPDESK MAIL_BLOCKLIST must be a list of addresses or '@domain' entries.",
                            id="helpdesk.E025"))
    for key in ("MAIL_ACKNOWLEDGE", "MAIL_NOTIFY_AGENTS"):
        if not isinstance(value[key], bool):
            errors.append(Error(f"HELPDESK {key} must be True or False.", id="helpdesk.E026"))
    errors.extend(_check_encryption_settings(value))
    return errors


def _check_encryption_settings(value: dict[str, Any]) -> list[Any]:
    """The keys of helpdesk.encryption (helpdesk.E060, E061)."""
    from .encryption import MIN_KEY_LENGTH

    def key(v: Any) -> bool:
        return isinstance(v, str) and len(v) >= MIN_KEY_LENGTH

    hint = "Generate one with django.core.management.utils.get_random_secret_key() and keep it secret."
    errors: list[Any] = []
    if value["ENCRYPTION_KEY"] is not None and not key(value["ENCRYPTION_KEY"]):
        errors.append(Error(f"HELPDESK ENCRYPTION_KEY must be None (use SECRET_KEY) or a string of at least "
                            f"{MIN_KEY_LENGTH} characters.", hint=hint, id="helpdesk.E060"))
    fallbacks = value["ENCRYPTION_KEY_FALLBACKS"]
    if isinstance(fallbacks, str) or not isinstance(fallbacks, (list, tuple)) or not all(key(v) for v in fallbacks):
        errors.append(Error(f"HELPDESK ENCRYPTION_KEY_FALLBACKS must be a list of former keys (strings of at least "
                            f"{MIN_KEY_LENGTH} characters).", id="helpdesk.E061"))
    return errors


@register(Tags.database)
def check_stored_secrets(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[Any]:
    """Mailbox passwords that no key decrypts (helpdesk.E062): ``check --database default``,
    and ``migrate``. Clear-text ones (before migration 0015 ran) are not reported: migrate
    encrypts them."""
    from django.db import DatabaseError

    from .encryption import key_sources, looks_encrypted
    from .models import Mailbox

    errors: list[Any] = []
    for alias in databases or ():
        try:
            rows = list(Mailbox.objects.using(alias).order_by("name").values_list("name", "password"))
        except DatabaseError:  # not migrated yet
            continue
        lost = [name for name, password in rows
                if not isinstance(password, str) and looks_encrypted(getattr(password, "token", ""))]
        if lost:
            errors.append(Error(
                f"The stored password of mailbox(es) {', '.join(map(repr, lost))} cannot be decrypted: no key "
                f"decrypts it ({key_sources()[0]} were tried).",
                hint="Restore the key they were encrypted with (a former key goes in SECRET_KEY_FALLBACKS or "
                     "HELPDESK ENCRYPTION_KEY_FALLBACKS), or enter the passwords again in the admin (Mailboxes).",
                id="helpdesk.E062",
            ))
    return errors


def _check_webhook_settings(value: dict[str, Any]) -> list[Any]:
    errors: list[Any] = []
    for key in ("WEBHOOK_MAX_RESPONSE_BYTES", "WEBHOOK_MAX_ATTEMPTS", "WEBHOOK_DISABLE_AFTER_FAILURES"):
        if not _whole(value[key]) or value[key] <= 0:
            errors.append(Error(f"HELPDESK {key} must be a positive whole number.", id="helpdesk.E030"))
    for key in ("WEBHOOK_TIMEOUT_SECONDS", "WEBHOOK_RETRY_BACKOFF_SECONDS", "WEBHOOK_RETRY_MAX_DELAY_SECONDS"):
        number = value[key]
        if isinstance(number, bool) or not isinstance(number, (int, float)) or number < 0 or (
                key == "WEBHOOK_TIMEOUT_SECONDS" and not 0 < number <= 60):
            errors.append(Error(
                f"HELPDESK {key} must be a number of seconds"
                f"{' above 0 and at most 60' if key == 'WEBHOOK_TIMEOUT_SECONDS' else ' (0 or more)'}.",
                id="helpdesk.E031",
            ))
    if not isinstance(value["WEBHOOK_ALLOW_PRIVATE"], bool):
        errors.append(Error("HELPDESK WEBHOOK_ALLOW_PRIVATE must be True or False.", id="helpdesk.E032"))
    return errors
