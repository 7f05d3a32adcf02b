"""The list parameters of SPP's ``GET /tickets``: ``user_id``, ``status``, ``employee_id``
and ``tags[]`` filters (a ``FilterSet``), ``page``/``limit`` paging."""

from __future__ import annotations

import django_filters as filters
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from ...api.exceptions import ValidationFailed
from ...api.filters import HelpdeskFilterSet, IdListFilter, WordListFilter, _split
from ...limits import parse_id
from ...models import Ticket


class SPPTicketFilterSet(HelpdeskFilterSet):
    user_id = IdListFilter(field_name="requester_id", help_text=_("Requester (client user) ids, comma-separated."))
    status = filters.CharFilter(method="filter_status", help_text=_("Status ids or titles, comma-separated."))
    employee_id = IdListFilter(method="filter_employee", help_text=_("Tickets assigned to any of these staff ids."))
    tags = WordListFilter(method="filter_tags", help_text=_("Tickets carrying all of these tags."))

    class Meta:
        model = Ticket
        fields: list[str] = []

    def filter_status(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        q = Q(pk__in=[])
        for ref in _split(value)[:100]:
            if "\x00" in ref:
                raise forms.ValidationError({name: _("Null characters are not allowed.")})
            q |= Q(status__title__iexact=ref)
            if (pk := parse_id(ref)) is not None:
                q |= Q(status_id=pk)
        return queryset.filter(q)

    def filter_employee(self, queryset: QuerySet[Ticket], name: str, value: list[int]) -> QuerySet[Ticket]:
        return queryset.filter(Exists(Ticket.assignees.through.objects.filter(ticket_id=OuterRef("pk"), user_id__in=value)))

    def filter_tags(self, queryset: QuerySet[Ticket], name: str, value: list[str]) -> QuerySet[Ticket]:
        through = Ticket.tags.through.objects
        for tag in value:
            queryset = queryset.filter(Exists(through.filter(ticket_id=OuterRef("pk"), tag__name__iexact=tag)))
        return queryset

    def filter_queryset(self, queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
        try:
            return super().filter_queryset(queryset)
        except forms.ValidationError as exc:
            raise ValidationFailed(exc.message_dict) from None

