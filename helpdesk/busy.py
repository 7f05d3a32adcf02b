"""A database too busy to answer in time: a lock wait that timed out, a deadlock or a
serialization failure. Such a request is refused with 503 and ``Retry-After`` (by the API's
exception handler and the admin), never a 500: nothing of it was saved, and sending it
again later is safe.
"""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError, OperationalError

#: Seconds a client is told to wait (``Retry-After``) before sending the request again.
RETRY_AFTER_SECONDS = 5

#: PostgreSQL SQLSTATEs: lock_not_available (lock_timeout, NOWAIT), query_canceled
#: (statement_timeout), serialization_failure, deadlock_detected.
_PG_BUSY = {"55P03", "57014", "40001", "40P01"}
#: PostgreSQL SQLSTATEs a transaction may simply be retried after.
_PG_RACE = {"40001", "40P01"}
#: SQLite's SQLITE_BUSY and SQLITE_LOCKED (primary codes).
_SQLITE_BUSY = {5, 6}


def _sqlstate(exc: BaseException) -> str | None:
    cause = exc.__cause__ or exc.__context__
    return getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)


def is_database_busy(exc: BaseException) -> bool:
    """Whether ``exc`` says the database was busy (locks, timeouts), not that the request was wrong."""
    if not isinstance(exc, DatabaseError):
        return False
    if _sqlstate(exc) in _PG_BUSY:
        return True
    if isinstance(exc, OperationalError):
        cause = exc.__cause__ or exc.__context__
        code = getattr(cause, "sqlite_errorcode", None)
        if code is not None and code & 0xFF in _SQLITE_BUSY:
            return True
        message = str(exc).lower()
        return "database is locked" in message or "database table is locked" in message
    return False


def is_lock_timeout(exc: BaseException) -> bool:
    """Busy after waiting (a lock or statement timeout): retrying at once would wait again."""
    return is_database_busy(exc) and _sqlstate(exc) not in _PG_RACE


def busy_response() -> Any:
    """The 503 page (with ``Retry-After``) a browser gets: the admin and the middleware."""
    from django.http import HttpResponse
    from django.utils.html import escape
    from django.utils.translation import gettext as _

    title = _("The database is busy")
    text = _("Nothing was saved. Go back and send the form again in a few seconds.")
    response = HttpResponse(
        f"<!doctype html><title>{escape(title)}</title><h1>{escape(title)}</h1><p>{escape(text)}</p>",
        status=503,
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
