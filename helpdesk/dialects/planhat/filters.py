"""Planhat's list parameters (``companyId``, ``status``, ``email``, ``search``, ``sort``,
``select``, and the short forms ``cid``, ``s``, ``e``, ``q``) as a ``FilterSet``, and its
``limit``/``offset`` paging (a bare JSON array, default 500, at most 10000)."""

from __future__ import annotations

from typing import Any

import django_filters as filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from ...api.exceptions import ValidationFailed
from ...api.filters import HelpdeskFilterSet, MAX_LIST, _split
from ...api.pagination import filterset_params, reject_unknown_params
from ...conf import helpdesk_settings
from ...limits import parse_id
from ...models import Ticket
from ...search import search_tickets
from .serializers import PROPERTIES, SORTS

DEFAULT_LIMIT = 500
MAX_LIMIT = 10_000


def _values(value: str, name: str) -> list[str]:
    parts = _split(value)
    if len(parts) > MAX_LIST:
        raise forms.ValidationError({name: _("At most %(n)d values.") % {"n": MAX_LIST}})
    if any("\x00" in p for p in parts):
        raise forms.ValidationError({name: _("Null characters are not allowed.")})
    return parts


class PlanhatTicketFilterSet(HelpdeskFilterSet):
    """Filters of ``GET /tickets``; a long name and its short form are the same filter."""

    companyId = filters.CharFilter(method="filter_company", help_text=_("Company ids (ours or the external id), comma-separated."))
    cid = filters.CharFilter(method="filter_company", help_text=_("Short for companyId."))
    status = filters.CharFilter(method="filter_status", help_text=_("Status titles or ids, comma-separated."))
    s = filters.CharFilter(method="filter_status", help_text=_("Short for status."))
    email = filters.CharFilter(method="filter_email", help_text=_("The requester's email."))
    e = filters.CharFilter(method="filter_email", help_text=_("Short for email."))
    search = filters.CharFilter(method="filter_search", max_length=200, help_text=_("Words in the ticket's text."))
    q = filters.CharFilter(method="filter_search", max_length=200, help_text=_("Short for search."))
    sort = filters.CharFilter(method="filter_noop", max_length=100, help_text=_("A property; - prefix for descending."))
    select = filters.CharFilter(method="filter_noop", max_length=2000, help_text=_("Properties, comma-separated."))

    class Meta:
        model = Ticket
        fields: list[str] = []

    def filter_noop(self, queryset: QuerySet[Ticket], name: str, value: Any) -> QuerySet[Ticket]:
        return queryset

    def filter_company(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        refs = _values(value, name)
        ids = [n for n in map(parse_id, refs) if n is not None]
        return queryset.filter(Q(client_id__in=ids) | Q(client__external_id__in=refs))

    def filter_status(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        # Planhat's statuses are free-form: an unknown one matches nothing (an empty list).
        # A name the sync maps to one of ours (UPSERT_STATUS_ALIASES) finds what it wrote.
        aliases = {k.lower(): v for k, v in helpdesk_settings.UPSERT_STATUS_ALIASES.items()}
        q = Q(pk__in=[])
        for ref in _values(value, name):
            q |= Q(status__title__iexact=ref)
            if ref.lower() in aliases:
                q |= Q(status__title__iexact=aliases[ref.lower()])
            if (pk := parse_id(ref)) is not None:
                q |= Q(status_id=pk)
        return queryset.filter(q)

    def filter_email(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        if "\x00" in value:
            raise forms.ValidationError({name: _("Null characters are not allowed.")})
        return queryset.filter(requester__email__iexact=value.strip())

    def filter_search(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        if "\x00" in value:
            raise forms.ValidationError({name: _("Null characters are not allowed.")})
        return search_tickets(queryset, value, user=getattr(self.request, "user", None))

    def clean_sort(self) -> tuple[str, ...]:
        value = (self.form.cleaned_data.get("sort") or "").strip()
        name = value.lstrip("-")
        if not name:
            return SORTS["_id"]
        if name not in SORTS:
            raise ValidationFailed({"sort": [_("Unknown property %(p)s. Sortable: %(k)s.") % {
                "p": name[:60], "k": ", ".join(SORTS)}]})
        order = SORTS[name]
        if value.startswith("-"):
            order = tuple(f[1:] if f.startswith("-") else f"-{f}" for f in order)
        return order

    def clean_select(self) -> tuple[str, ...] | None:
        names = [n.strip() for n in (self.form.cleaned_data.get("select") or "").split(",") if n.strip()]
        if not names:
            return None
        unknown = [n[:60] for n in names if n not in PROPERTIES]
        if unknown:
            raise ValidationFailed({"select": [_("Unknown property(ies): %(u)s. Known: %(k)s.") % {
                "u": ", ".join(unknown[:10]), "k": ", ".join(PROPERTIES)}]})
        return tuple(dict.fromkeys(names))

    def filter_queryset(self, queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
        try:
            queryset = super().filter_queryset(queryset)
        except forms.ValidationError as exc:
            raise ValidationFailed(exc.message_dict) from None
        self.selected = self.clean_select()
        return queryset.order_by(*self.clean_sort())


class PlanhatPagingForm(forms.Form):
    limit = forms.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT)
    l = forms.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT)  # noqa: E741  (Planhat's name)
    offset = forms.IntegerField(required=False, min_value=0, max_value=10**12)
    o = forms.IntegerField(required=False, min_value=0, max_value=10**12)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for long, short in (("limit", "l"), ("offset", "o")):
            if self.data.get(long) not in (None, "") and self.data.get(short) not in (None, ""):
                raise forms.ValidationError({short: _("Use either %(a)s or %(b)s, not both.") % {"a": long, "b": short}})
        return data


#: Every query parameter of Planhat's ticket list.
PLANHAT_PARAMS = frozenset(PlanhatPagingForm.base_fields) | filterset_params(PlanhatTicketFilterSet)


class PlanhatPagination(BasePagination):
    """``limit`` (``l``, default 500, at most 10000) and ``offset`` (``o``); a bare array.
    Refuses unknown query parameters (422), as every helpdesk list does."""

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list[Any]:
        reject_unknown_params(request.query_params, PLANHAT_PARAMS)
        form = PlanhatPagingForm(request.query_params)
        if not form.is_valid():
            raise ValidationFailed(form.errors)
        data = form.cleaned_data
        limit = data.get("limit") or data.get("l") or DEFAULT_LIMIT
        offset = data.get("offset") or data.get("o") or 0
        return list(queryset[offset : offset + limit])

    def get_paginated_response(self, data: Any) -> Response:
        return Response(data)
