"""Secrets the helpdesk has to read back in clear (a mailbox's password: the mail server
needs it to log in), encrypted at rest with ``cryptography``'s Fernet.

The key is derived (HKDF-SHA256) from ``HELPDESK["ENCRYPTION_KEY"]``, or from
``SECRET_KEY`` when the site sets none. Values are encrypted with that key and decrypted
with it or any fallback: ``HELPDESK["ENCRYPTION_KEY_FALLBACKS"]``, and, while the key is
``SECRET_KEY``, ``SECRET_KEY_FALLBACKS``. So a key can be rotated: the old one moves to the
fallbacks, old values still decrypt, and each is encrypted with the new key when saved.

:class:`EncryptedTextField` does this for a model field. A stored value that no key
decrypts (the key is lost) loads as an :class:`Undecryptable`: the row can still be shown
and saved (the value is written back as it was), and whoever needs the clear text
(:func:`clear_text`) gets a :class:`DecryptionError` that says what to do.
"""

from __future__ import annotations

import base64
import functools
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

#: Keys shorter than this are refused (helpdesk.E060): Fernet's own keys are 44 characters,
#: Django's ``get_random_secret_key()`` 50.
MIN_KEY_LENGTH = 32


class DecryptionError(Exception):
    """A stored secret that none of the configured keys decrypts."""


class Undecryptable:
    """What an :class:`EncryptedTextField` holds when no key decrypts the stored value:
    saved back unchanged, never usable as the secret (it is not a ``str``)."""

    __slots__ = ("token",)

    def __init__(self, token: str) -> None:
        self.token = token

    def __repr__(self) -> str:
        return "<Undecryptable>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Undecryptable) and other.token == self.token

    def __hash__(self) -> int:
        return hash(self.token)


def key_sources() -> tuple[str, list[str]]:
    """The secret values to encrypt with and to decrypt with (first one first), and what
    they are called, for messages: ``(names, secrets)``."""
    from .conf import helpdesk_settings

    own, fallbacks = helpdesk_settings.ENCRYPTION_KEY, list(helpdesk_settings.ENCRYPTION_KEY_FALLBACKS or [])
    if own is not None:
        return "HELPDESK ENCRYPTION_KEY and ENCRYPTION_KEY_FALLBACKS", [own, *fallbacks]
    names = "SECRET_KEY and SECRET_KEY_FALLBACKS" + (" and HELPDESK ENCRYPTION_KEY_FALLBACKS" if fallbacks else "")
    return names, [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", []), *fallbacks]


@functools.lru_cache(maxsize=8)
def _fernet(secrets: tuple[str, ...]) -> MultiFernet:
    keys = []
    for secret in secrets:
        if not isinstance(secret, str) or len(secret) < MIN_KEY_LENGTH:
            raise ImproperlyConfigured(
                f"An encryption key must be a string of at least {MIN_KEY_LENGTH} characters (helpdesk.E060)."
            )
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"django-deskflow",
                       info=b"helpdesk.encryption.fernet").derive(secret.encode())
        keys.append(Fernet(base64.urlsafe_b64encode(derived)))
    return MultiFernet(keys)


def _current() -> MultiFernet:
    return _fernet(tuple(key_sources()[1]))


def encrypt(value: str) -> str:
    """``value`` encrypted with the current key (a Fernet token, URL-safe base64 text)."""
    return _current().encrypt(value.encode()).decode("ascii")


def decrypt(token: str) -> str:
    """The clear text of ``token``, by the current key or a fallback; raises DecryptionError."""
    try:
        return _current().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError, ValueError):
        raise DecryptionError(f"no key decrypts it ({key_sources()[0]} were tried; was a key changed?)") from None


def looks_encrypted(value: str) -> bool:
    """Whether ``value`` has the form of a Fernet token (version byte 0x80, a timestamp, an
    IV, at least one cipher block and the HMAC), whatever key made it."""
    if not isinstance(value, str) or len(value) < 100 or not value.startswith("gAAAAA"):
        return False
    try:
        raw = base64.urlsafe_b64decode(value.encode("ascii"))
    except (ValueError, UnicodeError):
        return False
    return len(raw) >= 73 and (len(raw) - 57) % 16 == 0


def clear_text(value: str | Undecryptable, *, what: str) -> str:
    """The secret to use; for an :class:`Undecryptable` a DecryptionError naming ``what``
    and what to do about it."""
    if isinstance(value, Undecryptable):
        try:
            return decrypt(value.token)  # a key may have been added since it was loaded
        except DecryptionError as exc:
            raise DecryptionError(
                f"{what} cannot be decrypted: {exc}. Restore the key it was encrypted with (as a fallback), "
                "or enter it again."
            ) from None
    return value


class EncryptedTextField(models.TextField):
    """Text kept encrypted in the database (a Fernet token); the model attribute is the
    clear text. Saving encrypts with the current key (so a value read with a fallback is
    re-encrypted); an empty value is stored empty. ``max_length`` limits the clear text
    in forms. Dumped data (``dumpdata``) holds the token, never the clear text, and
    ``loaddata`` reads it back. Lookups on it match nothing (each encryption differs)."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if not value:
            return value
        try:
            return decrypt(value)
        except (DecryptionError, ImproperlyConfigured):  # a wrong key setting is helpdesk.E060/E061
            return Undecryptable(value)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, Undecryptable) or value is None:
            return value
        value = str(value)
        if looks_encrypted(value):  # a token, from dumped data
            try:
                return decrypt(value)
            except DecryptionError:
                return Undecryptable(value)
        return value

    def get_prep_value(self, value: Any) -> Any:
        if isinstance(value, Undecryptable):
            return value.token
        if value is None or value == "":
            return value
        return encrypt(str(value))

    def value_to_string(self, obj: Any) -> str:
        value = self.value_from_object(obj)
        return self.get_prep_value(value) or ""
