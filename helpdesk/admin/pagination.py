"""A paginator that never counts a huge result set exactly.

Django's admin counts the filtered list on every page view; on a million tickets that
``COUNT(*)`` alone costs more than the rest of the page. On PostgreSQL this paginator
first asks the planner for its row estimate (one ``EXPLAIN``, no scan): far above
``ADMIN_COUNT_LIMIT`` it takes the estimate as is; otherwise it counts at most
``ADMIN_COUNT_LIMIT + 1`` rows (the count stops there) and only past the limit falls back
to the estimate. An estimate is flagged, and the list shows it as "about N".
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

from ..conf import helpdesk_settings

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


class EstimatedCountPaginator(Paginator):
    """Exact counts up to a limit, an estimate (``count_is_estimate``) beyond it."""

    count_is_estimate = False

    def __init__(self, *args: Any, count_limit: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.count_limit = count_limit if count_limit is not None else helpdesk_settings.ADMIN_COUNT_LIMIT

    @cached_property
    def count(self) -> int:
        object_list = self.object_list
        if not hasattr(object_list, "query"):
            return len(object_list)
        limit = self.count_limit
        if not limit:
            return object_list.count()
        estimate = estimate_rows(object_list)
        if estimate is not None and estimate > limit * ESTIMATE_MARGIN:
            # Clearly huge: counting would only confirm it, at the cost of reading it all.
            self.count_is_estimate = True
            return estimate
        # COUNT over a LIMITed subquery: the database stops after limit + 1 rows.
        capped = object_list.order_by()[: limit + 1].count()
        if capped <= limit:
            return capped
        if estimate is None:
            # No planner to ask (SQLite): the exact count, which such databases can afford.
            return object_list.count()
        self.count_is_estimate = True
        return max(estimate, limit + 1)
