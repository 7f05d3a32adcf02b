"""SPP's credentials: ``Authorization: Bearer TOKEN``, a helpdesk API key."""

from __future__ import annotations

from typing import Any

from rest_framework import authentication

from ...api.authentication import APIKeyAuthentication


class SPPKeyAuthentication(APIKeyAuthentication):
    """Bearer only, as SPP documents; any other scheme is unauthenticated (401)."""

    def authenticate(self, request: Any) -> Any:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != b"bearer":
            return None
        return super().authenticate(request)

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="spp"'


AUTHENTICATION_CLASSES = [SPPKeyAuthentication]
