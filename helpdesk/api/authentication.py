"""``Authorization: Bearer <api key>``: the key of a user, checked against its hash.

Planhat-style clients send the key as HTTP Basic credentials instead (``curl --user KEY:``):
``Authorization: Basic base64("KEY:")`` is accepted too.
"""

from __future__ import annotations

import base64
import binascii
import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from ..models import APIKey

#: ``last_used_at`` is written at most this often per key, so a busy key costs no writes.
TOUCH_INTERVAL = datetime.timedelta(minutes=1)


class APIKeyAuthentication(authentication.BaseAuthentication):
    """Authenticate with a helpdesk API key (``APIKey.objects.get_from_key``).

    ``request.auth`` is the ``APIKey`` row. A request without an ``Authorization: Bearer``
    header is left to the next class (session auth); a present but bad, revoked or expired
    key is a 401, never a fall-through.
    """

    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[Any, APIKey] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() not in (b"bearer", b"basic"):
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid Authorization header: use 'Bearer <api key>'."))
        try:
            key = header[1].decode("ascii")
            if header[0].lower() == b"basic":
                # The key is the user name (or, from some clients, the password) of the pair.
                user_part, _sep, password = base64.b64decode(key, validate=True).decode("ascii").partition(":")
                key = user_part or password
        except (UnicodeError, binascii.Error):
            raise exceptions.AuthenticationFailed(_("Invalid API key.")) from None
        api_key = APIKey.objects.get_from_key(key)
        # An inactive user's key answers exactly as a bad one: no hint that it is valid.
        if api_key is None or not api_key.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid, revoked or expired API key."))
        user = api_key.user
        self._touch(api_key)
        return user, api_key

    @staticmethod
    def _touch(api_key: APIKey) -> None:
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at >= TOUCH_INTERVAL:
            APIKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
            api_key.last_used_at = now

    def authenticate_header(self, request: Any) -> str:
        # Makes DRF answer 401 (not 403) to unauthenticated requests.
        return f'{self.keyword} realm="api"'


def is_key_request(request: Any) -> bool:
    """True when the caller used an API key (channel ``api``), not a browser session."""
    return isinstance(getattr(request, "auth", None), APIKey)
