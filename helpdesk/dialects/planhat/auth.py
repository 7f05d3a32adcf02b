"""Planhat's credentials: ``Authorization: Bearer TOKEN`` or ``curl --user TOKEN:`` (Basic),
both a helpdesk API key (``helpdesk.api.authentication``)."""

from __future__ import annotations

from typing import Any

from ...api.authentication import APIKeyAuthentication


class PlanhatKeyAuthentication(APIKeyAuthentication):
    """An API key as a Bearer token or as the user name of Basic credentials."""

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="planhat"'


AUTHENTICATION_CLASSES = [PlanhatKeyAuthentication]
