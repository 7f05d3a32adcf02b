"""Authentication as Zammad clients send it, and ``X-On-Behalf-Of``.

- ``Authorization: Token token=KEY`` (Zammad's HTTP token) and ``Bearer KEY`` (its OAuth2
  form): KEY is a helpdesk API key.
- HTTP Basic with a user's username or email address and password.
- ``X-On-Behalf-Of: <user id, username or email>``: the request runs as that user, for
  callers ``permissions.can_act_on_behalf_of`` allows (403 otherwise).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.contrib.auth import authenticate, get_user_model
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from ...api.authentication import APIKeyAuthentication
from ...models import APIKey
from ...permissions import can_act_on_behalf_of
from .mapping import parse_id


class ZammadAuthentication(authentication.BaseAuthentication):
    """Token, Bearer or Basic; a present but wrong credential is a 401, never a fall-through."""

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request)
        if not header:
            return None
        try:
            text = header.decode("latin-1")
        except UnicodeError:  # pragma: no cover - latin-1 decodes every byte
            raise exceptions.AuthenticationFailed(_("Invalid Authorization header.")) from None
        scheme, _sep, credentials = text.strip().partition(" ")
        scheme = scheme.lower()
        credentials = credentials.strip()
        if scheme == "token":
            key = credentials
            if key.lower().startswith("token="):
                key = key[len("token="):]
            user, auth = self._by_key(key.strip().strip('"'))
        elif scheme == "bearer":
            user, auth = self._by_key(credentials)
        elif scheme == "basic":
            user, auth = self._by_password(request, credentials), None
        else:
            raise exceptions.AuthenticationFailed(
                _("Unsupported Authorization scheme: use 'Token token=KEY', 'Bearer KEY' or Basic.")
            )
        return self._on_behalf_of(request, user), auth

    @staticmethod
    def _by_key(key: str) -> tuple[Any, APIKey]:
        api_key = APIKey.objects.get_from_key(key) if key else None
        if api_key is None:
            raise exceptions.AuthenticationFailed(_("Invalid token!"))
        if not api_key.user.is_active:
            raise exceptions.AuthenticationFailed(_("User is inactive."))
        APIKeyAuthentication._touch(api_key)
        return api_key.user, api_key

    @staticmethod
    def _by_password(request: Any, credentials: str) -> Any:
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeError, ValueError):
            raise exceptions.AuthenticationFailed(_("Invalid BasicAuth credentials")) from None
        login, sep, password = decoded.partition(":")
        if not sep or not login or not password:
            raise exceptions.AuthenticationFailed(_("Invalid BasicAuth credentials"))
        django_request = getattr(request, "_request", request)
        User = get_user_model()
        user = authenticate(django_request, **{User.USERNAME_FIELD: login, "password": password})
        if user is None and "@" in login:
            # Zammad logs in by email too: the oldest active user with that address.
            email_field = User.get_email_field_name()
            match = (
                User._default_manager.annotate(_email=Lower(email_field))
                .filter(_email=login.lower(), is_active=True).order_by("pk").first()
            )
            if match is not None and match.get_username() != login:
                user = authenticate(django_request, **{User.USERNAME_FIELD: match.get_username(), "password": password})
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid BasicAuth credentials"))
        return user

    @staticmethod
    def _on_behalf_of(request: Any, user: Any) -> Any:
        target = request.META.get("HTTP_X_ON_BEHALF_OF", "").strip()
        if not target:
            return user
        if not can_act_on_behalf_of(user):
            raise exceptions.PermissionDenied(_("Current user has no permission to use 'X-On-Behalf-Of'!"))
        User = get_user_model()
        manager = User._default_manager
        found = None
        if parse_id(target) is not None:
            found = manager.filter(pk=parse_id(target)).first()
        if found is None:
            found = manager.filter(**{User.USERNAME_FIELD: target}).first()
        if found is None and "@" in target:
            email_field = User.get_email_field_name()
            found = manager.annotate(_email=Lower(email_field)).filter(_email=target.lower()).order_by("pk").first()
        if found is None or not found.is_active:
            raise exceptions.PermissionDenied(_("No such user '%(u)s'") % {"u": target[:100]})
        return found

    def authenticate_header(self, request: Any) -> str:
        # Makes DRF answer 401 (not 403) to unauthenticated requests, as Zammad does.
        return 'Token realm="zammad"'
