"""``manage.py helpdesk_search_rebuild``: rebuild every ticket's search document (PostgreSQL).

The triggers of migration ``0006_search_documents`` keep the documents true on every
write; rebuild them after changing ``HELPDESK["SEARCH_CONFIG"]`` (the command installs
the new configuration first) or after loading tickets with triggers turned off
(``session_replication_role = replica``). One transaction: searches keep answering from
the old documents until it commits.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from helpdesk.progress import progress
from helpdesk.search import install_search_config

#: Tickets per statement: small enough for the progress bar to move, large enough to be cheap.
BATCH = 5000


class Command(BaseCommand):
    help = "Rebuild the search document of every ticket (PostgreSQL), with the current SEARCH_CONFIG."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="Database alias (default: %(default)s).")
        parser.add_argument("--quiet", action="store_true", help="No progress bar; only the closing line.")

    def handle(self, *args: Any, database: str, quiet: bool, **options: Any) -> None:
        connection = connections[database]
        if connection.vendor != "postgresql":
            raise CommandError(
                f"Search documents exist on PostgreSQL only; {database!r} is {connection.vendor} "
                "(its search needs no index)."
            )
        started = time.perf_counter()
        with transaction.atomic(using=database), connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('helpdesk_ticket_search') IS NOT NULL")
            if not cursor.fetchone()[0]:
                raise CommandError("No search documents table: run `manage.py migrate helpdesk` first.")
            try:
                config = install_search_config(connection)
            except ValueError as error:
                raise CommandError(str(error)) from error
            cursor.execute("SELECT count(*), max(id) FROM helpdesk_ticket")
            total, top = cursor.fetchone()
            cursor.execute("TRUNCATE helpdesk_ticket_search")
            with progress(total=total, desc="Search documents", unit="ticket", stream=self.stderr,
                          quiet=quiet or options["verbosity"] == 0, unit_scale=True) as bar:
                low = 0
                while top is not None and low <= top:
                    # Ids rise with gaps; a range of BATCH ids holds at most BATCH tickets.
                    cursor.execute("SELECT helpdesk_search_rebuild_range(%s, %s)", [low, low + BATCH - 1])
                    bar.update(cursor.fetchone()[0])
                    low += BATCH
            cursor.execute("SELECT count(*) FROM helpdesk_ticket_search")
            count = cursor.fetchone()[0]
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE helpdesk_ticket_search")
        self.stdout.write(f"Rebuilt {count} search documents with {config!r} in {time.perf_counter() - started:.1f}s.")
