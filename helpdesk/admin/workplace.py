"""The agents' workplace on top of the ticket admin: the working views ("My open",
"Unassigned", ...), the one-form ticket page (the reply box saves the details too), one
date format, and the agent picker that shows names.

Rules stay in the services and selectors; this module only arranges the page.
"""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .. import services, sla
from ..conf import helpdesk_settings
from ..models import Priority, Ticket, TicketStatus

#: The one date format of the ticket pages (Django's ``date`` filter syntax).
DATE_FORMAT = "M j, Y H:i"


def when(value: datetime.datetime | None) -> str:
    """``value`` in the site's time zone, in the workplace's one format ("" for None)."""
    if value is None:
        return ""
    return date_format(timezone.localtime(value), DATE_FORMAT)


def when_html(value: datetime.datetime | None) -> str:
    if value is None:
        return "—"
    return format_html('<time datetime="{}">{}</time>', timezone.localtime(value).isoformat(), when(value))


def date_display(name: str, label: Any) -> Any:
    """A read-only admin field showing the date ``name`` in the one format."""
    @admin.display(description=label)
    def show(self: Any, obj: Ticket) -> str:
        return when_html(getattr(obj, name))
    show.__name__ = f"{name}_display"
    return show


def agent_name(user: Any) -> str:
    return user.get_full_name() or user.get_username()


class AgentChoiceField(forms.ModelMultipleChoiceField):
    """The agents a ticket may be assigned to, as names to tick."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, db_field: Any, **kwargs: Any) -> None:
        model = db_field.remote_field.model
        queryset = model._default_manager.complex_filter(db_field.get_limit_choices_to())
        queryset = queryset.order_by("first_name", "last_name", model.USERNAME_FIELD)
        kwargs.setdefault("label", db_field.verbose_name.capitalize())
        super().__init__(queryset=queryset, **kwargs)

    def label_from_instance(self, obj: Any) -> str:
        return agent_name(obj)


def waiting_status_ids() -> list[int]:
    return list(helpdesk_settings.WAITING_ON_CUSTOMER_STATUS_IDS)


class WorkingViewFilter(admin.SimpleListFilter):
    """The queues an agent works from, one click each; the default is every open ticket.

    A status picked in the status filter shows that status whatever the view (so "Closed"
    finds closed tickets without first choosing "All").
    """

    title = gettext_lazy("view")
    parameter_name = "view"
    OPEN, MINE, UNASSIGNED, WAITING, BREACHING, CLOSED, ALL = (
        "open", "mine", "unassigned", "waiting", "breaching", "closed", "all",
    )

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            (self.MINE, _("My open")),
            (self.UNASSIGNED, _("Unassigned")),
            (self.OPEN, _("All open")),
            (self.WAITING, _("Waiting on customer")),
            (self.BREACHING, _("Breaching SLA")),
            (self.CLOSED, _("Closed")),
            (self.ALL, _("All")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
        value = self.value()
        if value is None and any(key.startswith("status__") for key in request.GET):
            return queryset
        value = value or self.OPEN
        through = Ticket.assignees.through.objects.filter(ticket_id=OuterRef("pk"))
        if value == self.ALL:
            return queryset
        # Status ids spelled out (statuses are a handful of rows), not a join: the list's
        # (active_state, updated_at) index then serves the default view at a million tickets.
        closed_ids = list(TicketStatus.objects.filter(is_closed=True).values_list("pk", flat=True))
        open_q = ~Q(status_id__in=closed_ids)
        if value == self.CLOSED:
            return queryset.filter(status_id__in=closed_ids)
        if value == self.MINE:
            return queryset.filter(open_q, Exists(through.filter(user_id=request.user.pk)))
        if value == self.UNASSIGNED:
            return queryset.filter(open_q, ~Exists(through))
        if value == self.WAITING:
            return queryset.filter(open_q, status_id__in=waiting_status_ids())
        if value == self.BREACHING:
            return queryset.filter(open_q, sla.breaching_q(timezone.now()))
        return queryset.filter(open_q)

    def choices(self, changelist: Any):
        value = self.value()
        if value is None and any(key.startswith("status__") for key in changelist.params):
            value = self.ALL
        value = value or self.OPEN
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == lookup,
                "query_string": changelist.get_query_string(
                    {self.parameter_name: lookup} if lookup != self.OPEN else {},
                    [self.parameter_name, "status__id__exact", "p"] if lookup == self.OPEN else ["status__id__exact", "p"],
                ),
                "display": title,
                "value": lookup,
            }


def sla_line(ticket: Ticket, *, long: bool = False) -> str:
    """The ticket's SLA as an agent reads it: "due in 2 h", "breached 3 h ago", "paused"."""
    state = sla.sla_state(ticket)
    if state.state == "none":
        return ""
    text = state.text
    if state.state == "paused" and not long:
        text = _("SLA paused")
    if long and state.target:
        label = _("First response") if state.target == "first_response" else _("Resolution")
        text = f"{label}: {text}"
    title = when(state.due_at) if state.due_at else ""
    return format_html('<span class="hd-sla hd-sla-{}" title="{}">{}</span>', state.state, title, text)


class SLAFilter(admin.SimpleListFilter):
    """Tickets by where their SLA stands now."""

    title = gettext_lazy("SLA")
    parameter_name = "sla"
    BREACHED, SOON, PAUSED, NONE = "breached", "soon", "paused", "none"
    SOON_HOURS = 2

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            (self.BREACHED, _("Breached")),
            (self.SOON, _("Due within 2 h")),
            (self.PAUSED, _("Paused (waiting on customer)")),
            (self.NONE, _("No SLA")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
        value, now = self.value(), timezone.now()
        if value == self.BREACHED:
            return queryset.filter(sla.breaching_q(now))
        if value == self.SOON:
            return queryset.filter(sla.due_soon_q(now, datetime.timedelta(hours=self.SOON_HOURS)))
        if value == self.PAUSED:
            return queryset.filter(closed_at__isnull=True, sla_paused_at__isnull=False)
        if value == self.NONE:
            return queryset.filter(first_response_due_at__isnull=True, resolution_due_at__isnull=True)
        return queryset


REPLY_FIELDS = ("reply_text", "reply_type", "canned_reply")


def canned_choices(request: HttpRequest, ticket: Ticket) -> list[dict[str, Any]]:
    """The canned replies this agent may use, each rendered for ``ticket`` (for the picker)."""
    from django.core.exceptions import ValidationError

    from ..canned import render
    from ..selectors import canned_reply_list

    choices = []
    for canned in canned_reply_list(user=request.user):
        try:
            text = render(canned.body, ticket=ticket, agent=request.user)
        except ValidationError:
            continue  # saved before a rule tightened: not offered until fixed
        extra = []
        if canned.status_id:
            extra.append(_("sets status %(s)s") % {"s": canned.status.title})
        if canned.tag_names:
            extra.append(_("adds tags %(t)s") % {"t": ", ".join(canned.tag_names)})
        choices.append({"id": canned.pk, "title": canned.title, "text": text, "shared": canned.is_shared,
                        "extra": "; ".join(extra)})
    return choices


class TicketPageMixin:
    """The ticket admin's page and list arrangement (mixed into ``TicketAdmin``)."""

    created_at_display = date_display("created_at", gettext_lazy("created"))
    updated_at_display = date_display("updated_at", gettext_lazy("updated"))
    status_changed_at_display = date_display("status_changed_at", gettext_lazy("status changed"))
    first_response_at_display = date_display("first_response_at", gettext_lazy("first response"))
    last_reply_at_display = date_display("last_reply_at", gettext_lazy("last reply"))
    closed_at_display = date_display("closed_at", gettext_lazy("closed"))

    @admin.display(description=gettext_lazy("subject"), ordering="subject")
    def subject_line(self, obj: Ticket) -> str:
        """The subject, and under it who it is for: client · department · requester."""
        requester = ""
        if obj.requester is not None:
            requester = obj.requester.email or agent_name(obj.requester)
        parts = [str(obj.client), str(obj.department)] + ([requester] if requester else [])
        return format_html(
            '<span class="hd-subject">{}</span><span class="hd-row-meta">{}</span>',
            obj.subject, " · ".join(parts),
        )

    def get_fieldsets(self, request: HttpRequest, obj: Ticket | None = None) -> Any:
        """On a saved ticket the status is picked in the reply box (one place) and the
        opening message is read in the conversation (it is the customer's words)."""
        fieldsets = super().get_fieldsets(request, obj)  # type: ignore[misc]
        if obj is None:
            return fieldsets
        drop = {"status", "message"}
        result = []
        for name, options in fieldsets:
            fields = []
            for field in options["fields"]:
                if isinstance(field, (list, tuple)):
                    kept = tuple(f for f in field if f not in drop)
                    if kept:
                        fields.append(kept if len(kept) > 1 else kept[0])
                elif field not in drop:
                    fields.append(field)
            result.append((name, {**options, "fields": tuple(fields)}))
        return tuple(result)

    def get_form(self, request: HttpRequest, obj: Ticket | None = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is not None and self.has_change_permission(request, obj):  # type: ignore[attr-defined]
            fields = kwargs.get("fields") or flatten_fieldsets(self.get_fieldsets(request, obj))
            if "status" not in fields:
                kwargs["fields"] = [*fields, "status"]
        form = super().get_form(request, obj, change, **kwargs)  # type: ignore[misc]
        return type(form.__name__, (form,), {"hd_user": request.user})

    def changeform_view(self, request: HttpRequest, object_id: str | None = None, form_url: str = "",
                        extra_context: dict | None = None) -> HttpResponse:
        if request.method == "POST" and "_reply" in request.POST and "_continue" not in request.POST:
            # "Send reply" is a save button (and stays on the page): Django 6.1 otherwise
            # reads a POST without one of its own save buttons as the change form's action bar.
            post = request.POST.copy()
            post["_continue"] = "1"
            request.POST = post
        extra_context = dict(extra_context or {})
        ticket = extra_context.get("ticket")
        if ticket is not None:
            # The ticket's own name, not Django's "Change ticket".
            extra_context.setdefault("title", f"#{ticket.pk} {ticket.subject}")
            extra_context.setdefault("subtitle", None)
            extra_context.setdefault("hd_date_format", DATE_FORMAT)
            extra_context.setdefault("canned_choices", canned_choices(request, ticket))
        return super().changeform_view(request, object_id, form_url, extra_context)  # type: ignore[misc]

    def post_reply_from_form(self, request: HttpRequest, form: Any, ticket: Ticket) -> None:
        """Post the reply box's text, if any, as part of saving the ticket's form."""
        text = form.cleaned_data.get("reply_text")
        canned = form.cleaned_data.get("canned_reply")
        if canned is not None:
            reply = services.canned_reply_use(canned=canned, ticket=ticket, by=request.user, text=text)
        elif text:
            reply = services.reply_post(
                ticket=ticket, author=request.user, text=text, type=form.cleaned_data["reply_type"])
        else:
            return
        files = form.cleaned_data.get("reply_files") or []
        if files:
            from ..attachments import IncomingFile, attachments_add

            attachments_add(ticket=ticket, reply=reply, files=[IncomingFile.from_upload(f) for f in files],
                            by=request.user)
        request._helpdesk_reply = reply  # type: ignore[attr-defined]

    def construct_change_message(self, request: HttpRequest, form: Any, formsets: Any, add: bool = False) -> Any:
        message = super().construct_change_message(request, form, formsets, add)  # type: ignore[misc]
        labels = {str(form.fields[name].label) for name in REPLY_FIELDS if name in form.fields}
        for entry in message:
            changed = entry.get("changed")
            if changed and "fields" in changed:
                changed["fields"] = [f for f in changed["fields"] if f not in labels]
        return [e for e in message if not (e.get("changed") is not None and not e["changed"].get("fields"))]

    def response_change(self, request: HttpRequest, obj: Ticket) -> HttpResponse:
        reply = getattr(request, "_helpdesk_reply", None)
        if reply is None:
            return super().response_change(request, obj)  # type: ignore[misc]
        kind = _("Internal note") if reply.is_note else _("Reply")
        self.log_change(request, obj, _("%(kind)s added.") % {"kind": kind})  # type: ignore[attr-defined]
        self.message_user(request, _("%(kind)s posted.") % {"kind": kind}, messages.SUCCESS)  # type: ignore[attr-defined]
        if "_reply" in request.POST or "_continue" in request.POST:
            url = reverse("admin:helpdesk_ticket_change", args=[obj.pk])
            return HttpResponseRedirect(f"{url}#reply-{reply.pk}")
        return super().response_change(request, obj)  # type: ignore[misc]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        extra_context = {"title": _("Tickets"), **(extra_context or {})}
        response = super().changelist_view(request, extra_context)  # type: ignore[misc]
        context = getattr(response, "context_data", None)
        cl = context.get("cl") if context else None
        if cl is not None and hasattr(cl, "filter_specs"):
            for spec in cl.filter_specs:
                if isinstance(spec, WorkingViewFilter):
                    context["hd_views"] = list(spec.choices(cl))
            query = request.GET.copy()
            query.pop("p", None)
            context["hd_export_url"] = reverse("admin:helpdesk_ticket_export") + (
                f"?{query.urlencode()}" if query else "")
        return response

    # -- merge duplicates ---------------------------------------------------------------------

    @admin.action(permissions=["change"], description=gettext_lazy("Merge into ticket #…"))
    def merge_into(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        """Merge the selected tickets into the one whose id is in the action bar's box."""
        from django.core.exceptions import ValidationError

        from .. import selectors
        from .actions import error_messages

        raw = request.POST.get("merge_target", "").strip().lstrip("#")
        try:
            target = selectors.ticket_get(user=request.user, pk=raw)
        except Ticket.DoesNotExist:
            self.message_user(request, _("Type the id of the ticket to merge into (e.g. 123)."), messages.ERROR)  # type: ignore[attr-defined]
            return
        done = 0
        for source in queryset.select_related(None).prefetch_related(None).exclude(pk=target.pk):
            try:
                services.ticket_merge(source=source, target=target, by=request.user)
            except ValidationError as exc:
                for message in error_messages(exc):
                    self.message_user(request, f"#{source.pk}: {message}", messages.ERROR)  # type: ignore[attr-defined]
                continue
            self.log_change(request, source, _("Merged into #%(id)s.") % {"id": target.pk})  # type: ignore[attr-defined]
            self.log_change(request, target, _("Merged #%(id)s into this ticket.") % {"id": source.pk})  # type: ignore[attr-defined]
            done += 1
        if done:
            self.message_user(request, ngettext(  # type: ignore[attr-defined]
                "%(n)d ticket merged into #%(id)s.", "%(n)d tickets merged into #%(id)s.", done)
                % {"n": done, "id": target.pk}, messages.SUCCESS)

    # -- CSV export of the list view in hand ------------------------------------------------

    def get_urls(self) -> list:
        return [
            path("export/", self.admin_site.admin_view(self.export_view), name="helpdesk_ticket_export"),  # type: ignore[attr-defined]
            *super().get_urls(),  # type: ignore[misc]
        ]

    EXPORT_COLUMNS = (
        "id", "subject", "status", "priority", "department", "client", "requester", "assignees", "tags",
        "created", "last_updated", "first_response", "closed", "first_response_due", "resolution_due", "sla",
    )

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """Every ticket of the list view the query string describes (all pages), as CSV."""
        if not self.has_view_or_change_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        cl = self.get_changelist_instance(request)  # type: ignore[attr-defined]
        rows = cl.queryset.prefetch_related(None).prefetch_related("assignees", "tags")

        def lines():
            buffer = io.StringIO()
            writer = csv.writer(buffer)

            def flush(row: list[Any]) -> str:
                writer.writerow(row)
                value = buffer.getvalue()
                buffer.seek(0)
                buffer.truncate(0)
                return value

            yield "\ufeff" + flush(list(self.EXPORT_COLUMNS))  # a BOM: spreadsheets then read UTF-8
            for t in rows.iterator(chunk_size=2000):
                yield flush([
                    t.pk, _csv_safe(t.subject), t.status.title, Priority(t.priority).slug, _csv_safe(t.department.name),
                    _csv_safe(t.client.name), _csv_safe(t.requester.email if t.requester else ""),
                    _csv_safe(", ".join(agent_name(u) for u in t.assignees.all())),
                    _csv_safe(", ".join(tag.name for tag in t.tags.all())),
                    _iso(t.created_at), _iso(t.updated_at), _iso(t.first_response_at), _iso(t.closed_at),
                    _iso(t.first_response_due_at), _iso(t.resolution_due_at), sla.sla_state(t).state,
                ])

        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="tickets-{stamp}.csv"'
        return response


def _iso(value: datetime.datetime | None) -> str:
    return value.isoformat() if value else ""


def _csv_safe(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
