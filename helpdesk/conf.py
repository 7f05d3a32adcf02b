"""The app's settings: one object, read from the ``HELPDESK`` dict, cached.

Every key has a default in ``DEFAULTS``; an unknown key raises ``ImproperlyConfigured``
(and is reported by the ``helpdesk.E001`` system check). Nothing else in the app reads
``django.conf.settings`` for our keys, and nothing reads it at import time.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

DEFAULTS: dict[str, Any] = {
    # The API's version date, sent as X-Api-Version on every response.
    "API_VERSION": "2026-11-23",
    # List pagination.
    "PAGE_SIZE": 25,
    "MAX_PAGE_SIZE": 1000,
    # Lists count their rows exactly up to this many; above it (on PostgreSQL) ``total``
    # is the planner's estimate and ``meta.total_exact`` is false. None: always exact.
    "COUNT_EXACT_UP_TO": 10_000,
    # Bulk upsert (PUT /tickets): items per request and request body size in bytes.
    "UPSERT_MAX_ITEMS": 5000,
    "UPSERT_MAX_BYTES": 32 * 1024 * 1024,
    # Bulk upsert: an item whose client matches nothing (by companyId, companyExternalId,
    # domains[], the email's domain or the requester's contact) creates a client from its
    # companyExternalId / domains[] / the email's domain (never a free-mail domain) when
    # True; otherwise, or when there is nothing to create it from, it goes to
    # UPSERT_DEFAULT_CLIENT_ID (a client id) if set, else the item is reported as an error.
    "UPSERT_CREATE_CLIENTS": True,
    "UPSERT_DEFAULT_CLIENT_ID": None,
    # Email domains shared by unrelated people: a client is never created from one.
    "UPSERT_FREE_EMAIL_DOMAINS": [
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
        "yahoo.com", "ymail.com", "icloud.com", "me.com", "mac.com", "aol.com", "gmx.com",
        "gmx.de", "gmx.net", "web.de", "proton.me", "protonmail.com", "mail.com", "mail.ru",
        "yandex.ru", "yandex.com", "zoho.com", "fastmail.com", "hey.com", "qq.com", "163.com",
    ],
    # Bulk upsert: status names of other systems, mapped (case-insensitively) to the title
    # of one of our statuses; used when no status has that title. Unknown ones are errors.
    "UPSERT_STATUS_ALIASES": {
        "new": "Open", "pending": "On Hold", "hold": "On Hold", "on-hold": "On Hold",
        "waiting": "On Hold", "solved": "Closed", "resolved": "Closed", "done": "Closed",
    },
    # Largest body accepted by every other endpoint, in bytes.
    "MAX_BODY_BYTES": 1024 * 1024,
    # DRF throttle rates per scope; None disables a scope.
    "THROTTLE_RATES": {"anon": "60/min", "user": "1200/min", "upsert": "60/min"},
    # PostgreSQL text search configuration used by `search`.
    "SEARCH_CONFIG": "simple",
    # The status a new ticket starts in.
    "DEFAULT_STATUS_ID": 1,
    # Optional automatic status on a public reply: a status id, or None to leave it.
    "STATUS_ON_AGENT_REPLY": None,
    "STATUS_ON_CONTACT_REPLY": None,
    # The admin's ticket list counts matches exactly up to this many; past it, it shows an
    # estimate (PostgreSQL's planner) instead of counting a huge table on every view.
    "ADMIN_COUNT_LIMIT": 1000,
    # Seconds the admin overview's figures are cached (0 disables the cache).
    "OVERVIEW_CACHE_SECONDS": 60,
    # Statuses meaning "we wait for the customer": the admin's "Waiting on customer" view.
    "WAITING_ON_CUSTOMER_STATUS_IDS": [4],
    # Merging a duplicate (services.ticket_merge) tells its requester (NOTIFIER's
    # ticket_merged) only when True.
    "MERGE_NOTIFY_REQUESTER": False,
    # Dotted path to the class that turns helpdesk events into notifications.
    "NOTIFIER": "helpdesk.notify.NullNotifier",
    # The task layer (helpdesk.events.tasks): attempts in all for a task that raises, and
    # the retry delay: this many seconds, doubled per attempt, capped.
    "TASK_MAX_ATTEMPTS": 5,
    "TASK_RETRY_BACKOFF_SECONDS": 10,
    "TASK_RETRY_MAX_DELAY_SECONDS": 3600,
}

# Keys whose value is a dotted path, imported on first access.
IMPORT_STRINGS = frozenset({"NOTIFIER"})


class HelpdeskSettings:
    """Attribute access to the app's settings with defaults, validated and cached."""

    def __init__(self, defaults: dict[str, Any] | None = None) -> None:
        self.defaults = defaults or DEFAULTS
        self._cached: set[str] = set()
        self._user: dict[str, Any] | None = None

    @property
    def user_settings(self) -> dict[str, Any]:
        if self._user is None:
            value = getattr(settings, "HELPDESK", None) or {}
            if not isinstance(value, dict):
                raise ImproperlyConfigured("The HELPDESK setting must be a dict.")
            unknown = sorted(set(value) - set(self.defaults))
            if unknown:
                raise ImproperlyConfigured(
                    f"Unknown HELPDESK setting(s): {', '.join(unknown)}. "
                    f"Known: {', '.join(sorted(self.defaults))}."
                )
            self._user = value
        return self._user

    def __getattr__(self, name: str) -> Any:
        if name not in self.defaults:
            raise AttributeError(f"Invalid helpdesk setting: {name!r}")
        value = self.user_settings.get(name, self.defaults[name])
        if name in IMPORT_STRINGS and isinstance(value, str):
            value = import_string(value)
        self._cached.add(name)
        setattr(self, name, value)
        return value

    def reload(self) -> None:
        for name in self._cached:
            delattr(self, name)
        self._cached.clear()
        self._user = None


helpdesk_settings = HelpdeskSettings(DEFAULTS)


def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting == "HELPDESK":
        helpdesk_settings.reload()


setting_changed.connect(_reload)
