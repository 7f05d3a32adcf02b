"""Rows that rarely change and that every write reads (the statuses, the departments, the
enabled custom fields, the active webhook subscriptions, whether any SLA policy is active), kept in Django's cache so a write need not
query them each time.

Each entry is dropped whenever one of its rows is saved or deleted (right away and again
when the transaction commits, so no other request caches the old rows in between) and
expires after ``TTL`` seconds anyway. With a cache every app server shares (Redis, see
docs/deploy.md) a change is seen by all of them at once; with a per-process cache
(LocMemCache) other processes see it within ``TTL``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import transaction

TTL = 60
_PREFIX = "helpdesk:ref:"
_LOADERS: dict[str, Callable[[], Any]] = {}


def register(name: str, loader: Callable[[], Any]) -> None:
    _LOADERS[name] = loader


def get(name: str) -> Any:
    """The cached value of ``name``, loaded (and cached) if missing."""
    key = _PREFIX + name
    try:
        value = cache.get(key)
    except Exception:  # a cache that is down costs a query, never the request
        value = None
    if value is None:
        value = _LOADERS[name]()
        try:
            cache.set(key, value, TTL)
        except Exception:
            pass
    return value


def drop(name: str) -> None:
    """Forget ``name`` now and once more when the current transaction commits."""

    def forget() -> None:
        try:
            cache.delete(_PREFIX + name)
        except Exception:
            pass

    forget()
    transaction.on_commit(forget)


def connect() -> None:
    """Register the app's entries and drop each when its rows change (``apps.ready``)."""
    from django.db.models.signals import post_delete, post_save

    from .custom_fields import _load_enabled_fields
    from .events.webhooks import active_subscriptions
    from .models import CustomField, Department, SLAPolicy, TicketStatus, WebhookSubscription

    register("statuses", lambda: {s.pk: s for s in TicketStatus.objects.all()})
    register("departments", lambda: {d.pk: d for d in Department.objects.all()})
    register("custom_fields", _load_enabled_fields)
    register("webhooks", active_subscriptions)
    # Whether any active SLA policy exists: most sites have none, and then no write needs to
    # look for one (``helpdesk.sla.policy_for``).
    register("sla_policies", lambda: SLAPolicy.objects.filter(is_active=True).exists())
    for model, name in ((TicketStatus, "statuses"), (Department, "departments"), (CustomField, "custom_fields"),
                        (WebhookSubscription, "webhooks"), (SLAPolicy, "sla_policies")):
        def changed(sender: Any, name: str = name, **kwargs: Any) -> None:
            drop(name)

        for signal in (post_save, post_delete):
            signal.connect(changed, sender=model, weak=False, dispatch_uid=f"helpdesk.refcache.{name}.{id(signal)}")
