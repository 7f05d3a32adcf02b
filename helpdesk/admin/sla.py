"""Admins of the SLA setup: business-hours calendars (with their holidays) and policies.

The rules (which policy a ticket gets, due times, pauses) are in ``helpdesk.sla`` and the
services; these pages only edit the rows those rules read.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from ..models import BusinessCalendar, Holiday, SLAPolicy


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ("name", "time_zone", "working_days", "opens_at", "closes_at")
    search_fields = ("name",)
    inlines = (HolidayInline,)


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ("date", "name", "calendar")
    list_filter = ("calendar",)
    search_fields = ("name",)
    date_hierarchy = "date"


def _minutes(value: int | None) -> str:
    if value is None:
        return "—"
    hours, minutes = divmod(value, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


@admin.register(SLAPolicy)
class SLAPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "priority", "department", "client", "calendar", "first_response", "resolution", "is_active")
    list_filter = ("is_active", "priority", "department", "calendar")
    search_fields = ("name", "client__name")
    autocomplete_fields = ("client",)
    fieldsets = (
        (None, {"fields": ("name", "is_active")}),
        (_("Applies to"), {"fields": ("priority", "department", "client"),
                           "description": _("The most specific matching policy wins: client, then department, then priority.")}),
        (_("Targets"), {"fields": ("calendar", "first_response_minutes", "resolution_minutes")}),
    )

    @admin.display(description=_("first response"), ordering="first_response_minutes")
    def first_response(self, obj: SLAPolicy) -> str:
        return _minutes(obj.first_response_minutes)

    @admin.display(description=_("resolution"), ordering="resolution_minutes")
    def resolution(self, obj: SLAPolicy) -> str:
        return _minutes(obj.resolution_minutes)
