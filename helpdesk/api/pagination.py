"""``limit`` with ``page`` (1-based) or ``offset``; ``meta`` = page, limit, offset, total, pages.

The page is fetched first; the total is counted only when the page does not already tell
it (a short page at a known offset is the end of the list). Counting a million rows takes
PostgreSQL far longer than the page itself, so the count stops at
``HELPDESK["COUNT_EXACT_UP_TO"]`` rows: past that, ``total`` is the query planner's
estimate (never less than the rows known to exist) and ``meta.total_exact`` is false. A
search matching more than ``helpdesk.search.MAX_MATCHED_IDS`` tickets is never counted:
its total is the estimate from the start.
"""

from __future__ import annotations

import math
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator
from django.db import connections
from django.utils.translation import gettext_lazy as _
from django_filters.widgets import QueryArrayWidget
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from ..conf import helpdesk_settings
from ..counting import ESTIMATE_MARGIN, estimate_rows
from ..search import is_broad
from .exceptions import ValidationFailed
from .renderers import unwrapped


class PaginationForm(forms.Form):
    """The three paging parameters, validated like any other input (422 on nonsense)."""

    page = forms.IntegerField(required=False, min_value=1, max_value=10**9)
    offset = forms.IntegerField(required=False, min_value=0, max_value=10**12)
    limit = forms.IntegerField(required=False, min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["limit"].validators.append(MaxValueValidator(helpdesk_settings.MAX_PAGE_SIZE))

    def clean_limit(self) -> int:
        limit = self.cleaned_data.get("limit")
        if limit is None:
            return helpdesk_settings.PAGE_SIZE
        return limit

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # A number, when given: "?page=" is a 422 like "?page=x" (a blank list filter is
        # no filter, as a browser form sends it; paging is never a form's blank field).
        for name, field in self.fields.items():
            if name in self.data and not str(self.data.get(name)).strip() and name not in self.errors:
                self.add_error(name, field.error_messages["invalid"])
        if self.data.get("page") not in (None, "") and self.data.get("offset") not in (None, ""):
            raise forms.ValidationError({"offset": _("Use either page or offset, not both.")})
        return data


#: Query parameters every list takes, whatever its filters.
PAGINATION_PARAMS = frozenset(PaginationForm.base_fields) | {"format"}


def filterset_params(filterset_class: Any) -> set[str]:
    """The query parameter names a ``FilterSet`` reads (list filters also as ``name[]``)."""
    if filterset_class is None:
        return set()
    names = set(filterset_class.base_filters)
    for name, filter_ in filterset_class.base_filters.items():
        widget = getattr(filter_.field_class, "widget", None)
        if isinstance(widget, type) and issubclass(widget, QueryArrayWidget):
            names.add(f"{name}[]")
    return names


def reject_unknown_params(query_params: Any, known: set[str] | frozenset[str]) -> None:
    """A 422 naming every query parameter not in ``known`` (and the known ones): a
    misspelt filter must not silently return the unfiltered list."""
    unknown = sorted(k for k in query_params if k not in known)
    if unknown:
        message = _("Unknown query parameter(s): %(u)s. Known: %(k)s.") % {
            "u": ", ".join(k[:60] for k in unknown[:10]), "k": ", ".join(sorted(known))}
        raise ValidationFailed({k[:60]: [_("Unknown query parameter.")] for k in unknown[:10]}, message=message)


def view_params(view: Any) -> set[str]:
    """The query parameters a list view reads besides paging: ``view.list_query_params()``
    if it has one, else its ``filterset_class``'s."""
    if view is None:
        return set()
    if hasattr(view, "list_query_params"):
        return set(view.list_query_params())
    return filterset_params(getattr(view, "filterset_class", None))


class HelpdeskPagination(BasePagination):
    """The envelope's pagination (see API.md): ``{"data": [...], "meta": {...}}``.

    Every list is paginated, so this is also where a list refuses query parameters it does
    not know (422), whatever view it belongs to.
    """

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list[Any]:
        reject_unknown_params(request.query_params, PAGINATION_PARAMS | view_params(view))
        form = PaginationForm(request.query_params)
        if not form.is_valid():
            raise ValidationFailed(form.errors)
        limit = form.cleaned_data["limit"]
        if form.cleaned_data.get("offset") is not None:
            offset = form.cleaned_data["offset"]
        else:
            offset = ((form.cleaned_data.get("page") or 1) - 1) * limit
        rows = list(queryset[offset : offset + limit])
        exact = True
        if (rows and len(rows) < limit) or (not rows and offset == 0):
            total = offset + len(rows)
        else:
            total, exact = self.count(queryset)
            if not exact:
                # At least what is known to exist, and one more when this page is full.
                total = max(total, offset + len(rows) + (1 if len(rows) == limit else 0))
        self.limit, self.offset, self.total, self.exact = limit, offset, total, exact
        return rows

    def count(self, queryset: Any) -> tuple[int, bool]:
        """(rows, exact): exact up to ``COUNT_EXACT_UP_TO``, the planner's estimate past it."""
        cap = helpdesk_settings.COUNT_EXACT_UP_TO
        if cap is None or not hasattr(queryset, "query") or connections[queryset.db].vendor != "postgresql":
            return queryset.count(), True
        broad = is_broad(queryset)
        estimate = estimate_rows(queryset)
        if estimate is None:  # pragma: no cover - PostgreSQL always has a planner
            return queryset.count(), True
        # Clearly huge (as the admin's paginator decides): counting up to the cap would only
        # confirm it, at the cost of reading cap + 1 rows on every page.
        if not broad and estimate <= cap * ESTIMATE_MARGIN:
            bounded = queryset.order_by().values("pk")[: cap + 1].count()
            if bounded <= cap:
                return bounded, True
        # A broad search (thousands of matches) is never counted: checking each match
        # against the other filters would cost far more than the page.
        return (estimate if broad else max(estimate, cap + 1)), False

    def get_meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "page": self.offset // self.limit + 1,
            "limit": self.limit,
            "offset": self.offset,
            "total": self.total,
            "pages": math.ceil(self.total / self.limit),
        }
        if not self.exact:
            meta["total_exact"] = False
        return meta

    def get_paginated_response(self, data: Any) -> Response:
        return unwrapped(Response({"data": data, "meta": self.get_meta()}))

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["data", "meta"],
            "properties": {
                "data": schema,
                "meta": {
                    "type": "object",
                    "required": ["page", "limit", "offset", "total", "pages"],
                    "properties": {
                        "page": {"type": "integer", "example": 1, "description": "1-based page of this slice."},
                        "limit": {"type": "integer", "example": 25},
                        "offset": {"type": "integer", "example": 0},
                        "total": {"type": "integer", "example": 57, "description": "Rows matching the filters."},
                        "pages": {"type": "integer", "example": 3},
                        "total_exact": {
                            "type": "boolean",
                            "description": "Only present (false) when total is an estimate: more than "
                            "COUNT_EXACT_UP_TO rows match. Page until data is shorter than limit.",
                        },
                    },
                },
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        # One exploded object parameter (``?limit=25&page=2``), so that the document can
        # say what the form enforces: ``page`` or ``offset``, never both.
        return [
            {
                "name": "paging", "in": "query", "required": False, "style": "form", "explode": True,
                "description": f"`limit`: rows per page (default {helpdesk_settings.PAGE_SIZE}, at most "
                f"{helpdesk_settings.MAX_PAGE_SIZE}); `page` (1-based) **or** `offset` (rows to skip): "
                "both is a 422, and so is an empty value (each is a number).",
                "schema": {
                    "type": "object",
                    "properties": {
                        "limit": {"type": "integer", "minimum": 1, "maximum": helpdesk_settings.MAX_PAGE_SIZE},
                        "page": {"type": "integer", "minimum": 1, "maximum": 10**9},
                        "offset": {"type": "integer", "minimum": 0, "maximum": 10**12},
                    },
                    "additionalProperties": False,
                    "not": {"required": ["page", "offset"]},
                },
            },
        ]
