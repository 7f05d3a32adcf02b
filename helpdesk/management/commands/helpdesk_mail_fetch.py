"""``manage.py helpdesk_mail_fetch [--mailbox NAME] [--watch]``: ingest the mail waiting in
the active IMAP/POP3 mailboxes of the admin, once or every ``MAIL_FETCH_INTERVAL_SECONDS``.

Once: exits non-zero if a mailbox could not be read (its error is also kept on the
mailbox, shown in the admin). ``--watch`` keeps going past such errors until stopped.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ...conf import helpdesk_settings
from ...mail.fetch import fetch_all


class Command(BaseCommand):
    help = "Fetch and ingest mail from the mailboxes configured in the admin."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--mailbox", action="append", help="Only this mailbox (by name; repeatable).")
        parser.add_argument("--watch", action="store_true", help="Poll until stopped.")
        parser.add_argument("--interval", type=float, help="Seconds between polls (default: MAIL_FETCH_INTERVAL_SECONDS).")

    def handle(self, *args: Any, **options: Any) -> None:
        interval = options["interval"] or helpdesk_settings.MAIL_FETCH_INTERVAL_SECONDS
        while True:
            reports = fetch_all(names=options["mailbox"])
            failed = []
            for report in reports:
                outcomes: dict[str, int] = {}
                for result in report.results:
                    outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
                summary = ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items())) or "nothing new"
                if report.error:
                    failed.append(report.mailbox.name)
                    self.stderr.write(f"{report.mailbox.name}: {report.error} ({summary})")
                else:
                    self.stdout.write(f"{report.mailbox.name}: {summary}")
            if not reports:
                self.stdout.write("No active mailbox" + (f" named {', '.join(options['mailbox'])}." if options["mailbox"] else "."))
            if not options["watch"]:
                if failed:
                    raise CommandError(f"Could not fetch: {', '.join(failed)}.")
                return
            time.sleep(interval)
