"""A paginator that never counts a huge result set exactly.

Django's admin counts the filtered list on every page view; on a million tickets that
``COUNT(*)`` alone costs more than the rest of the page. This paginator counts at most
``ADMIN_COUNT_LIMIT + 1`` rows (cheap: the count stops at the limit); past the limit it
takes PostgreSQL's planner estimate of the query's rows (one ``EXPLAIN``, no scan) and
flags the count as an estimate, which the list shows as "about N".
"""

from __future__ import annotations

import json
from typing import Any

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

from ..conf import helpdesk_settings


def estimate_rows(queryset: Any) -> int | None:
    """The planner's row estimate for ``queryset`` on PostgreSQL; None elsewhere."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
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
        # COUNT over a LIMITed subquery: the database stops after limit + 1 rows.
        capped = object_list.order_by()[: limit + 1].count()
        if capped <= limit:
            return capped
        self.count_is_estimate = True
        estimate = estimate_rows(object_list)
        if estimate is None:
            # No planner to ask (SQLite): the exact count, which such databases can afford.
            self.count_is_estimate = False
            return object_list.count()
        return max(estimate, limit + 1)
