"""``manage.py helpdesk_apikey create|list|revoke``: API keys from the command line.

``create USERNAME [--name NAME] [--expires ISO]`` prints the new key, and nothing else,
on stdout (so ``KEY=$(manage.py helpdesk_apikey create alice)`` works); the key is shown
this once and only its hash is stored.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from helpdesk.models import APIKey


def parse_expiry(value: str) -> Any:
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"--expires: not an ISO 8601 date or datetime: {value!r}")
        moment = timezone.datetime(day.year, day.month, day.day)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    if moment <= timezone.now():
        raise CommandError("--expires must be in the future.")
    return moment


class Command(BaseCommand):
    help = "Create, list or revoke helpdesk API keys."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a key for USERNAME and print it (only) on stdout.")
        create.add_argument("username")
        create.add_argument("--name", default="", help="What the key is for (default: 'cli').")
        create.add_argument("--expires", help="ISO 8601 date or datetime after which the key stops working.")
        listing = sub.add_parser("list", help="List keys (prefix, user, name, state, last used).")
        listing.add_argument("username", nargs="?", help="Only this user's keys.")
        revoke = sub.add_parser("revoke", help="Revoke the key with this prefix (the part before the dot).")
        revoke.add_argument("prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"do_{options['action']}")(**options)

    def do_create(self, *, username: str, name: str, expires: str | None, **_: Any) -> None:
        User = get_user_model()
        try:
            user = User._default_manager.get_by_natural_key(username)
        except User.DoesNotExist:
            raise CommandError(f"No user {username!r}.") from None
        expires_at = parse_expiry(expires) if expires else None
        _row, key = APIKey.objects.create_key(user=user, name=name or "cli", expires_at=expires_at)
        self.stdout.write(key)

    def do_list(self, *, username: str | None = None, **_: Any) -> None:
        keys = APIKey.objects.select_related("user").order_by("-created_at")
        if username:
            keys = keys.filter(user__username=username)
        for k in keys:
            state = "revoked" if k.revoked else "expired" if k.has_expired else "active"
            used = k.last_used_at.isoformat() if k.last_used_at else "never"
            expires = k.expires_at.isoformat() if k.expires_at else "never"
            self.stdout.write(f"{k.prefix}\t{k.user.get_username()}\t{k.name}\t{state}\texpires {expires}\tused {used}")

    def do_revoke(self, *, prefix: str, **_: Any) -> None:
        prefix = prefix.split(".", 1)[0]
        updated = APIKey.objects.filter(prefix=prefix).update(revoked=True)
        if not updated:
            raise CommandError(f"No key with prefix {prefix!r}.")
        self.stderr.write(f"Revoked key {prefix}.")
