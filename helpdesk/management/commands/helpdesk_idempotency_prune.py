"""``manage.py helpdesk_idempotency_prune``: delete Idempotency-Key records past their TTL.

Each request with a key already prunes its own user's old keys; run this daily (cron) so
keys of users who stopped writing go too.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from helpdesk.conf import helpdesk_settings
from helpdesk.idempotency import idempotency_prune


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than HELPDESK['IDEMPOTENCY_KEY_TTL'] seconds."

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = idempotency_prune()
        self.stdout.write(
            f"Deleted {deleted} idempotency key(s) older than {helpdesk_settings.IDEMPOTENCY_KEY_TTL} seconds."
        )
