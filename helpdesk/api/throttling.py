"""DRF throttles whose rates come from ``HELPDESK["THROTTLE_RATES"]`` (None disables a scope)."""

from __future__ import annotations

from typing import Any

from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from ..conf import helpdesk_settings


class _HelpdeskRate:
    scope: str

    def get_rate(self) -> str | None:
        return (helpdesk_settings.THROTTLE_RATES or {}).get(self.scope)

    def __init__(self) -> None:
        # DRF reads the rate in __init__; ours is read per request so settings changes apply.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)


class AnonThrottle(_HelpdeskRate, AnonRateThrottle):
    scope = "anon"


class UserThrottle(_HelpdeskRate, UserRateThrottle):
    scope = "user"


class UpsertThrottle(_HelpdeskRate, UserRateThrottle):
    """The bulk upsert's own budget (scope ``upsert``), per user."""

    scope = "upsert"

    def allow_request(self, request: Any, view: Any) -> bool:
        if getattr(view, "action", None) != "bulk_upsert":
            return True
        return super().allow_request(request, view)
