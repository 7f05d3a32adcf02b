"""Files of Planhat-dialect items, as ``manage.py helpdesk_import`` reads them (inline or
as a task): a JSON array, one object, or JSON Lines, parsed as a stream by ijson, checked
whole first (broken JSON saves nothing), then upserted in chunks, each chunk in its own
transaction (``ticket_bulk_upsert``)."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable, Iterator
from typing import IO, Any

import ijson
from django.core.files.base import ContentFile

from ..events.tasks import PermanentFailure, helpdesk_task
from . import UpsertResult, ticket_bulk_upsert

_READ_SIZE = 1 << 20
_BOM = b"\xef\xbb\xbf"
#: Items per transaction on SQLite by default: one writer at a time, so each chunk's
#: write lock is kept short and a reply (or another request) waiting for it gets its turn.
SQLITE_CHUNK_SIZE = 500


def default_chunk_size() -> int:
    """``UPSERT_MAX_ITEMS``, or at most ``SQLITE_CHUNK_SIZE`` on SQLite."""
    from django.db import connection

    from ..conf import helpdesk_settings

    limit = helpdesk_settings.UPSERT_MAX_ITEMS
    return min(limit, SQLITE_CHUNK_SIZE) if connection.vendor == "sqlite" else limit


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


def _chunks(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk



def import_items(
    stream: IO[bytes], *, by: Any, size: int, on_chunk: Callable[[UpsertResult, int], None] | None = None,
    total: int | None = None,
) -> tuple[UpsertResult, int]:
    """Upsert every item of ``stream`` (binary, seekable) in chunks of ``size``, each in
    its own transaction; returns the result and the number of items read.

    The whole file is checked first (``JSONFileError`` before anything is saved), unless
    the caller did so and passes ``total``. ``on_chunk(chunk_result, items_in_chunk)``
    runs after each chunk; a ``JSONFileError`` later on (the file changed) stops there,
    the chunks before it saved.
    """
    if total is None:
        count_items(stream)
    stream.seek(0)
    result = UpsertResult()
    count = 0
    for chunk in _chunks(iter_json_items(stream), size):
        chunk_result = ticket_bulk_upsert(items=chunk, by=by)
        result.merge(chunk_result, offset=count)
        count += len(chunk)
        if on_chunk is not None:
            on_chunk(result, len(chunk))
    return result, count


def count_items(stream: IO[bytes]) -> int:
    """How many items ``stream`` holds; ``JSONFileError`` for broken JSON anywhere."""
    stream.seek(0)
    total = sum(1 for _item in iter_json_items(stream))
    stream.seek(0)
    return total


# -- a long import as a task ---------------------------------------------------------------

#: Where ``store_import_file`` keeps files (in the default storage) until their task ran.
IMPORT_DIR = "helpdesk/imports"
#: Failed items named in a task's outcome (every one of them is in the errors file).
ERRORS_SHOWN = 20


def store_import_file(stream: IO[bytes]) -> str:
    """Keep ``stream`` in the default storage for ``import_file_task``; returns its name."""
    from django.core.files import File
    from django.core.files.storage import default_storage

    stream.seek(0)
    return default_storage.save(f"{IMPORT_DIR}/{uuid.uuid4().hex}.json", File(stream))


def describe(result: UpsertResult, count: int) -> str:
    """The summary line of an import, as the command prints it."""
    return f"Created {result.created}, updated {result.updated}, failed {len(result.errors)} of {count} items"


@helpdesk_task
def import_file_task(name: str, user_id: int | None = None, chunk_size: int | None = None) -> dict[str, Any]:
    """Import the stored file ``name`` (``store_import_file``) as ``helpdesk_import`` does
    inline: checked whole first, then upserted in chunks of ``chunk_size``, each chunk all
    or nothing. Returns the counts; fails visibly, without retries, for a broken file, a
    user who may not import, or failed items (the others saved; every failed item is then
    kept as ``<name>.errors.json`` in the storage). Safe to run twice: every item is keyed.
    The file is deleted once it has been imported or refused; a transient error (the
    database went away) keeps it for the retry.
    """
    from django.contrib.auth import get_user_model
    from django.core.files.storage import default_storage

    from ..permissions import is_agent

    by = None
    if user_id is not None:
        by = get_user_model()._default_manager.filter(pk=user_id).first()
        if not is_agent(by):
            default_storage.delete(name)
            raise PermanentFailure(f"User {user_id} is not an active agent: nothing was imported.")
    size = chunk_size or default_chunk_size()
    try:
        stream = default_storage.open(name, "rb")
    except OSError as exc:  # FileNotFoundError: ran already, or deleted by hand
        raise PermanentFailure(f"The import file {name} is gone: {exc}.") from None
    checked = False
    try:
        with stream:
            total = count_items(stream)  # broken JSON anywhere: nothing is saved
            checked = True
            result, count = import_items(stream, by=by, size=size, total=total)
    except JSONFileError as exc:
        default_storage.delete(name)
        raise PermanentFailure(f"{exc}" + ("" if checked else " Nothing was saved.")) from None
    default_storage.delete(name)
    errors = result.errors
    if errors:
        errors_name = default_storage.save(
            f"{name.removesuffix('.json')}.errors.json",
            ContentFile(json.dumps([e.to_dict() for e in errors], indent=2).encode()),
        )
        shown = "; ".join(f"item {e.index} (sourceId {e.source_id}): {e.message}" for e in errors[:ERRORS_SHOWN])
        more = f"; ... and {len(errors) - ERRORS_SHOWN} more" if len(errors) > ERRORS_SHOWN else ""
        raise PermanentFailure(
            f"{describe(result, count)}; the others were saved. {shown}{more}. Every failed item: {errors_name}."
        )
    return {"created": result.created, "updated": result.updated, "failed": 0, "items": count}
