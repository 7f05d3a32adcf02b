"""Department-scoped agents: which departments an agent may work (``AgentAccess``).

Managed on the agent: an inline on the site's user admin (when it is registered in the
same admin site), and a list of every limited agent under Helpdesk › Agent department
access. An agent with no row works every department.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from ..models import AgentAccess
from .users import user_autocomplete_available


class AgentAccessInline(admin.StackedInline):
    """On the user's page: limit this agent to some departments (none: unlimited)."""

    model = AgentAccess
    fk_name = "user"
    can_delete = True
    max_num = 1
    extra = 0
    filter_horizontal = ("departments",)
    verbose_name = _("department access (leave empty for every department)")
    verbose_name_plural = _("department access (none: every department)")


@admin.register(AgentAccess)
class AgentAccessAdmin(admin.ModelAdmin):
    list_display = ("user", "department_list")
    search_fields = ("user__username", "user__email", "user__first_name", "user__last_name")
    filter_horizontal = ("departments",)
    list_select_related = ("user",)

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).prefetch_related("departments")

    def get_autocomplete_fields(self, request: HttpRequest) -> tuple[str, ...]:
        return ("user",) if user_autocomplete_available(self.admin_site) else ()

    def get_raw_id_fields(self, request: HttpRequest) -> tuple[str, ...]:
        return () if user_autocomplete_available(self.admin_site) else ("user",)

    @admin.display(description=_("departments"))
    def department_list(self, obj: AgentAccess) -> str:
        names = [d.name for d in obj.departments.all()]
        return ", ".join(names) if names else str(_("none (no tickets)"))


def attach_to_user_admin(site: admin.AdminSite = admin.site) -> None:
    """Add ``AgentAccessInline`` to the site's user admin, once, if it has one."""
    user_admin = site._registry.get(get_user_model())
    if user_admin is not None and AgentAccessInline not in user_admin.inlines:
        user_admin.inlines = [*user_admin.inlines, AgentAccessInline]


attach_to_user_admin()
