"""``manage.py helpdesk_search_rebuild``: rebuild every ticket's search document (PostgreSQL).

The triggers of migration ``0006_search_documents`` keep the documents true on every
write; rebuild them after changing ``HELPDESK["SEARCH_CONFIG"]`` (the command installs
the new configuration first) or after loading tickets with triggers turned off
(``session_replication_role = replica``). One transaction: searches keep answering from
the old documents until it commits.

``--background`` queues the rebuild as tasks instead (one per range of ``--batch`` ticket
ids, each idempotent and retried like every task), run by the task workers: each
document is replaced where it stands, so searches keep answering throughout.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from helpdesk.conf import helpdesk_settings
from helpdesk.progress import progress
from helpdesk.search import REBUILD_BATCH, enqueue_rebuild, install_search_config, rebuild_range, rebuild_ranges


class Command(BaseCommand):
    help = "Rebuild the search document of every ticket (PostgreSQL), with the current SEARCH_CONFIG."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="Database alias (default: %(default)s).")
        parser.add_argument("--quiet", action="store_true", help="No progress bar; only the closing line.")
        parser.add_argument("--background", action="store_true",
                            help="Queue the rebuild as tasks (one per id range) for the task workers; return at once.")
        parser.add_argument("--batch", type=int, default=REBUILD_BATCH,
                            help="Ticket ids per statement or task (default: %(default)s).")

    def handle(self, *args: Any, database: str, quiet: bool, **options: Any) -> None:
        connection = connections[database]
        if connection.vendor != "postgresql":
            raise CommandError(
                f"Search documents exist on PostgreSQL only; {database!r} is {connection.vendor} "
                "(its search needs no index)."
            )
        batch = options["batch"]
        if batch < 1:
            raise CommandError("--batch must be at least 1.")
        started = time.perf_counter()
        if options["background"]:
            self._check_and_configure(connection)
            try:
                tasks, top = enqueue_rebuild(database, batch)
            except Exception as error:  # the task backend refused: nothing was queued after it
                raise CommandError(f"Could not queue the rebuild: {error}") from error
            config = helpdesk_settings.SEARCH_CONFIG
            self.stdout.write(f"Queued {tasks} tasks rebuilding the search documents of tickets 0–{top or 0} "
                              f"with {config!r}; the task workers run them.")
            return
        with transaction.atomic(using=database), connection.cursor() as cursor:
            config = self._check_and_configure(connection)
            cursor.execute("SELECT count(*), max(id) FROM helpdesk_ticket")
            total, top = cursor.fetchone()
            cursor.execute("TRUNCATE helpdesk_ticket_search")
            with progress(total=total, desc="Search documents", unit="ticket", stream=self.stderr,
                          quiet=quiet or options["verbosity"] == 0, unit_scale=True) as bar:
                for low, high in rebuild_ranges(top, batch):
                    bar.update(rebuild_range(connection, low, high))
            cursor.execute("SELECT count(*) FROM helpdesk_ticket_search")
            count = cursor.fetchone()[0]
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE helpdesk_ticket_search")
        self.stdout.write(f"Rebuilt {count} search documents with {config!r} in {time.perf_counter() - started:.1f}s.")

    @staticmethod
    def _check_and_configure(connection: Any) -> str:
        """The table must exist; install ``SEARCH_CONFIG`` (returns its name)."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('helpdesk_ticket_search') IS NOT NULL")
            if not cursor.fetchone()[0]:
                raise CommandError("No search documents table: run `manage.py migrate helpdesk` first.")
        try:
            return install_search_config(connection)
        except ValueError as error:
            raise CommandError(str(error)) from error
