"""``manage.py helpdesk_import FILE.json|-``: the bulk upsert of ``PUT /tickets`` for files of any size.

The file (or stdin) holds Planhat-dialect tickets: a JSON array, one object, or JSON Lines
(one object per line). It is parsed as a stream by ijson, checked whole first (broken JSON is
reported with the item's index and byte offset, and nothing is saved), then upserted in
chunks of at most ``UPSERT_MAX_ITEMS`` (5000; 500 by default on SQLite, whose write lock
each chunk holds), each chunk in its own transaction, with a progress bar on
stderr and a summary on stdout. Invalid items are listed (all of them with
``--errors FILE``) and make the command exit with status 1; the valid ones are saved.

``--background`` keeps the file in the default storage and queues the import as a task
(``helpdesk.sync.files.import_file_task``) for the task workers: the same checks and
chunks, the outcome in the task's result (the admin's task list with the database backend).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import tempfile
import time
from typing import IO, Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from helpdesk.conf import helpdesk_settings
from helpdesk.permissions import is_agent
from helpdesk.progress import progress
from helpdesk.sync import UpsertResult
from helpdesk.sync.files import (  # noqa: F401 (iter_json_items, JSONFileError: imported from here too)
    _READ_SIZE,
    JSONFileError,
    count_items,
    default_chunk_size,
    describe,
    import_file_task,
    import_items,
    iter_json_items,
    store_import_file,
)


class _Rollback(Exception):
    pass


def _binary_source(path: str) -> IO[bytes]:
    """The file, or stdin copied to a temporary file (read twice: checked, then imported)."""
    if path != "-":
        return open(path, "rb")  # noqa: SIM115
    spool = tempfile.TemporaryFile()  # noqa: SIM115
    source = getattr(sys.stdin, "buffer", None)
    if source is not None:
        shutil.copyfileobj(source, spool, _READ_SIZE)
    else:  # a text stream (tests)
        while chunk := sys.stdin.read(_READ_SIZE):
            spool.write(chunk.encode("utf-8", "surrogatepass"))
    spool.seek(0)
    return spool


class Command(BaseCommand):
    help = "Create or update tickets from a file of Planhat-dialect items (the bulk upsert of PUT /tickets)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="a .json file (array, object or JSON Lines), or - for stdin")
        parser.add_argument("--user", help="username of the agent doing the import (creator of new tickets)")
        parser.add_argument("--chunk-size", type=int, default=None,
                            help="items per transaction (default and maximum: UPSERT_MAX_ITEMS)")
        parser.add_argument("--errors", metavar="FILE", help="write every failed item as JSON to FILE")
        parser.add_argument("--dry-run", action="store_true", help="check and count everything, save nothing")
        parser.add_argument("--quiet", action="store_true", help="no progress bar; only the summary")
        parser.add_argument("--background", action="store_true",
                            help="keep the file in the storage and import it as a task of the task workers")

    def handle(self, *args: Any, **options: Any) -> None:
        limit = helpdesk_settings.UPSERT_MAX_ITEMS
        size = options["chunk_size"] or default_chunk_size()
        if not 1 <= size <= limit:
            raise CommandError(f"--chunk-size must be between 1 and {limit}.")
        if options["background"] and (options["dry_run"] or options["errors"]):
            raise CommandError("--dry-run and --errors run inline; a background import reports in its task result.")
        by = None
        if options["user"]:
            by = get_user_model()._default_manager.filter(
                **{get_user_model().USERNAME_FIELD: options["user"]}).first()
            if not is_agent(by):
                raise CommandError(f"{options['user']!r} is not an active staff user.")

        path = options["file"]
        try:
            stream = _binary_source(path)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        if options["background"]:
            self._enqueue(stream, by=by, size=size if options["chunk_size"] else None)
            return
        result = UpsertResult()
        started = time.monotonic()
        done = {"count": 0}
        try:
            # First the whole file is checked, so broken JSON anywhere saves nothing.
            total = count_items(stream)
            with (
                transaction.atomic() if options["dry_run"] else contextlib.nullcontext(),
                progress(total=total, desc="Importing", unit="item", stream=self.stderr, quiet=options["quiet"]) as bar,
            ):
                def on_chunk(so_far: UpsertResult, items: int) -> None:
                    done["count"] += items
                    failed = len(so_far.created_errors) + len(so_far.updated_errors)
                    bar.set_postfix_str(f"{so_far.created:,} created, {so_far.updated:,} updated, {failed:,} failed",
                                        refresh=False)
                    bar.update(items)

                result, _count = import_items(stream, by=by, size=size, on_chunk=on_chunk, total=total)
                if options["dry_run"]:
                    raise _Rollback
        except _Rollback:
            pass
        except ValueError as exc:
            count = done["count"]
            saved = f" {count} items before it were saved." if count else " Nothing was saved."
            raise CommandError(f"{exc}{saved}") from None
        finally:
            stream.close()
        self._summary(result, done["count"], time.monotonic() - started, options)

    def _enqueue(self, stream: IO[bytes], *, by: Any, size: int | None) -> None:
        """Keep the file in the storage and queue its import; prints the task's id."""
        try:
            name = store_import_file(stream)
        finally:
            stream.close()
        try:
            result = import_file_task.enqueue(name, getattr(by, "pk", None), size)
        except Exception as exc:  # the task backend refused: the file is not kept
            from django.core.files.storage import default_storage

            default_storage.delete(name)
            raise CommandError(f"Could not queue the import: {exc}") from None
        self.stdout.write(f"Queued import task {result.id} for {name}; the task workers run it "
                          "(its outcome is the task's result).")

    def _summary(self, result: UpsertResult, count: int, seconds: float, options: dict[str, Any]) -> None:
        errors = result.errors
        prefix = "Dry run, nothing saved: would have " if options["dry_run"] else ""
        self.stdout.write(
            f"{prefix}{'c' if prefix else 'C'}{describe(result, count)[1:]} in {seconds:.1f} s."
        )
        for error in errors[:20]:
            self.stderr.write(f"item {error.index} (sourceId {error.source_id}): {error.message}")
        if len(errors) > 20:
            self.stderr.write(f"... and {len(errors) - 20} more" + ("" if options["errors"] else " (see --errors FILE)"))
        if options["errors"]:
            with open(options["errors"], "w", encoding="utf-8") as out:
                json.dump([e.to_dict() for e in errors], out, indent=2)
        if errors:
            raise CommandError(f"{len(errors)} items failed; the others were {'checked' if prefix else 'saved'}.")
