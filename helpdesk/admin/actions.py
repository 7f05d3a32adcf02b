"""The ticket list's bulk actions: set a status (one action per status), assign to me,
unassign, add a tag, archive, restore. Each goes through a service, one ticket at a time
(so each gets its history and signals), and leaves an entry in the admin's log.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import ngettext

from .. import services
from ..models import Ticket, TicketStatus
from .forms import split_tags


def user_name(user: Any) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def error_messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [f"{field}: {m}" if field != "__all__" else m for field, ms in exc.message_dict.items() for m in ms]
    return list(exc.messages)


class TicketActionsMixin:
    """Mixed into ``TicketAdmin``; list the names in its ``actions``."""

    def get_actions(self, request: HttpRequest, action_location: Any = None) -> dict:
        # Django 6.1 passes where the actions are shown (``action_location``); 5.2 does not.
        if action_location is None:
            actions = super().get_actions(request)
        else:
            actions = super().get_actions(request, action_location=action_location)
        if self.has_change_permission(request):
            # One "Set status" action per status: no extra input needed, and it reads well.
            for status in TicketStatus.objects.all():
                name = f"set_status_{status.pk}"
                description = _("Set status: %(status)s") % {"status": status.title}
                actions[name] = (self._status_action(status), name, description)
        return actions

    def _status_action(self, status: TicketStatus) -> Any:
        def set_status(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
            done = 0
            for ticket in queryset.select_related(None).prefetch_related(None):
                if services.ticket_change_status(ticket=ticket, status=status, by=request.user) is not None:
                    modeladmin.log_change(request, ticket, _("Status set to %(s)s.") % {"s": status.title})
                    done += 1
            modeladmin.message_user(request, ngettext(
                "%(n)d ticket set to %(s)s.", "%(n)d tickets set to %(s)s.", done) % {"n": done, "s": status.title},
                messages.SUCCESS)
        return set_status

    @admin.action(permissions=["change"], description=gettext_lazy("Assign to me"))
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        done = 0
        for ticket in queryset:
            current = list(ticket.assignees.all())
            if request.user not in current:
                services.ticket_set_assignees(ticket=ticket, assignees=current + [request.user], by=request.user)
                self.log_change(request, ticket, _("Assigned to %(u)s.") % {"u": user_name(request.user)})
                done += 1
        self.message_user(request, ngettext("%(n)d ticket assigned to you.", "%(n)d tickets assigned to you.", done)
                          % {"n": done}, messages.SUCCESS)

    @admin.action(permissions=["change"], description=gettext_lazy("Unassign"))
    def unassign(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        done = 0
        for ticket in queryset:
            if ticket.assignees.all():
                services.ticket_set_assignees(ticket=ticket, assignees=[], by=request.user)
                self.log_change(request, ticket, _("Unassigned."))
                done += 1
        self.message_user(request, ngettext("%(n)d ticket unassigned.", "%(n)d tickets unassigned.", done)
                          % {"n": done}, messages.SUCCESS)

    @admin.action(permissions=["change"], description=gettext_lazy("Add a tag"))
    def add_tag(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        try:
            names = services.clean_tag_names(split_tags(request.POST.get("tag", "")))
        except ValidationError as exc:
            for message in error_messages(exc):
                self.message_user(request, message, messages.ERROR)
            return
        if not names:
            self.message_user(request, _("Enter the tag to add in the Tag box."), messages.ERROR)
            return
        count = 0
        for ticket in queryset:
            try:
                services.ticket_add_tags(ticket=ticket, tags=names, by=request.user)
            except ValidationError as exc:  # e.g. the ticket has the most tags it may have
                for message in error_messages(exc):
                    self.message_user(request, f"#{ticket.pk}: {message}", messages.ERROR)
                continue
            self.log_change(request, ticket, _("Tagged %(t)s.") % {"t": ", ".join(names)})
            count += 1
        self.message_user(request, ngettext("Tagged %(n)d ticket with %(t)s.", "Tagged %(n)d tickets with %(t)s.", count)
                          % {"n": count, "t": ", ".join(names)}, messages.SUCCESS)

    @admin.action(permissions=["archive"], description=gettext_lazy("Archive"))
    def archive(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        done = 0
        for ticket in queryset.select_related(None).prefetch_related(None):
            if not ticket.is_archived:
                services.ticket_archive(ticket=ticket, by=request.user)
                self.log_change(request, ticket, _("Archived."))
                done += 1
        self.message_user(request, ngettext("%(n)d ticket archived.", "%(n)d tickets archived.", done) % {"n": done},
                          messages.SUCCESS)

    @admin.action(permissions=["archive"], description=gettext_lazy("Restore from the archive"))
    def restore(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        done = 0
        for ticket in queryset.select_related(None).prefetch_related(None):
            if ticket.is_archived:
                services.ticket_restore(ticket=ticket, by=request.user)
                self.log_change(request, ticket, _("Restored from the archive."))
                done += 1
        self.message_user(request, ngettext("%(n)d ticket restored.", "%(n)d tickets restored.", done) % {"n": done},
                          messages.SUCCESS)
