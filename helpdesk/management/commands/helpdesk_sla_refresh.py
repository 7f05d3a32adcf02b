"""``manage.py helpdesk_sla_refresh``: recompute the stored SLA due times of open tickets now.

Saving an SLA policy, a business calendar or a holiday already queues this work as a task
(``helpdesk.sla_refresh``); the command does it inline, for a site that wants it at once
(or has no task worker running), with a progress bar on stderr and a summary on stdout.
``--policy`` / ``--calendar`` limit it to the tickets one of them affects;
``--include-closed`` also recomputes closed tickets (after adding the first policies to a
site with history, so the overview's compliance covers it).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from helpdesk import sla_refresh
from helpdesk.models import BusinessCalendar, SLAPolicy
from helpdesk.progress import progress


class Command(BaseCommand):
    help = "Recompute the stored SLA due times of open tickets with the current SLA policies and calendars."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--policy", type=int, help="Only the tickets this SLA policy (id) affects.")
        parser.add_argument("--calendar", type=int, help="Only the tickets whose policy uses this calendar (id).")
        parser.add_argument("--include-closed", action="store_true", help="Closed tickets too.")
        parser.add_argument("--quiet", action="store_true", help="No progress bar; only the closing line.")

    def handle(self, *args: Any, policy: int | None, calendar: int | None, include_closed: bool, quiet: bool,
               **options: Any) -> None:
        if policy is not None and calendar is not None:
            raise CommandError("Give --policy or --calendar, not both.")
        target = sla_refresh.ALL
        if policy is not None:
            row = SLAPolicy.objects.filter(pk=policy).first()
            if row is None:
                raise CommandError(f"No SLA policy has the id {policy}.")
            target = sla_refresh.policy_target(row)
        elif calendar is not None:
            if not BusinessCalendar.objects.filter(pk=calendar).exists():
                raise CommandError(f"No business calendar has the id {calendar}.")
            target = sla_refresh.calendar_target(calendar)
        started = time.perf_counter()
        total = sla_refresh.tickets(target, include_closed=include_closed).count()
        with progress(total=total, desc="SLA due times", unit="ticket", stream=self.stderr,
                      quiet=quiet or options["verbosity"] == 0) as bar:
            _last, seen, changed = sla_refresh.refresh(
                target, include_closed=include_closed, on_chunk=lambda n, c: bar.update(n))
        self.stdout.write(f"Looked at {seen} tickets, updated {changed} in {time.perf_counter() - started:.1f}s.")
