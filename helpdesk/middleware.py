"""``DatabaseBusyMiddleware``: a 503 page with ``Retry-After`` instead of a 500 when the
database is too busy to answer in time (see ``helpdesk.busy``), for every view of the
site (the whole admin included). The helpdesk's API and its ticket admin answer 503
without it; add it to ``MIDDLEWARE`` for the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from .busy import busy_response, is_database_busy


class DatabaseBusyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> Any:
        if is_database_busy(exception):
            return busy_response()
        return None
