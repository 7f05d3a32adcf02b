"""``manage.py helpdesk_import FILE.json|-``: the bulk upsert of ``PUT /tickets`` for files of any size.

The file (or stdin) holds Planhat-dialect tickets: a JSON array, one object, or JSON Lines
(one object per line). It is read as a stream and upserted in chunks of at most
``UPSERT_MAX_ITEMS`` (5000), each chunk in its own transaction, with a progress bar on
stderr and a summary on stdout. Invalid items are listed (all of them with
``--errors FILE``) and make the command exit with status 1; the valid ones are saved.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator
from typing import IO, Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from helpdesk.conf import helpdesk_settings
from helpdesk.permissions import is_agent
from helpdesk.sync import UpsertResult, ticket_bulk_upsert

_READ_SIZE = 1 << 20


class _Rollback(Exception):
    pass


def iter_json_items(stream: IO[str]) -> Iterator[Any]:
    """Yield the items of a JSON array, of one JSON object, or of JSON Lines, reading
    ``stream`` a megabyte at a time (a file bigger than memory is fine)."""
    decoder = json.JSONDecoder()
    buffer, pos, eof = "", 0, False
    in_array: bool | None = None

    def fill() -> bool:
        nonlocal buffer, pos, eof
        chunk = stream.read(_READ_SIZE)
        buffer, pos = buffer[pos:] + chunk, 0
        eof = not chunk
        return bool(chunk)

    def skip(chars: str) -> str:
        """Skip whitespace and ``chars``; return the next character ('' at the end)."""
        nonlocal pos
        while True:
            while pos < len(buffer) and (buffer[pos].isspace() or buffer[pos] in chars):
                pos += 1
            if pos < len(buffer) or not fill():
                return buffer[pos] if pos < len(buffer) else ""

    first = skip("\ufeff")
    if first == "":
        return
    if first == "[":
        in_array = True
        pos += 1
    while True:
        nxt = skip(",") if in_array else skip("")
        if nxt == "":
            if in_array:
                raise ValueError("The JSON array is not closed.")
            return
        if in_array and nxt == "]":
            if skip("]").strip():
                raise ValueError("Unexpected data after the JSON array.")
            return
        while True:
            try:
                value, end = decoder.raw_decode(buffer, pos)
            except json.JSONDecodeError as exc:
                if not eof and fill():
                    continue  # the value goes on in the next read
                raise ValueError(f"Invalid JSON: {exc.msg} (near character {exc.pos}).") from None
            # A number or literal may run on past the buffer: read on before trusting it.
            if end == len(buffer) and not eof and fill():
                continue
            break
        pos = end
        yield value


def _chunks(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class Command(BaseCommand):
    help = "Create or update tickets from a file of Planhat-dialect items (the bulk upsert of PUT /tickets)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="a .json file (array, object or JSON Lines), or - for stdin")
        parser.add_argument("--user", help="username of the agent doing the import (creator of new tickets)")
        parser.add_argument("--chunk-size", type=int, default=None,
                            help="items per transaction (default and maximum: UPSERT_MAX_ITEMS)")
        parser.add_argument("--errors", metavar="FILE", help="write every failed item as JSON to FILE")
        parser.add_argument("--dry-run", action="store_true", help="check and count everything, save nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        limit = helpdesk_settings.UPSERT_MAX_ITEMS
        size = options["chunk_size"] or limit
        if not 1 <= size <= limit:
            raise CommandError(f"--chunk-size must be between 1 and {limit}.")
        by = None
        if options["user"]:
            by = get_user_model()._default_manager.filter(
                **{get_user_model().USERNAME_FIELD: options["user"]}).first()
            if not is_agent(by):
                raise CommandError(f"{options['user']!r} is not an active staff user.")

        path = options["file"]
        try:
            stream = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        total_bytes = os.fstat(stream.fileno()).st_size if path != "-" and stream.seekable() else None
        result = UpsertResult()
        started = time.monotonic()
        count = 0
        try:
            with transaction.atomic() if options["dry_run"] else contextlib.nullcontext():
                for chunk in _chunks(iter_json_items(stream), size):
                    result.merge(ticket_bulk_upsert(items=chunk, by=by), offset=count)
                    count += len(chunk)
                    self._progress(count, result, stream, total_bytes)
                if options["dry_run"]:
                    raise _Rollback
        except _Rollback:
            pass
        except ValueError as exc:
            self.stderr.write("")
            raise CommandError(f"{exc} {count} items before it were saved.") from None
        finally:
            if stream is not sys.stdin:
                stream.close()
        if count:
            self.stderr.write("")
        self._summary(result, count, time.monotonic() - started, options)

    def _progress(self, count: int, result: UpsertResult, stream: IO[str], total_bytes: int | None) -> None:
        failed = len(result.created_errors) + len(result.updated_errors)
        counts = f"{count:,} items: {result.created:,} created, {result.updated:,} updated, {failed:,} failed"
        if total_bytes:
            try:
                done = min(stream.buffer.tell() / total_bytes, 1.0)  # type: ignore[attr-defined]
            except (AttributeError, OSError, ValueError):
                done = 0.0
            bar = "#" * int(done * 30)
            line = f"[{bar:<30}] {done:4.0%} {counts}"
        else:
            line = counts
        self.stderr.write("\r" + line, ending="")
        self.stderr.flush()

    def _summary(self, result: UpsertResult, count: int, seconds: float, options: dict[str, Any]) -> None:
        errors = result.errors
        prefix = "Dry run, nothing saved: would have " if options["dry_run"] else ""
        self.stdout.write(
            f"{prefix}{'c' if prefix else 'C'}reated {result.created}, updated {result.updated}, "
            f"failed {len(errors)} of {count} items in {seconds:.1f} s."
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
