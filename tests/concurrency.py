"""What the tests of concurrent work share: threads released at once, each on its own
database connection (``run_concurrently``); JSON calls to a live server (``call``); free
loopback ports; the environment of the demo site in a process of its own (``site_env``);
and when to skip (``needs_postgresql``, ``require_concurrent_writers``).

The default statuses that a transactional test's flush removes come back with the
``default_statuses`` fixture of ``tests/conftest.py``.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections

#: The repository: where ``manage.py`` and the demo site's ``config`` are.
ROOT = Path(__file__).resolve().parent.parent

#: Every thread is joined within this many seconds, or the test fails (never hangs CI).
JOIN_SECONDS = 60

#: Real concurrent transactions: the SQLite test database is in memory, shared by every
#: thread (tests/test_sqlite_locking.py tests SQLite's own locking on a file).
needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL: real concurrent transactions"
)


def require_concurrent_writers() -> None:
    """Skip on SQLite's in-memory test database (table locks, no writer queue); a SQLite
    file, as a site runs it, has one. Called in the test: the test database's name is
    known only once it exists."""
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("SQLite's shared-cache in-memory test database has table locks, not a writer queue")


def run_concurrently(target: Callable[[int], Any], count: int, *, timeout: float = JOIN_SECONDS) -> list:
    """``target(n)`` for n in 0..count-1, each in its own thread, released at once by a
    barrier; each result, or the exception it raised (reported by the test, never
    swallowed). Every thread closes its database connections; a thread still running
    after ``timeout`` seconds fails the test."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def worker(n: int) -> None:
        try:
            barrier.wait(timeout=timeout)
            results[n] = target(n)
        except BaseException as exc:  # noqa: BLE001 (returned to the test)
            results[n] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(t.is_alive() for t in threads), "a thread did not finish in time"
    return results


def errors(results: list) -> list[BaseException]:
    """The exceptions among ``run_concurrently``'s results."""
    return [r for r in results if isinstance(r, BaseException)]


def call(method: str, url: str, key: str, body: object = None, headers: dict | None = None,
         *, timeout: float = JOIN_SECONDS) -> tuple[int, dict]:
    """A JSON request with ``Authorization: Bearer key`` to a live server: its status and
    its JSON body (``{}`` when empty), for errors too; ``headers``, if given, receives the
    response's headers."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Content-Type": "application/json", "Accept": "application/json", "Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (a loopback server)
            status, raw, answer_headers = response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        status, raw, answer_headers = exc.code, exc.read(), exc.headers
    if headers is not None:
        headers.update(answer_headers)
    return status, json.loads(raw) if raw else {}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def site_env(database_url: str, settings_module: str = "config.settings", **extra: str) -> dict[str, str]:
    """The environment of a process running the demo site (``manage.py``, a script, an app
    server) on ``database_url``: this one's, plus ``extra``."""
    return {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": settings_module,
            "PYTHONPATH": str(ROOT), **extra}
