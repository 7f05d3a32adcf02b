"""``manage.py helpdesk_import FILE.json|-``: the bulk upsert of ``PUT /tickets`` for files of any size.

The file (or stdin) holds Planhat-dialect tickets: a JSON array, one object, or JSON Lines
(one object per line). It is parsed as a stream by ijson, checked whole first (broken JSON is
reported with the item's index and byte offset, and nothing is saved), then upserted in
chunks of at most ``UPSERT_MAX_ITEMS`` (5000; 500 by default on SQLite, whose write lock
each chunk holds), each chunk in its own transaction, with a progress bar on
stderr and a summary on stdout. Invalid items are listed (all of them with
``--errors FILE``) and make the command exit with status 1; the valid ones are saved.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import IO, Any

import ijson
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from helpdesk.conf import helpdesk_settings
from helpdesk.permissions import is_agent
from helpdesk.progress import progress
from helpdesk.sync import UpsertResult, ticket_bulk_upsert

_READ_SIZE = 1 << 20
_BOM = b"\xef\xbb\xbf"
#: Items per transaction on SQLite by default: one writer at a time, so each chunk's
#: write lock is kept short and a reply (or another request) waiting for it gets its turn.
SQLITE_CHUNK_SIZE = 500


class _Rollback(Exception):
    pass


class JSONFileError(ValueError):
    """Broken JSON: ``index`` is the item it is in (or after), ``offset`` its byte offset."""

    def __init__(self, reason: str, *, index: int, offset: int | None) -> None:
        where = f"byte {offset}" if offset is not None else "an unknown byte"
        super().__init__(f"Invalid JSON in item {index} at {where}: {reason}.")
        self.reason, self.index, self.offset = reason, index, offset


def _start(stream: IO[bytes]) -> tuple[int, str]:
    """Where the JSON starts (after a byte order mark) and its ijson prefix: ``item``
    for an array, ``""`` for one object or JSON Lines (several top-level values)."""
    stream.seek(0)
    head = stream.read(len(_BOM))
    start = len(_BOM) if head == _BOM else 0
    stream.seek(start)
    while True:
        byte = stream.read(1)
        if not byte or not byte.isspace():
            break
    stream.seek(start)
    return start, ("item" if byte == b"[" else "")


def iter_json_items(stream: IO[bytes]) -> Iterator[Any]:
    """Yield the items of a JSON array, of one JSON object, or of JSON Lines, parsed as
    a stream by ijson (a file bigger than memory is fine). ``stream`` is binary and
    seekable. Broken JSON (``[a,,b]``, a missing comma, trailing data, a cut-off file)
    raises ``JSONFileError`` with the item's index and the byte offset."""
    start, prefix = _start(stream)
    index = 0
    try:
        for value in ijson.items(stream, prefix, multiple_values=not prefix, use_float=True, buf_size=_READ_SIZE):
            yield value
            index += 1
    except (ijson.JSONError, ValueError, UnicodeDecodeError) as exc:
        if index == 0 and prefix == "" and _is_blank(stream, start):
            return  # an empty file: no items
        message = exc.args[0] if exc.args else ""
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        lines = str(message).strip().splitlines()
        reason = (lines[0] if lines else type(exc).__name__).rstrip(".")
        reason = reason.removeprefix("parse error: ").removeprefix("lexical error: ")
        raise JSONFileError(reason, index=index, offset=_error_offset(stream, start, multiple=not prefix)) from None


def _is_blank(stream: IO[bytes], start: int) -> bool:
    stream.seek(start)
    while chunk := stream.read(_READ_SIZE):
        if chunk.strip():
            return False
    return True


def _error_offset(stream: IO[bytes], start: int, *, multiple: bool) -> int | None:
    """The byte offset of the JSON token the parser refuses (the end of the file when
    it is cut off). ijson's fast C parser does not say where; its pure-Python one does,
    by character: the file is read again with it, and characters are turned into bytes."""
    from ijson import utils
    from ijson.backends import python as pure

    last = {"pos": 0, "bytes": start, "chunk": start}

    @utils.coroutine
    def spy(target: Any) -> Any:
        while True:
            token = yield
            if token[1] is not None:
                last["pos"] = token[0]
            target.send(token)

    events = utils.sendable_list()
    try:
        parser = pure.utf8_encoder(pure.Lexer(spy(pure.parse_value(events, multiple, True))))
        stream.seek(start)
        while chunk := stream.read(_READ_SIZE):
            last["chunk"] = last["bytes"]
            last["bytes"] += len(chunk)
            parser.send(chunk)
            del events[:]
        parser.close()
    except ijson.IncompleteJSONError as exc:
        if isinstance(exc.__context__, UnicodeDecodeError):  # not UTF-8: where the bad byte is
            return last["chunk"] + max(exc.__context__.start, 0)
        if "Incomplete JSON" in str(exc):
            return last["bytes"]  # cut off: at the end
    except Exception:  # noqa: BLE001 (the refused token's position was recorded)
        pass
    else:
        return None
    return start + _char_to_byte(stream, start, last["pos"])


def _char_to_byte(stream: IO[bytes], start: int, chars: int) -> int:
    stream.seek(start)
    text = io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="")
    count = 0
    try:
        while chars > 0:
            part = text.read(min(chars, _READ_SIZE))
            if not part:
                break
            count += len(part.encode("utf-8", "surrogatepass"))
            chars -= len(part)
    finally:
        text.detach()
    return count


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
        parser.add_argument("--quiet", action="store_true", help="no progress bar; only the summary")

    def handle(self, *args: Any, **options: Any) -> None:
        limit = helpdesk_settings.UPSERT_MAX_ITEMS
        size = options["chunk_size"] or (min(limit, SQLITE_CHUNK_SIZE) if connection.vendor == "sqlite" else limit)
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
            stream = _binary_source(path)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        result = UpsertResult()
        started = time.monotonic()
        count = 0
        try:
            # First the whole file is checked, so broken JSON anywhere saves nothing.
            total = sum(1 for _item in iter_json_items(stream))
            stream.seek(0)
            with (
                transaction.atomic() if options["dry_run"] else contextlib.nullcontext(),
                progress(total=total, desc="Importing", unit="item", stream=self.stderr, quiet=options["quiet"]) as bar,
            ):
                for chunk in _chunks(iter_json_items(stream), size):
                    result.merge(ticket_bulk_upsert(items=chunk, by=by), offset=count)
                    count += len(chunk)
                    failed = len(result.created_errors) + len(result.updated_errors)
                    bar.set_postfix_str(f"{result.created:,} created, {result.updated:,} updated, {failed:,} failed",
                                        refresh=False)
                    bar.update(len(chunk))
                if options["dry_run"]:
                    raise _Rollback
        except _Rollback:
            pass
        except ValueError as exc:
            saved = f" {count} items before it were saved." if count else " Nothing was saved."
            raise CommandError(f"{exc}{saved}") from None
        finally:
            stream.close()
        self._summary(result, count, time.monotonic() - started, options)

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
