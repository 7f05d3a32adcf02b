"""Row counts a list can afford: the planner's estimate where an exact count would cost too much.

Shared by the API's pagination and the admin's paginator: ``COUNT(*)`` of a million rows
costs PostgreSQL far more than the page itself.

The planner's answers (:func:`explain`) are remembered in the process for
``HELPDESK["ESTIMATE_CACHE_SECONDS"]``: the same list asked again within that time (every
page of it, by every user of the same scope) reuses its estimate instead of planning the
query once more. An estimate is approximate anyway; PostgreSQL's own only changes when
the table's statistics do (``ANALYZE``, autovacuum).
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections

from .conf import helpdesk_settings

#: Past this multiple of the count limit, the planner's estimate is trusted without counting.
ESTIMATE_MARGIN = 10

#: How many plans a process remembers (the oldest goes first).
PLAN_CACHE_SIZE = 512

_plans: OrderedDict[tuple[Any, ...], tuple[float, Any]] = OrderedDict()
_plans_lock = threading.Lock()


def forget_plans() -> None:
    """Drop every remembered plan (tests; after a bulk load that should show at once)."""
    with _plans_lock:
        _plans.clear()


def _key(using: str, sql: str, params: Any) -> tuple[Any, ...] | None:
    """What a plan is remembered by; None for one not worth remembering: one with an array
    parameter (a search's list of matching ids, up to 2,000 of them, is that search's own)
    or with a parameter that has no hash."""
    if any(isinstance(p, (list, tuple)) for p in params):
        return None
    key = (using, sql, tuple(params))
    try:
        hash(key)
    except TypeError:
        return None
    return key


def explain(using: str, sql: str, params: Any) -> Any:
    """``EXPLAIN (FORMAT JSON) sql`` on ``using``, parsed; remembered for
    ``ESTIMATE_CACHE_SECONDS`` per SQL text and parameters (0: asked every time)."""
    seconds = helpdesk_settings.ESTIMATE_CACHE_SECONDS
    key = _key(using, sql, params) if seconds else None
    now = time.monotonic()
    if key is not None:
        with _plans_lock:
            hit = _plans.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
    with connections[using].cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    if key is not None:
        with _plans_lock:
            _plans[key] = (now + seconds, plan)
            _plans.move_to_end(key)
            while len(_plans) > PLAN_CACHE_SIZE:
                _plans.popitem(last=False)
    return plan


def estimate_rows(queryset: Any) -> int | None:
    """The planner's row estimate for ``queryset`` on PostgreSQL; None elsewhere."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    if queryset.query.is_empty():
        return 0
    try:
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # e.g. ``pk__in=[]``: nothing can match
        return 0
    return int(explain(queryset.db, sql, params)[0]["Plan"]["Plan Rows"])
