"""List filters for the ticket list: active/archived (archived hidden by default),
assignee ("mine", "unassigned", or an agent), and autocomplete filters for relations with
too many rows to list (clients, tags), built on Django's own autocomplete widget.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .. import selectors
from ..models import ActiveState, Ticket


class ActiveStateFilter(admin.SimpleListFilter):
    """Active tickets unless the user asks for archived ones (or all)."""

    title = _("state")
    parameter_name = "state"
    ALL = "all"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            (ActiveState.ACTIVE, _("Active")),
            (ActiveState.ARCHIVED, _("Archived")),
            (self.ALL, _("All")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
        value = self.value()
        if value == self.ALL:
            return queryset
        if value == ActiveState.ARCHIVED:
            return queryset.filter(active_state=ActiveState.ARCHIVED)
        return queryset.filter(active_state=ActiveState.ACTIVE)

    def choices(self, changelist: Any):
        # No "All" link of Django's own: "Active" is the default, selected with no parameter.
        value = self.value() or ActiveState.ACTIVE
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == lookup,
                "query_string": changelist.get_query_string(
                    {self.parameter_name: lookup} if lookup != ActiveState.ACTIVE else {},
                    [self.parameter_name] if lookup == ActiveState.ACTIVE else [],
                ),
                "display": title,
            }


class AssigneeFilter(admin.SimpleListFilter):
    """Tickets assigned to me, to nobody, or to one agent."""

    title = _("assignee")
    parameter_name = "assignee"
    MINE = "mine"
    NONE = "none"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        choices: list[tuple[str, Any]] = [(self.MINE, _("Assigned to me")), (self.NONE, _("Unassigned"))]
        # Agents only: a helpdesk has tens of them, not thousands.
        agents = get_user_model().objects.filter(is_staff=True, is_active=True).exclude(pk=request.user.pk)
        for user in agents.order_by("first_name", "last_name", "username"):
            choices.append((str(user.pk), user.get_full_name() or user.get_username()))
        return choices

    def queryset(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
        value = self.value()
        through = Ticket.assignees.through.objects.filter(ticket_id=OuterRef("pk"))
        if value == self.MINE:
            return queryset.filter(Exists(through.filter(user_id=request.user.pk)))
        if value == self.NONE:
            return queryset.filter(~Exists(through))
        if value and value.isdigit():
            return queryset.filter(Exists(through.filter(user_id=int(value))))
        return queryset


class DepartmentFilter(admin.RelatedFieldListFilter):
    """Django's department filter, offering only the departments this agent works
    (``list_filter = [("department", DepartmentFilter)]``)."""

    def field_choices(self, field: Any, request: HttpRequest, model_admin: Any) -> list[tuple[Any, str]]:
        return [(d.pk, str(d)) for d in selectors.department_list(user=request.user)]


class AutocompleteListFilter(admin.ListFilter):
    """Filter on a relation by picking one row in Django's autocomplete widget.

    Made for relations with too many rows to list (thousands of clients, many tags).
    Use ``autocomplete_filter("client")``; the related model's admin needs
    ``search_fields`` and the field must be in the admin's autocomplete fields (the same
    rules as Django's autocomplete). Renders a small GET form, so it works without
    JavaScript too. A many-to-many relation is filtered with ``EXISTS`` on its through
    table rather than a join, so the list needs no ``DISTINCT`` over a million rows.
    """

    template = "admin/helpdesk/autocomplete_filter.html"
    field_name = ""

    def __init__(self, request: HttpRequest, params: dict, model: Any, model_admin: Any) -> None:
        self.field = model._meta.get_field(self.field_name)
        self.parameter_name = f"{self.field_name}__{self.field.target_field.name}__exact"
        self.title = self.field.verbose_name
        super().__init__(request, params, model, model_admin)
        value = params.pop(self.parameter_name, None)
        if isinstance(value, list):
            value = value[-1] if value else None
        self.lookup_val: int | None = None
        self.invalid = False
        if value not in (None, ""):
            self.used_parameters[self.parameter_name] = value
            if str(value).isdigit() and len(str(value)) <= 18:
                self.lookup_val = int(value)
            else:
                self.invalid = True  # matches nothing rather than raising an error page
        # A form field gives the widget the choices iterator it reads the selected row from.
        self.widget = forms.ModelChoiceField(
            queryset=self.field.remote_field.model._default_manager.all(),
            required=False,
            widget=AutocompleteSelect(self.field, model_admin.admin_site, attrs={"data-width": "100%"}),
        ).widget

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str]:
        return [self.parameter_name]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
        if self.invalid:
            return queryset.none()
        if self.lookup_val is None:
            return queryset
        if self.field.many_to_many:
            through = self.field.remote_field.through
            rows = through.objects.filter(**{
                self.field.m2m_field_name(): OuterRef("pk"),
                self.field.m2m_reverse_field_name(): self.lookup_val,
            })
            return queryset.filter(Exists(rows))
        return queryset.filter(**{self.field.attname: self.lookup_val})

    def choices(self, changelist: Any):
        # The template renders a form, not links; "All" clears the filter.
        hidden = [(k, v) for k, v in changelist.params.items() if k not in (self.parameter_name, "p")]
        yield {
            "selected": self.lookup_val is None and not self.invalid,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": _("All"),
            "widget": self.widget.render(
                self.parameter_name, self.lookup_val, attrs={"id": f"id_filter_{self.field_name}"}
            ),
            "hidden": hidden,
        }


def autocomplete_filter(field_name: str) -> type[AutocompleteListFilter]:
    """An ``AutocompleteListFilter`` for ``field_name``, for ``list_filter``."""
    return type(f"{field_name.title()}AutocompleteFilter", (AutocompleteListFilter,), {"field_name": field_name})
