"""``manage.py helpdesk_webhooks``: what the webhooks are doing, and ``--sweep`` to queue
delivery for every webhook with messages waiting (after a worker was killed or the task
queue lost its tasks; safe to run every minute from cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Count, Q

from helpdesk.events import webhooks
from helpdesk.models import DeliveryStatus, WebhookSubscription


class Command(BaseCommand):
    help = "List the webhooks with their waiting and failed messages; --sweep queues the waiting ones."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sweep", action="store_true", help="Queue delivery of every waiting message.")

    def handle(self, *args: Any, sweep: bool, **options: Any) -> None:
        if sweep:
            queued = webhooks.sweep()
            self.stdout.write(f"Queued delivery for {queued} webhook(s).")
            return
        rows = WebhookSubscription.objects.annotate(
            pending=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.PENDING)),
            failed=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED)),
        )
        for w in rows:
            state = "active" if w.is_active else f"DISABLED ({w.disabled_reason})"
            self.stdout.write(f"{w.pk}\t{w.url}\t{state}\twaiting={w.pending}\tfailed={w.failed}")
