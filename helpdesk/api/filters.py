"""The list parameters of ``GET /tickets`` (API.md) as django-filter ``FilterSet``s.

Bad values are 422s with the parameter's name (django-filter's errors, shaped by the
exception handler), never silently ignored.
"""

from __future__ import annotations

import copy
import datetime
from collections import OrderedDict
from typing import Any

import django_filters as filters
from django_filters import fields as django_filters_fields
from django import forms
from django.db.models import Exists, OuterRef, QuerySet
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django_filters.filters import FilterMethod, LookupChoiceFilter, NumberFilter
from django_filters.widgets import QueryArrayWidget

from .. import sla
from ..limits import MAX_ID
from ..models import ActiveState, Priority, Project, Ticket, TicketStatus
from .exceptions import ValidationFailed
from ..search import search_tickets

MAX_LIST = 100


def _split(value: str) -> list[str]:
    return [part.strip() for part in str(value).split(",") if part.strip()]


#: ``Filter.field`` implementations that build the form field from the filter's own
#: arguments, its model and the active language only: a form class made of them can be
#: shared. Not ``ModelChoiceFilter``'s and the other ``QuerySetRequestMixin``s (their
#: queryset may depend on the request) nor ``AllValuesFilter``'s (choices read from the
#: database), nor any a project's own filter class defines.
_STATIC_FIELDS = frozenset({filters.Filter.field, NumberFilter.field, LookupChoiceFilter.field})


def _copy_filter(filter_: filters.Filter) -> filters.Filter:
    """What ``copy.deepcopy`` of a declared filter gives a ``FilterSet`` instance, for a
    fraction of the cost: a shallow copy of the filter with its own ``extra`` (the only
    container django-filter's filters write to while serving a request:
    ``QuerySetRequestMixin.field`` and ``AllValuesFilter.field``) and its own
    ``FilterMethod`` (which must call the method of *this* instance's parent). A form
    field the declared filter already built (``_field``) is still deep-copied, as before.
    """
    clone = copy.copy(filter_)
    clone.extra = filter_.extra.copy()
    state = vars(filter_)
    if "_field" in state:
        clone._field = copy.deepcopy(state["_field"])
    if isinstance(state.get("filter"), FilterMethod):
        clone.filter = FilterMethod(clone)
    return clone


class HelpdeskFilterSet(filters.FilterSet):
    """``django_filters.FilterSet``, cheaper to build on every request; same behaviour.

    django-filter deep-copies every declared filter for each ``FilterSet`` instance, then
    builds a new form class from the copies' fields, and Django deep-copies those fields
    once more when it instantiates the form: for ``TicketFilterSet`` (16 filters) 152,800
    ``deepcopy`` calls per 200 list requests, ~15% of ``GET /tickets``'s CPU (cProfile,
    1M-ticket bench). Here each instance gets shallow copies of the filters
    (``_copy_filter``) and the form class is built once per concrete class, model and
    language (django-filter translates a label when it builds the field: a German request
    must not freeze them for an English one). Constructing and validating a
    ``TicketFilterSet`` went from ~1.6 ms to ~0.6 ms of CPU; 51,200 ``deepcopy`` calls per
    200 list requests are left (Django's copy of each form's fields among them).

    The form *instance*, and so its fields, errors and cleaned data, is still per
    request: Django deep-copies the class's fields into each form, and error messages
    are translated when they are raised. Settings read when a field is built
    (``FILTERS_DISABLE_HELP_TEXT``, ``FILTERS_VERBOSE_LOOKUPS``) count from the first
    form of the class. A subclass whose ``__init__`` changes its filters per instance
    (say a ``self.filters[...].extra`` that depends on the request) sets
    ``cache_form_class = False``: those filters' fields then make the form each time.
    """

    cache_form_class = True

    def __init__(
        self, data: Any = None, queryset: QuerySet[Any] | None = None, *, request: Any = None, prefix: str | None = None
    ) -> None:
        # django-filter's BaseFilterSet.__init__, with _copy_filter for its deepcopy.
        if queryset is None:
            queryset = self._meta.model._default_manager.all()
        model = queryset.model

        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix

        self.filters = OrderedDict((name, _copy_filter(f)) for name, f in self.base_filters.items())
        for filter_ in self.filters.values():
            filter_.model = model
            filter_.parent = self

    def get_form_class(self) -> type[forms.Form]:
        cls = type(self)
        # In the class's own __dict__, never inherited: a subclass has other filters.
        if "_form_classes" not in cls.__dict__:
            shared = cls.cache_form_class and all(type(f).field in _STATIC_FIELDS for f in cls.base_filters.values())
            cls._form_classes = {} if shared else None
        form_classes = cls._form_classes
        if form_classes is None:
            return super().get_form_class()
        key = (self.queryset.model, translation.get_language())
        form_class = form_classes.get(key)
        if form_class is None:
            # Two threads may both build it the first time; either class will do.
            form_class = form_classes[key] = super().get_form_class()
        return form_class


class IdListField(forms.CharField):
    """``"1,2,3"`` -> ``[1, 2, 3]``; anything but whole positive numbers is an error."""

    def to_python(self, value: Any) -> list[int] | None:
        value = super().to_python(value)
        if not value:
            return None
        parts = [part.strip() for part in str(value).split(",")]
        if len(parts) > MAX_LIST:
            raise forms.ValidationError(_("At most %(n)d values.") % {"n": MAX_LIST})
        try:
            ids = [int(part) for part in parts]
        except ValueError:
            raise forms.ValidationError(_("Enter whole numbers separated by commas.")) from None
        if any(i < 1 or i > MAX_ID for i in ids):
            raise forms.ValidationError(_("Enter ids from 1 to %(max)d.") % {"max": MAX_ID})
        return ids


class IdListFilter(filters.Filter):
    field_class = IdListField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("lookup_expr", "in")
        super().__init__(*args, **kwargs)


class UTCDateTimeField(django_filters_fields.IsoDateTimeField):
    """An ISO 8601 date and time that exists in UTC.

    ``9999-12-31T23:59:59-14:00`` is past the end of Python's (and SQLite's) time once in
    UTC, ``0001-01-01T00:00:00+14:00`` before its start: a 422, not an ``OverflowError``.
    """

    default_error_messages = {
        "out_of_range": _("Enter a date and time between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z."),
    }

    def strptime(self, value: str, format: str) -> datetime.datetime:
        try:
            return super().strptime(value, format)
        except OverflowError:
            raise ValueError(value) from None

    def to_python(self, value: Any) -> datetime.datetime | None:
        try:
            parsed = super().to_python(value)
            return parsed.astimezone(datetime.UTC) if parsed is not None else None
        except OverflowError:
            raise forms.ValidationError(self.error_messages["out_of_range"], code="out_of_range") from None


class UTCDateTimeFilter(filters.IsoDateTimeFilter):
    """``IsoDateTimeFilter`` for dates a client sends: see ``UTCDateTimeField``."""

    field_class = UTCDateTimeField


class WordListField(forms.Field):
    """A list of strings from ``name=a&name=b`` or ``name[]=a&name[]=b``."""

    widget = QueryArrayWidget

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        items = [str(v).strip() for v in value if str(v).strip()]
        if any("\x00" in item for item in items):
            raise forms.ValidationError(_("Null characters are not allowed."))
        if len(items) > MAX_LIST:
            raise forms.ValidationError(_("At most %(n)d values.") % {"n": MAX_LIST})
        return items


class WordListFilter(filters.Filter):
    field_class = WordListField


#: sort key -> ORDER BY when descending (ascending reverses every part). Every part goes
#: the same way, as the ticket indexes do (migration 0004 of the benchmark work), so a
#: forward or backward index scan reads just the page, even among a million tickets.
SORT_KEYS = {
    "ticket_created": ("-created_at", "-id"),
    "ticket_last_updated": ("-updated_at", "-id"),
    "ticket_priority": ("-priority", "-created_at", "-id"),
    "ticket_status": ("-status_id", "-created_at", "-id"),
}
SORT_CHOICES = [(key, key) for key in SORT_KEYS] + [(f"-{key}", f"-{key}") for key in SORT_KEYS]


class TicketFilterSet(HelpdeskFilterSet):
    """Every filter of ``GET /tickets``; ``sort``/``order`` are applied in ``filter_queryset``."""

    status = filters.CharFilter(
        method="filter_status", help_text=_("Status id or title; several separated by commas.")
    )
    priority = filters.CharFilter(
        method="filter_priority", help_text=_("normal, high or urgent; several separated by commas.")
    )
    category_id = IdListFilter(field_name="department_id", help_text=_("Department id(s), comma-separated."))
    client_id = IdListFilter(field_name="client_id", help_text=_("Client id(s), comma-separated."))
    companyId = IdListFilter(field_name="client_id", help_text=_("Alias of client_id (the sync's name)."))
    project_id = IdListFilter(field_name="project_id", help_text=_("Project id(s), comma-separated."))
    assignee_id = IdListFilter(method="filter_assignee", help_text=_("Tickets assigned to any of these user ids."))
    email = filters.CharFilter(
        field_name="requester__email", lookup_expr="iexact", help_text=_("The requester's email address.")
    )
    tags = WordListFilter(
        method="filter_tags",
        help_text=_("Tickets carrying all of these tags: tags[]=a&tags[]=b (or tags=a&tags=b)."),
    )
    active_state = filters.ChoiceFilter(
        choices=[("active", "active"), ("archived", "archived"), ("all", "all")],
        method="filter_active_state",
        help_text=_("active (default), archived or all."),
    )
    updated_since = UTCDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", help_text=_("ISO 8601; tickets updated at or after it.")
    )
    created_since = UTCDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text=_("ISO 8601; tickets created at or after it.")
    )
    search = filters.CharFilter(
        method="filter_search",
        max_length=200,
        help_text=_("Words matched against id, subject, message, replies, client name and requester email."),
    )
    sla = filters.ChoiceFilter(
        choices=[("breached", "breached"), ("soon", "soon"), ("paused", "paused"), ("none", "none")],
        method="filter_sla",
        help_text=_("breached (a target passed, clock running), soon (due within 2 h), paused "
                    "(waiting on the customer) or none (no SLA)."),
    )
    sort = filters.ChoiceFilter(
        choices=SORT_CHOICES,
        method="filter_noop",
        help_text=_("ticket_created (default), ticket_last_updated, ticket_priority or ticket_status; "
                    "a leading - sorts descending."),
    )
    order = filters.ChoiceFilter(
        choices=[("asc", "asc"), ("desc", "desc")], method="filter_noop", help_text=_("asc or desc (default).")
    )

    class Meta:
        model = Ticket
        fields: list[str] = []

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        data = data.copy() if data is not None else None
        if data is not None and not data.get("active_state"):
            data["active_state"] = "active"
        super().__init__(data, *args, **kwargs)

    # -- filters ---------------------------------------------------------------------

    def filter_noop(self, queryset: QuerySet[Ticket], name: str, value: Any) -> QuerySet[Ticket]:
        return queryset

    def filter_status(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        wanted = _split(value)
        if len(wanted) > MAX_LIST:
            raise forms.ValidationError({"status": _("At most %(n)d values.") % {"n": MAX_LIST}})
        rows = list(TicketStatus.objects.values_list("id", "title"))
        by_id = {str(pk): pk for pk, _title in rows}
        by_title = {title.lower(): pk for pk, title in rows}
        ids, unknown = [], []
        for item in wanted:
            pk = by_id.get(item) or by_title.get(item.lower())
            (ids if pk else unknown).append(pk or item)
        if unknown:
            raise forms.ValidationError({"status": _("Unknown status: %(s)s.") % {"s": ", ".join(unknown)}})
        return queryset.filter(status_id__in=ids)

    def filter_priority(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        ranks, unknown = [], []
        if len(_split(value)) > MAX_LIST:
            raise forms.ValidationError({"priority": _("At most %(n)d values.") % {"n": MAX_LIST}})
        for item in _split(value):
            try:
                ranks.append(Priority.from_slug(item))
            except ValueError:
                unknown.append(item)
        if unknown:
            raise forms.ValidationError(
                {"priority": _("Unknown priority: %(p)s. Use normal, high or urgent.") % {"p": ", ".join(unknown)}}
            )
        return queryset.filter(priority__in=ranks)

    def filter_assignee(self, queryset: QuerySet[Ticket], name: str, value: list[int]) -> QuerySet[Ticket]:
        through = Ticket.assignees.through.objects.filter(ticket_id=OuterRef("pk"), user_id__in=value)
        return queryset.filter(Exists(through))

    def filter_tags(self, queryset: QuerySet[Ticket], name: str, value: list[str]) -> QuerySet[Ticket]:
        through = Ticket.tags.through.objects
        for tag in value:
            queryset = queryset.filter(Exists(through.filter(ticket_id=OuterRef("pk"), tag__name__iexact=tag)))
        return queryset

    def filter_active_state(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        if value == "all":
            return queryset
        return queryset.filter(active_state=ActiveState(value))

    def filter_sla(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        now = timezone.now()
        if value == "breached":
            return queryset.filter(sla.breaching_q(now))
        if value == "soon":
            return queryset.filter(sla.due_soon_q(now, datetime.timedelta(hours=2)))
        if value == "paused":
            return queryset.filter(closed_at__isnull=True, sla_paused_at__isnull=False)
        return queryset.filter(first_response_due_at__isnull=True, resolution_due_at__isnull=True)

    def filter_search(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        return search_tickets(queryset, value, user=getattr(self.request, "user", None))

    def filter_queryset(self, queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
        try:
            queryset = super().filter_queryset(queryset)
        except forms.ValidationError as exc:
            # A method filter's error becomes a form error, so it is reported like the others.
            raise ValidationFailed(exc.message_dict) from None
        sort = self.form.cleaned_data.get("sort") or "ticket_created"
        descending = sort.startswith("-") or (self.form.cleaned_data.get("order") or "desc") == "desc"
        order = SORT_KEYS[sort.lstrip("-")]
        if not descending:
            order = tuple(f[1:] if f.startswith("-") else f"-{f}" for f in order)
        return queryset.order_by(*order)


class ProjectFilterSet(HelpdeskFilterSet):
    client_id = IdListFilter(field_name="client_id", help_text=_("Only this client's projects (comma-separated ids)."))

    class Meta:
        model = Project
        fields: list[str] = []
