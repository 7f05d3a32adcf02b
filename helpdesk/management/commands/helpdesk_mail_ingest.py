"""``manage.py helpdesk_mail_ingest < message.eml``: one raw RFC 5322 mail from standard
input → a ticket or a reply (for an MTA's pipe, e.g. a Postfix alias
``support: "|/path/manage.py helpdesk_mail_ingest"``).

Exits 0 once the mail is stored (as a ticket, a reply, a duplicate or in quarantine) and
non-zero only when it could not be stored at all, so the MTA keeps it and retries.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ...mail.ingest import ingest_mail
from ...models import Department


class Command(BaseCommand):
    help = "Ingest one raw mail from standard input as a ticket or a reply."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--department", type=int, help="The department id of a new ticket (default: the default one).")
        parser.add_argument("--file", help="Read the mail from this file instead of standard input.")

    def handle(self, *args: Any, **options: Any) -> None:
        department = None
        if options["department"] is not None:
            department = Department.objects.filter(pk=options["department"]).first()
            if department is None:
                raise CommandError(f"No department with id {options['department']}.")
        if options["file"]:
            with open(options["file"], "rb") as handle:
                raw = handle.read()
        else:
            raw = sys.stdin.buffer.read()
        result = ingest_mail(raw, source="stdin", department=department)
        self.stdout.write(str(result))
