"""Row counts a list can afford: the planner's estimate where an exact count would cost too much.

Shared by the API's pagination and the admin's paginator: ``COUNT(*)`` of a million rows
costs PostgreSQL far more than the page itself.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections

#: Past this multiple of the count limit, the planner's estimate is trusted without counting.
ESTIMATE_MARGIN = 10


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
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
