"""The admin's answer to a database too busy to answer in time (see ``helpdesk.busy``):
a 503 page with ``Retry-After``, never a 500, for every view of a ``ModelAdmin`` using
``DatabaseBusyMixin`` (its own views such as the reply form included)."""

from __future__ import annotations

import functools
from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern

from ..busy import busy_response, is_database_busy


def busy_safe(view: Any) -> Any:
    """``view``, answering 503 when the database is busy."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
            # A TemplateResponse queries while it renders: render here, inside the guard.
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
            return response
        except DatabaseError as exc:
            if is_database_busy(exc):
                return busy_response()
            raise

    return wrapper


class DatabaseBusyMixin:
    """Every URL of the ``ModelAdmin`` (``get_urls()``, overrides included) answers 503
    with ``Retry-After`` instead of a 500 when a database lock wait times out."""

    @property
    def urls(self) -> list[Any]:
        patterns = []
        for pattern in self.get_urls():  # type: ignore[attr-defined]
            if isinstance(pattern, URLPattern):
                pattern = URLPattern(pattern.pattern, busy_safe(pattern.callback), pattern.default_args, pattern.name)
            patterns.append(pattern)
        return patterns
