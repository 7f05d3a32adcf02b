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

from . import API_VERSION

DEFAULTS: dict[str, Any] = {
    # The API's version date, sent as X-Api-Version on every response: the app's own
    # (helpdesk.API_VERSION, docs/versioning.md). Deprecated as a setting: a site that sets
    # it claims a contract the code does not keep (helpdesk.W102); removed in 0.3.
    "API_VERSION": API_VERSION,
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
    # Bulk upsert: a status title that matches no status and no alias creates a status
    # (open, or closed when one of its words is in UPSERT_CLOSED_STATUS_WORDS) when True;
    # with False it is an error for that item.
    "UPSERT_CREATE_STATUSES": True,
    "UPSERT_CLOSED_STATUS_WORDS": [
        "closed", "resolved", "solved", "done", "complete", "completed", "finished",
        "cancelled", "canceled", "rejected", "archived", "won't fix", "wontfix",
    ],
    # Largest ticket ``metadata`` (a JSON object) the API accepts, in bytes of JSON.
    "METADATA_MAX_BYTES": 16 * 1024,
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
    # Seconds a process remembers the planner's estimate for a list (the API's and the
    # admin's totals past the exact count, a search's "common word" test); 0: ask every time.
    "ESTIMATE_CACHE_SECONDS": 10,
    # Seconds the admin overview's figures are cached (0 disables the cache).
    "OVERVIEW_CACHE_SECONDS": 60,
    # Statuses meaning "we wait for the customer": the admin's "Waiting on customer" view.
    "WAITING_ON_CUSTOMER_STATUS_IDS": [4],
    # Merging a duplicate (services.ticket_merge) tells its requester (NOTIFIER's
    # ticket_merged) only when True.
    "MERGE_NOTIFY_REQUESTER": False,
    # Dotted path to the class that turns helpdesk events into notifications.
    "NOTIFIER": "helpdesk.notify.NullNotifier",
    # Seconds an Idempotency-Key is remembered (its first response replayed); then pruned.
    "IDEMPOTENCY_KEY_TTL": 24 * 60 * 60,
    # The task layer (helpdesk.events.tasks): attempts in all for a task that raises, and
    # the retry delay: this many seconds, doubled per attempt, capped.
    "TASK_MAX_ATTEMPTS": 5,
    "TASK_RETRY_BACKOFF_SECONDS": 10,
    "TASK_RETRY_MAX_DELAY_SECONDS": 3600,
    # The Zammad dialect (helpdesk.dialects.zammad, docs/dialects/zammad.md).
    # Zammad state id -> its name, its state type and the id of our status it means.
    "ZAMMAD_STATES": {
        1: {"name": "new", "type": "new", "status_id": 1},
        2: {"name": "open", "type": "open", "status_id": 1},
        3: {"name": "pending reminder", "type": "pending reminder", "status_id": 3},
        4: {"name": "closed", "type": "closed", "status_id": 2},
        7: {"name": "pending close", "type": "pending action", "status_id": 3},
    },
    # Our status id -> the Zammad state id shown for it; a status not listed shows as
    # closed (4) when it counts as closed, else open (2).
    "ZAMMAD_STATE_FOR_STATUS": {1: 2, 2: 4, 3: 3, 4: 2, 5: 2},
    # Shown for a ticket still in DEFAULT_STATUS_ID that no agent has answered and whose
    # status never changed (Zammad's "new"); None: never.
    "ZAMMAD_NEW_STATE_ID": 1,
    # Zammad priority id -> its name and our priority.
    "ZAMMAD_PRIORITIES": {
        1: {"name": "1 low", "priority": "normal"},
        2: {"name": "2 normal", "priority": "normal"},
        3: {"name": "3 high", "priority": "high"},
        4: {"name": "4 urgent", "priority": "urgent"},
    },
    # Our priority -> the Zammad priority id shown for it.
    "ZAMMAD_PRIORITY_FOR_PRIORITY": {"normal": 2, "high": 3, "urgent": 4},
    # Zammad group names that are not department names -> a department name, or None for
    # the default department. Other group names are department names.
    "ZAMMAD_GROUPS": {"Users": None},
    # A client id for tickets whose customer belongs to no organization (e.g. a free-mail
    # address); None: such a ticket needs an organization_id, else it is a 422.
    "ZAMMAD_DEFAULT_ORGANIZATION_ID": None,
    # Attachments (helpdesk.attachments): the STORAGES alias files are kept in; the largest
    # file in bytes (a 413 past it), the most files on one message and the content types
    # accepted (sniffed from the content; "image/*" matches a family; None accepts any).
    "ATTACHMENT_STORAGE": "default",
    "ATTACHMENT_MAX_BYTES": 10 * 1024 * 1024,
    "ATTACHMENT_MAX_COUNT": 10,
    "ATTACHMENT_ALLOWED_TYPES": None,
    # Mail (helpdesk.mail). The address mail is sent from when the ticket's department has
    # none (None: DEFAULT_FROM_EMAIL); it is also the Reply-To that threads answers back.
    "MAIL_FROM": None,
    # The domain of our Message-IDs (None: the sender address's domain).
    "MAIL_MESSAGE_ID_DOMAIN": None,
    # Inbound: the department of new tickets when the mailbox names none (None: the
    # default department, else the first); the client of a sender whose domain matches
    # none and creates none (free-mail addresses); None: a client named after the sender.
    "MAIL_DEFAULT_DEPARTMENT_ID": None,
    "MAIL_DEFAULT_CLIENT_ID": None,
    # Senders refused (quarantined, never a ticket): addresses or "@domain" entries.
    "MAIL_BLOCKLIST": [],
    # The largest inbound message in bytes; a bigger one is quarantined whole.
    "MAIL_MAX_BYTES": 25 * 1024 * 1024,
    # Outbound: acknowledge a ticket a customer opened by mail; tell the assignees (or the
    # department's address) about a customer's new ticket or reply.
    "MAIL_ACKNOWLEDGE": True,
    "MAIL_NOTIFY_AGENTS": True,
    # Seconds between polls of `manage.py helpdesk_mail_fetch --watch`.
    "MAIL_FETCH_INTERVAL_SECONDS": 60,
    # Secrets kept encrypted (helpdesk.encryption: mailbox passwords): the key is derived
    # from this string (None: from SECRET_KEY); the fallbacks (and, without a key of our
    # own, SECRET_KEY_FALLBACKS) still decrypt, for rotating it.
    "ENCRYPTION_KEY": None,
    "ENCRYPTION_KEY_FALLBACKS": [],
    # Webhooks (helpdesk.events.webhooks): seconds to connect and to answer (each), the
    # most response bytes read, attempts per message before it is given up, the retry
    # delay (doubled per attempt, capped), and the failed attempts in a row after which a
    # subscription is disabled. Private and loopback addresses are refused unless
    # WEBHOOK_ALLOW_PRIVATE; link-local and cloud-metadata ones always.
    "WEBHOOK_TIMEOUT_SECONDS": 5,
    "WEBHOOK_MAX_RESPONSE_BYTES": 64 * 1024,
    "WEBHOOK_MAX_ATTEMPTS": 8,
    "WEBHOOK_RETRY_BACKOFF_SECONDS": 10,
    "WEBHOOK_RETRY_MAX_DELAY_SECONDS": 6 * 3600,
    "WEBHOOK_DISABLE_AFTER_FAILURES": 20,
    "WEBHOOK_ALLOW_PRIVATE": False,
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
