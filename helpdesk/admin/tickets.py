"""The ticket admin: the list agents work from, the ticket page with its conversation,
reply form and status timeline, the bulk actions, and the overview page.

Every write goes through ``helpdesk.services`` (``save_model``/``save_related`` are
overridden), so the admin keeps the same history, dates and counters as the API.
The list is built to stay fast at a million tickets: related rows are fetched in bulk,
the count is capped (see ``pagination``), facets are off.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import (
    AutocompleteSelect, ForeignKeyRawIdWidget, ManyToManyRawIdWidget, RelatedFieldWidgetWrapper,
)
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import ngettext

from .. import attachments, permissions, reports, selectors, services
from ..conf import helpdesk_settings
from ..search import search_tickets
from ..models import Channel, Priority, Reply, ReplyType, StatusChange, Ticket, TicketOverview, TicketStatus
from .actions import TicketActionsMixin, error_messages, user_name
from .busy import DatabaseBusyMixin
from .filters import ActiveStateFilter, AssigneeFilter, DepartmentFilter, autocomplete_filter
from .forms import ReplyForm, TicketActionForm, TicketAdminForm
from .overview import OVERVIEW_DAYS, chart, duration_text, overview_extras
from .pagination import EstimatedCountPaginator
from .users import user_autocomplete_available
from .workplace import (
    AgentChoiceField, SLAFilter, TicketPageMixin, WorkingViewFilter, sla_line, when,
)

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
PRIORITY_COLOURS = {Priority.NORMAL: "#64748b", Priority.HIGH: "#ea580c", Priority.URGENT: "#dc2626"}
#: The ticket page shows at most this many of the latest replies (a link leads to the rest).
THREAD_LIMIT = 200
#: Fields ``services.ticket_update`` changes; the form's other fields have their own services.
UPDATABLE_FIELDS = (
    "subject", "message", "department", "client", "project", "priority", "requester",
    "type", "severity", "product", "time_spent", "metadata",
)


def safe_colour(colour: str) -> str:
    """``colour`` if it is a plain hex value (it goes into a style attribute), else grey."""
    return colour if HEX_COLOUR.match(colour or "") else "#6b7280"


def badge(text: str, colour: str, *, css: str = "") -> str:
    """A coloured pill."""
    colour = safe_colour(colour)
    return format_html('<span class="hd-badge {}" style="--hd-badge: {}">{}</span>', css, colour, text)


def status_badge(status: TicketStatus) -> str:
    return badge(status.title, status.colour, css="hd-status")


def priority_badge(priority: int) -> str:
    value = Priority(priority)
    return badge(str(value.label), PRIORITY_COLOURS[value], css=f"hd-priority hd-priority-{value.slug}")


@admin.register(Ticket)
class TicketAdmin(DatabaseBusyMixin, TicketPageMixin, TicketActionsMixin, admin.ModelAdmin):
    form = TicketAdminForm
    action_form = TicketActionForm
    # Eight columns fit beside the filters at 1280 px: client, department and requester are
    # a second line under the subject (see ``TicketPageMixin.subject_line``).
    list_display = (
        "ticket_id", "subject_line", "status_display", "priority_display",
        "assignee_list", "updated_display", "reply_count",
    )
    # One link per row: reversing the change URL is a noticeable share of rendering 50 rows.
    list_display_links = ("subject_line",)
    list_filter = (
        WorkingViewFilter,
        ActiveStateFilter,
        SLAFilter,
        "status",
        "priority",
        ("department", DepartmentFilter),
        AssigneeFilter,
        autocomplete_filter("tags"),
        autocomplete_filter("client"),
        "channel",
    )
    search_fields = ("subject", "message", "client__name", "requester__email")
    search_help_text = gettext_lazy("Search subject, message, client, requester email, or #id.")
    autocomplete_fields = ("client", "project", "tags")
    # Django appends "-pk" itself for a stable order; naming it here would put a "2" sort
    # marker on the ID column.
    ordering = ("-updated_at",)
    list_per_page = 50
    list_max_show_all = 500
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator
    readonly_fields = (
        "channel", "active_state", "creator", "replies_count", "notes_count",
        "created_at_display", "updated_at_display", "status_changed_at_display", "first_response_at_display",
        "last_reply_at_display", "closed_at_display",
        "external_source", "external_id", "external_url",
    )
    fieldsets = (
        (None, {"fields": ("subject", "message", "version")}),
        (gettext_lazy("Handling"), {"fields": (("status", "priority"), "department", "assignees", "tags", "new_tags")}),
        (gettext_lazy("Customer"), {"fields": ("client", "project", "requester", "cc_addresses")}),
        (gettext_lazy("Classification"), {"fields": (("type", "severity"), "product", "time_spent")}),
        (gettext_lazy("Custom fields and metadata"), {"fields": ("custom_fields", "metadata"), "classes": ("collapse",)}),
        (gettext_lazy("Dates"), {"fields": (
            ("created_at_display", "updated_at_display"), ("status_changed_at_display", "closed_at_display"),
            ("first_response_at_display", "last_reply_at_display"),
        )}),
        (gettext_lazy("Origin"), {
            "fields": (("channel", "active_state"), "creator", ("replies_count", "notes_count"),
                       ("external_source", "external_id"), "external_url"),
            "classes": ("collapse",),
        }),
    )
    actions = ("assign_to_me", "unassign", "add_tag", "merge_into", "archive", "restore")

    # -- reading ---------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Ticket]:
        """The selector's queryset: what this user may see, related rows fetched in bulk."""
        return selectors.ticket_list(user=request.user)

    def get_autocomplete_fields(self, request: HttpRequest) -> tuple[str, ...]:
        fields = tuple(self.autocomplete_fields)
        if user_autocomplete_available(self.admin_site):
            fields += ("requester", "assignees")
        return fields

    @property
    def media(self) -> Any:
        # The list's autocomplete filters need Django's select2 on the change list too.
        # (Defining ``media`` here means a ``class Media`` would be ignored: ours goes here too.)
        widget = AutocompleteSelect(Ticket._meta.get_field("client"), self.admin_site)
        own = forms.Media(css={"all": ("helpdesk/admin.css",)}, js=("helpdesk/admin.js",))
        return super().media + widget.media + own

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Ticket], search_term: str):
        """``#123`` finds ticket 123; anything else is ``helpdesk.search.search_tickets``, as in the API."""
        term = search_term.strip()
        match = re.fullmatch(r"#\s*(\d{1,18})", term)
        if match:
            return queryset.filter(pk=int(match[1])), False
        if not term:
            return queryset, False
        # The API's search too: full-text (GIN-indexed) on PostgreSQL, so it stays fast at scale.
        return search_tickets(queryset, term, user=request.user), False

    #: Fields whose picker keeps Django's "view selected" link (the others have no links).
    view_related_fields = ("client", "project", "requester")
    #: People pickers: autocomplete when the site's user admin allows it, else raw ids, so the
    #: page never renders a <select> of every user.
    user_fields = ("requester", "assignees")

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        widget = getattr(field, "widget", None)
        if isinstance(widget, RelatedFieldWidgetWrapper):
            # Agents pick statuses, departments and people here; they do not add, edit or
            # delete them from the ticket page. A wrapper without links is only a template to
            # render (a noticeable share of the page), so it goes; the pickers in
            # ``view_related_fields`` keep Django's wrapper for its "view selected" link.
            if db_field.name in self.view_related_fields:
                widget.can_add_related = widget.can_change_related = widget.can_delete_related = False
                widget.can_view_related = True
            else:
                field.widget = widget.widget
        return field

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "assignees" and "widget" not in kwargs:
            # Agents are tens, not thousands: a list of names to tick (everything else shows
            # names too), never usernames from the user admin's autocomplete.
            return AgentChoiceField(db_field, required=False)
        if db_field.name in self.user_fields and "widget" not in kwargs and not self._user_autocomplete(request):
            kwargs["widget"] = ManyToManyRawIdWidget(db_field.remote_field, self.admin_site)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _user_autocomplete(self, request: HttpRequest) -> bool:
        return "requester" in self.get_autocomplete_fields(request)

    def action_checkbox(self, obj: Ticket) -> str:
        """Django's row checkbox, written directly: rendering the widget's template for
        every row costs more than the rest of the row."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME, obj.pk, _("Select this object for an action - %(obj)s") % {"obj": obj},
        )

    @admin.display(description=gettext_lazy("ID"), ordering="id")
    def ticket_id(self, obj: Ticket) -> str:
        return f"#{obj.pk}"

    @admin.display(description=gettext_lazy("status · SLA"), ordering="status__order")
    def status_display(self, obj: Ticket) -> str:
        return format_html("{}{}", status_badge(obj.status), sla_line(obj))

    @admin.display(description=gettext_lazy("priority"), ordering="priority")
    def priority_display(self, obj: Ticket) -> str:
        return priority_badge(obj.priority)

    @admin.display(description=gettext_lazy("assignees"))
    def assignee_list(self, obj: Ticket) -> str:
        names = [user_name(u) for u in obj.assignees.all()]  # prefetched by the selector
        if not names:
            return format_html('<span class="hd-muted">{}</span>', _("unassigned"))
        return ", ".join(names)

    @admin.display(description=gettext_lazy("requester"), ordering="requester__email")
    def requester_display(self, obj: Ticket) -> str:
        if obj.requester is None:
            return ""
        return obj.requester.email or user_name(obj.requester)

    @admin.display(description=gettext_lazy("updated"), ordering="updated_at")
    def updated_display(self, obj: Ticket) -> str:
        stamp = timezone.localtime(obj.updated_at)
        if timezone.now() - obj.updated_at < datetime.timedelta(minutes=1):
            text = _("just now")
        else:
            text = _("%(t)s ago") % {"t": timesince(stamp).split(",")[0]}
        return format_html('<time datetime="{}" title="{}">{}</time>', stamp.isoformat(), when(obj.updated_at), text)

    @admin.display(description=gettext_lazy("replies"), ordering="replies_count")
    def reply_count(self, obj: Ticket) -> str:
        if obj.notes_count:
            notes = ngettext("%(n)d note", "%(n)d notes", obj.notes_count) % {"n": obj.notes_count}
            return format_html('{} <span class="hd-muted hd-notes">{}</span>', obj.replies_count, notes)
        return str(obj.replies_count)

    # -- permissions -----------------------------------------------------------------

    # Asked of ``helpdesk.permissions``, as the API does: model permissions, and an
    # agent limited to some departments only on their tickets.

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return permissions.is_agent(request.user) and permissions.can_view_ticket(request.user, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return permissions.is_agent(request.user) and permissions.can_add_ticket(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return permissions.can_change_ticket(request.user, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return permissions.can_delete_ticket(request.user, obj)

    def has_archive_permission(self, request: HttpRequest) -> bool:
        return permissions.can_archive_ticket(request.user)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "department" and "queryset" not in kwargs:
            # Only the departments this agent works (the service refuses the others too).
            kwargs["queryset"] = selectors.department_list(user=request.user)
        if db_field.name in self.user_fields and "widget" not in kwargs and not self._user_autocomplete(request):
            kwargs["widget"] = ForeignKeyRawIdWidget(db_field.remote_field, self.admin_site)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # -- writing, through the services ---------------------------------------------------

    def changeform_view(self, request: HttpRequest, object_id: str | None = None, form_url: str = "",
                        extra_context: dict | None = None) -> HttpResponse:
        extra_context = dict(extra_context or {})
        if object_id is not None:
            # On POST the form edits the cached instance; the page around it shows the saved one.
            extra_context.update(self._ticket_page_context(request, object_id, fresh=request.method == "POST"))
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            # A rule the form could not check (e.g. a race): the transaction was rolled back.
            for message in error_messages(exc):
                self.message_user(request, message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Ticket | None:
        # The ticket page needs the ticket before Django's view fetches it: fetch it once.
        cache = request.__dict__.setdefault("_helpdesk_tickets", {})
        key = (object_id, from_field)
        if key not in cache:
            cache[key] = super().get_object(request, object_id, from_field)
        return cache[key]

    def _ticket_page_context(self, request: HttpRequest, object_id: str, fresh: bool = False) -> dict[str, Any]:
        getter = super().get_object if fresh else self.get_object
        ticket = getter(request, unquote(object_id))
        if ticket is None:
            return {}
        latest = list(selectors.reply_list(user=request.user, ticket=ticket).order_by("-created_at", "-id")[: THREAD_LIMIT + 1])
        hidden = len(latest) > THREAD_LIMIT
        replies = list(reversed(latest[:THREAD_LIMIT]))
        mail_html = self._mail_html(ticket)
        for reply in replies:
            reply.author_name = user_name(reply.author)
            reply.by_agent = reply.author is not None and reply.author.is_staff
            reply.files = self._with_admin_urls(ticket, reply.attachments.all())
            reply.mail_html = mail_html.get(reply.pk, "")
        history = list(selectors.status_history(ticket=ticket, user=request.user))
        for change in history:
            change.dot_colour = safe_colour(change.to_status.colour)
        can_post_reply = permissions.can_add_reply(request.user, ticket)
        can_post_note = permissions.can_add_note(request.user, ticket)
        can_reply = can_post_reply or can_post_note
        return {
            "ticket": ticket,
            "ticket_mail_html": mail_html.get(None, ""),
            "ticket_files": self._with_admin_urls(ticket, getattr(ticket, "message_attachments", None)
                                                   or ticket.attachments.filter(reply__isnull=True)),
            "original_author": user_name(ticket.requester or ticket.creator),
            "thread": replies,
            "thread_truncated": hidden,
            "replies_url": reverse("admin:helpdesk_reply_changelist") + f"?ticket__id__exact={ticket.pk}",
            "history": history,
            "reply_form": ReplyForm(auto_id="id_reply_%s") if can_reply else None,
            "can_post_reply": can_post_reply,
            "can_post_note": can_post_note,
            "reply_url": reverse("admin:helpdesk_ticket_reply", args=[ticket.pk]),
            "merged_into": ticket.merged_into_id,
            "status_badge": status_badge(ticket.status),
            "sla_line": sla_line(ticket, long=True),
            "priority_badge": priority_badge(ticket.priority),
        }

    def _mail_html(self, ticket: Ticket) -> dict[int | None, str]:
        """The received mails' HTML by reply id (None: the ticket's first message), ready to show."""
        from ..mail.parse import display_html
        from ..models import Attachment, MailMessage

        rows = MailMessage.objects.filter(ticket=ticket, direction="in").exclude(html="").values_list("reply_id", "html")
        if not rows:
            return {}
        cid_urls = {
            cid: reverse("admin:helpdesk_ticket_attachment", args=[ticket.pk, pk])
            for pk, cid in Attachment.objects.filter(ticket=ticket).exclude(content_id="").values_list("pk", "content_id")
        }
        return {reply_id: display_html(html, cid_urls) for reply_id, html in rows}

    @staticmethod
    def _with_admin_urls(ticket: Ticket, files: Any) -> list[Any]:
        files = list(files)
        for file in files:
            file.admin_url = reverse("admin:helpdesk_ticket_attachment", args=[ticket.pk, file.pk])
        return files

    def attachment_view(self, request: HttpRequest, object_id: str, attachment_id: int) -> HttpResponse:
        """Download a file of this ticket's conversation, if the agent may see it (the selector decides)."""
        from ..models import Attachment

        try:
            attachment = selectors.attachment_get(user=request.user, pk=attachment_id)
        except Attachment.DoesNotExist:
            attachment = None
        if attachment is None or str(attachment.ticket_id) != unquote(object_id):
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        return attachments.download_response(attachment)

    def save_model(self, request: HttpRequest, obj: Ticket, form: TicketAdminForm, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            ticket = services.ticket_create(
                subject=data["subject"], message=data["message"], department=data["department"],
                client=data["client"], project=data.get("project"), priority=data["priority"],
                creator=request.user, requester=data.get("requester"), channel=Channel.WEB,
                status=data.get("status"), assignees=data.get("assignees") or (),
                tags=[t.name for t in data.get("tags") or ()] + data.get("new_tags", []),
                custom_fields=data.get("custom_fields") or {}, type=data.get("type", ""),
                severity=data.get("severity", ""), product=data.get("product", ""),
                time_spent=data.get("time_spent") or 0, metadata=data.get("metadata") or {},
            )
            if data.get("cc_addresses"):
                services.ticket_set_cc(ticket=ticket, cc=data["cc_addresses"], by=request.user)
            # The admin goes on with ``obj`` (log entry, redirect): make it the new row.
            state = obj._state
            obj.__dict__.update({k: v for k, v in ticket.__dict__.items() if k != "_state"})
            state.adding, state.db = False, ticket._state.db
            return
        # Work on a fresh row, not the form-modified instance, so no stale column is written.
        ticket = Ticket.objects.get(pk=obj.pk)
        changed = set(form.changed_data)
        # The reply box is part of this form: its reply goes first, so a status picked
        # beside "Send reply" wins over STATUS_ON_AGENT_REPLY, as the agent meant.
        self.post_reply_from_form(request, form, ticket)
        if "status" in changed:
            services.ticket_change_status(ticket=ticket, status=data["status"], by=request.user)
        updates = {name: data[name] for name in UPDATABLE_FIELDS if name in changed}
        if "custom_fields" in changed:
            updates["custom_fields"] = form.custom_fields_changes()
        if updates:
            services.ticket_update(ticket=ticket, by=request.user, **updates)
        if "cc_addresses" in changed:
            services.ticket_set_cc(ticket=ticket, cc=data["cc_addresses"], by=request.user)

    def save_related(self, request: HttpRequest, form: TicketAdminForm, formsets: Any, change: bool) -> None:
        if not change:
            return  # ticket_create set the tags and assignees
        ticket = form.instance
        changed = set(form.changed_data)
        data = form.cleaned_data
        if "tags" in changed or data.get("new_tags"):
            names = [t.name for t in data.get("tags") or ()] + data.get("new_tags", [])
            services.ticket_set_tags(ticket=ticket, tags=names, by=request.user)
        if "assignees" in changed:
            services.ticket_set_assignees(ticket=ticket, assignees=list(data.get("assignees") or ()), by=request.user)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple:
        # A ticket's replies and history go with it: the delete_ticket permission covers them
        # (as in the API), even though history cannot be deleted on its own.
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        from ..models import Attachment, MailMessage

        own = {str(Reply._meta.verbose_name), str(StatusChange._meta.verbose_name),
               str(Attachment._meta.verbose_name), str(MailMessage._meta.verbose_name)}
        return deleted, model_count, {p for p in perms_needed if str(p) not in own}, protected

    def delete_model(self, request: HttpRequest, obj: Ticket) -> None:
        services.ticket_delete(ticket=obj, by=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        for ticket in queryset:
            services.ticket_delete(ticket=ticket, by=request.user)

    # -- the reply form and the overview --------------------------------------------------

    def get_urls(self) -> list:
        info = self.opts.app_label, self.opts.model_name
        return [
            path("overview/", self.admin_site.admin_view(self.overview_view), name="%s_%s_overview" % info),
            path("<path:object_id>/reply/", self.admin_site.admin_view(self.reply_view), name="%s_%s_reply" % info),
            path(
                "<path:object_id>/attachment/<int:attachment_id>/", self.admin_site.admin_view(self.attachment_view),
                name="%s_%s_attachment" % info,
            ),
        ] + super().get_urls()

    def reply_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """POST a reply or an internal note (optionally changing the status) from the ticket page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_view_permission(request):
            raise PermissionDenied
        ticket = self.get_object(request, unquote(object_id))
        if ticket is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        may = {ReplyType.REPLY: permissions.can_add_reply(request.user, ticket),
               ReplyType.NOTE: permissions.can_add_note(request.user, ticket)}
        if not any(may.values()) or (request.POST.get("type") in may and not may[request.POST["type"]]):
            raise PermissionDenied
        change_url = reverse("admin:helpdesk_ticket_change", args=[ticket.pk])
        form = ReplyForm(request.POST, request.FILES)
        if not form.is_valid():
            for field, errors in form.errors.items():
                label = form.fields[field].label if field in form.fields else ""
                for error in errors:
                    self.message_user(request, f"{label}: {error}" if label else error, messages.ERROR)
            return HttpResponseRedirect(change_url + "#reply")
        data = form.cleaned_data
        try:
            with transaction.atomic():
                reply = services.reply_post(ticket=ticket, author=request.user, text=data["text"], type=data["type"])
                if data.get("files"):
                    attachments.attachments_add(
                        ticket=ticket, reply=reply, by=request.user,
                        files=[attachments.IncomingFile.from_upload(f) for f in data["files"]],
                    )
                status = data.get("status")
                if status is not None:
                    services.ticket_change_status(ticket=ticket, status=status, by=request.user)
        except ValidationError as exc:
            for message in error_messages(exc):
                self.message_user(request, message, messages.ERROR)
            return HttpResponseRedirect(change_url + "#reply")
        kind = _("Internal note") if reply.type == ReplyType.NOTE else _("Reply")
        self.log_change(request, ticket, _("%(kind)s added.") % {"kind": kind})
        self.message_user(request, _("%(kind)s posted.") % {"kind": kind}, messages.SUCCESS)
        return HttpResponseRedirect(change_url + f"#reply-{reply.pk}")

    def overview_view(self, request: HttpRequest) -> HttpResponse:
        """Open tickets by status, department and priority; 30 days of created vs closed."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        days = OVERVIEW_DAYS.get(request.GET.get("days", ""), 30)
        data = reports.overview(days=days, use_cache="refresh" not in request.GET, user=request.user)
        for bucket in data.by_status:
            bucket.colour = safe_colour(bucket.colour)
        changelist = reverse("admin:helpdesk_ticket_changelist")
        open_ids = ",".join(str(b.key) for b in data.by_status)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Helpdesk overview"),
            "opts": self.opts,
            "overview": data,
            "chart": chart(data.daily),
            "max_status": max([b.count for b in data.by_status] or [0]) or 1,
            "max_department": max([b.count for b in data.by_department] or [0]) or 1,
            "max_priority": max([b.count for b in data.by_priority] or [0]) or 1,
            "cache_seconds": helpdesk_settings.OVERVIEW_CACHE_SECONDS,
            "changelist_url": changelist,
            "open_ids": open_ids,
            "first_response": duration_text(data.median_first_response),
            "resolution": duration_text(data.median_resolution),
            "media": self.media,
            **overview_extras(data, days),
        }
        return TemplateResponse(request, "admin/helpdesk/ticket/overview.html", context)

@admin.register(TicketOverview)
class TicketOverviewAdmin(admin.ModelAdmin):
    """Puts "Overview" in the admin index; its page is the ticket admin's overview view."""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return permissions.is_agent(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_model_perms(self, request: HttpRequest) -> dict[str, bool]:
        return {"view": self.has_view_permission(request)}

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return HttpResponseRedirect(reverse("admin:helpdesk_ticket_overview"))

    def get_urls(self) -> list:
        return [path("", self.admin_site.admin_view(self.changelist_view), name="helpdesk_ticketoverview_changelist")]
