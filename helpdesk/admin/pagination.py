"""A paginator that never counts a huge result set exactly.

Django's admin counts the filtered list on every page view; on a million tickets that
``COUNT(*)`` alone costs more than the rest of the page. On PostgreSQL this paginator
first asks the planner for its row estimate (one ``EXPLAIN``, no scan): far above
``ADMIN_COUNT_LIMIT`` it takes the estimate as is; otherwise it counts at most
``ADMIN_COUNT_LIMIT + 1`` rows (the count stops there) and only past the limit falls back
to the estimate. A broad search (``helpdesk.search.is_broad``: thousands of matches) takes
the estimate too. An estimate is flagged, and the list shows it as "about N".
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.utils.functional import cached_property

from ..conf import helpdesk_settings
from ..counting import ESTIMATE_MARGIN, estimate_rows
from ..search import is_broad

__all__ = ["ESTIMATE_MARGIN", "EstimatedCountPaginator", "estimate_rows"]


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
        if estimate is not None and (estimate > limit * ESTIMATE_MARGIN or is_broad(object_list)):
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
