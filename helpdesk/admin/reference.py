"""Admins of the reference data (departments, statuses, tags, clients and their contacts,
domains and projects, custom fields) and of the read-mostly conversation rows (replies,
status history). Replies are written from the ticket page; history is append-only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from .. import permissions, selectors, services
from ..models import (
    Client, ClientDomain, Contact, CustomField, Department, Project, Reply, ReplyType, StatusChange, Tag, TicketStatus,
)
from .pagination import EstimatedCountPaginator
from .tickets import badge, status_badge, user_name


class ReadOnlyAdminMixin:
    """Rows written only by the services (the conversation, the status history): staff
    read them here but never add or edit them, so dates, counters and history stay right."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "is_default", "description")
    list_filter = ("is_default",)
    search_fields = ("name",)


@admin.register(TicketStatus)
class TicketStatusAdmin(admin.ModelAdmin):
    list_display = ("title", "badge_display", "order", "is_closed", "colour")
    list_editable = ("order",)
    list_filter = ("is_closed",)
    search_fields = ("title",)
    ordering = ("order", "id")

    class Media:
        css = {"all": ("helpdesk/admin.css",)}

    @admin.display(description=_("looks like"))
    def badge_display(self, obj: TicketStatus) -> str:
        return status_badge(obj)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "tickets_link")
    search_fields = ("name",)

    @admin.display(description=_("tickets"))
    def tickets_link(self, obj: Tag) -> str:
        # A link, not a count: counting every tag's tickets on each view would not scale.
        url = reverse("admin:helpdesk_ticket_changelist") + f"?tags__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("show tickets"))


class ClientDomainInline(admin.TabularInline):
    model = ClientDomain
    extra = 1


class ProjectInline(admin.TabularInline):
    model = Project
    extra = 0
    show_change_link = True


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ("name", "external_id", "domain_list", "created_at", "tickets_link")
    search_fields = ("name", "external_id", "domains__domain")
    readonly_fields = ("created_at",)
    inlines = (ClientDomainInline, ContactInline, ProjectInline)
    list_per_page = 50
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Client]:
        return super().get_queryset(request).prefetch_related("domains")

    @admin.display(description=_("email domains"))
    def domain_list(self, obj: Client) -> str:
        return ", ".join(d.domain for d in obj.domains.all())

    @admin.display(description=_("tickets"))
    def tickets_link(self, obj: Client) -> str:
        url = reverse("admin:helpdesk_ticket_changelist") + f"?client__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("show tickets"))


@admin.register(ClientDomain)
class ClientDomainAdmin(admin.ModelAdmin):
    list_display = ("domain", "client")
    search_fields = ("domain", "client__name")
    autocomplete_fields = ("client",)
    list_select_related = ("client",)


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("user", "email", "client", "phone")
    search_fields = ("user__username", "user__email", "user__first_name", "user__last_name", "client__name")
    autocomplete_fields = ("user", "client")
    list_select_related = ("user", "client")

    @admin.display(description=_("email"), ordering="user__email")
    def email(self, obj: Contact) -> str:
        return obj.user.email


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "client")
    search_fields = ("name", "client__name")
    autocomplete_fields = ("client",)
    list_select_related = ("client",)


@admin.register(CustomField)
class CustomFieldAdmin(admin.ModelAdmin):
    list_display = ("label", "key", "type", "required", "enabled", "order")
    list_editable = ("order", "enabled")
    list_filter = ("type", "required", "enabled")
    search_fields = ("key", "label")
    ordering = ("order", "id")


@admin.register(Reply)
class ReplyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every reply and note, searchable; they are written on the ticket page."""

    list_display = ("__str__", "ticket_link", "kind", "author_name", "excerpt", "created_at")
    list_filter = ("type",)
    search_fields = ("text", "=ticket__id")
    list_select_related = ("ticket", "author")
    readonly_fields = ("ticket", "author", "type", "text", "created_at")
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50

    class Media:
        css = {"all": ("helpdesk/admin.css",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Reply]:
        # Only the replies of tickets this agent may see, notes only with view_note.
        return super().get_queryset(request).filter(selectors.reply_scope(request.user))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and not permissions.can_view_ticket(request.user, obj.ticket):
            return False
        return super().has_view_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None:
            return permissions.can_delete_reply(request.user, obj.ticket)
        return super().has_delete_permission(request, obj) and permissions.can_delete_reply(request.user)

    @admin.display(description=_("ticket"), ordering="ticket_id")
    def ticket_link(self, obj: Reply) -> str:
        url = reverse("admin:helpdesk_ticket_change", args=[obj.ticket_id])
        return format_html('<a href="{}">#{} {}</a>', url, obj.ticket_id, Truncator(obj.ticket.subject).chars(50))

    @admin.display(description=_("type"), ordering="type")
    def kind(self, obj: Reply) -> str:
        if obj.type == ReplyType.NOTE:
            return badge(str(_("internal note")), "#b45309")
        return badge(str(_("reply")), "#2563eb")

    @admin.display(description=_("author"), ordering="author__username")
    def author_name(self, obj: Reply) -> str:
        return user_name(obj.author)

    @admin.display(description=_("text"))
    def excerpt(self, obj: Reply) -> str:
        return Truncator(obj.text).chars(80)

    def delete_model(self, request: HttpRequest, obj: Reply) -> None:
        services.reply_delete(reply=obj, by=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Reply]) -> None:
        for reply in queryset:
            services.reply_delete(reply=reply, by=request.user)


@admin.register(StatusChange)
class StatusChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The append-only status history: read-only here."""

    list_display = ("ticket_link", "from_badge", "to_badge", "changed_at", "by")
    list_filter = ("to_status",)
    search_fields = ("=ticket__id",)
    list_select_related = ("ticket", "from_status", "to_status", "changed_by")
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50

    class Media:
        css = {"all": ("helpdesk/admin.css",)}


    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[StatusChange]:
        return super().get_queryset(request).filter(selectors.ticket_scope(request.user, "ticket__"))

    @admin.display(description=_("ticket"), ordering="ticket_id")
    def ticket_link(self, obj: StatusChange) -> str:
        url = reverse("admin:helpdesk_ticket_change", args=[obj.ticket_id])
        return format_html('<a href="{}">#{}</a>', url, obj.ticket_id)

    @admin.display(description=_("from"))
    def from_badge(self, obj: StatusChange) -> str:
        return status_badge(obj.from_status) if obj.from_status else "—"

    @admin.display(description=_("to"))
    def to_badge(self, obj: StatusChange) -> str:
        return status_badge(obj.to_status)

    @admin.display(description=_("by"), ordering="changed_by__username")
    def by(self, obj: StatusChange) -> str:
        return user_name(obj.changed_by)
