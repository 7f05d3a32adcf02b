"""Forms of the ticket admin: the ticket form, the reply form and the action form.

They validate what the services will validate (so an agent sees errors on the form, not a
failed save) but never write: every write goes through ``helpdesk.services``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ..conf import helpdesk_settings
from ..custom_fields import clean_custom_fields
from ..models import CannedReply, ReplyType, Ticket, TicketStatus
from ..services import clean_cc, clean_tag_names


def ticket_version(updated_at: Any) -> str:
    """The form's version token: ``updated_at`` to the microsecond (every write moves it)."""
    return updated_at.isoformat()


def last_change(ticket: Ticket) -> tuple[str, Any]:
    """(who, when) of the newest known change: an admin log entry, a status change or a reply."""
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    from ..models import Reply, StatusChange

    candidates = []
    entry = (LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Ticket), object_id=str(ticket.pk))
             .select_related("user").order_by("-action_time").first())
    if entry is not None:
        candidates.append((entry.action_time, entry.user))
    change = StatusChange.objects.filter(ticket=ticket).select_related("changed_by").order_by("-changed_at").first()
    if change is not None:
        candidates.append((change.changed_at, change.changed_by))
    reply = Reply.objects.filter(ticket=ticket).select_related("author").order_by("-created_at").first()
    if reply is not None:
        candidates.append((reply.created_at, reply.author))
    user = max(candidates, key=lambda c: c[0])[1] if candidates else None
    name = (user.get_full_name() or user.get_username()) if user is not None else ""
    return name, ticket.updated_at


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one ``<input type="file" multiple>`` (Django's documented recipe):
    a list, empty when none were chosen."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


def split_tags(value: str) -> list[str]:
    return [part for part in (value or "").split(",") if part.strip()]


class TicketAdminForm(forms.ModelForm):
    """The ticket page's one form: the details and, on a saved ticket, the reply box.

    The reply box sits beside the conversation but its fields belong to this form (HTML's
    ``form`` attribute), so "Send reply" saves the details too and "Save" never drops a
    reply being written: one submit, one transaction, nothing lost.
    """

    #: The ticket's ``updated_at`` when the page was shown: saving over a newer change is refused.
    version = forms.CharField(widget=forms.HiddenInput, required=False)
    new_tags = forms.CharField(
        label=_("New tags"),
        required=False,
        help_text=_("Comma-separated; created if they do not exist yet."),
    )
    reply_text = forms.CharField(
        label=_("Message"), required=False, strip=True,
        widget=forms.Textarea(attrs={"rows": 5, "form": "ticket_form"}),
    )
    reply_type = forms.ChoiceField(
        label=_("Type"), choices=ReplyType.choices, initial=ReplyType.REPLY, required=False,
        widget=forms.RadioSelect(attrs={"form": "ticket_form"}),
    )
    reply_files = MultipleFileField(
        label=_("Attach files"), required=False, widget=MultipleFileInput(attrs={"form": "ticket_form"}))
    canned_reply = forms.ModelChoiceField(
        label=_("Canned reply"), required=False, queryset=CannedReply.objects.none(),
        widget=forms.Select(attrs={"form": "ticket_form"}),
    )
    #: The user the form is for (set by the admin's ``get_form``): whose canned replies to offer.
    hd_user: Any = None
    #: The submit button that sends the reply (its name is in the POST when it was pressed).
    SEND_BUTTON = "_reply"

    cc_addresses = forms.CharField(
        label=_("CC"),
        required=False,
        help_text=_("Comma-separated addresses copied on the ticket's mail (agent replies)."),
        widget=forms.TextInput(attrs={"size": 60}),
    )

    class Meta:
        model = Ticket
        fields = (
            "subject", "message", "status", "priority", "department", "assignees", "tags", "client", "project",
            "requester", "type", "severity", "product", "time_spent", "custom_fields", "metadata",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "status" in self.fields and not self.instance.pk:
            self.fields["status"].initial = helpdesk_settings.DEFAULT_STATUS_ID
        if "version" in self.fields and self.instance.pk:
            self.fields["version"].initial = ticket_version(self.instance.updated_at)
        if "cc_addresses" in self.fields:
            self.initial.setdefault("cc_addresses", ", ".join(self.instance.cc or []))
        if self.hd_user is not None:
            from ..selectors import canned_reply_list

            self.fields["canned_reply"].queryset = canned_reply_list(user=self.hd_user)
        if "status" in self.fields and self.instance.pk:
            # On a saved ticket the status picker is rendered in the reply box, outside the <form>.
            self.fields["status"].widget.attrs["form"] = "ticket_form"

    def clean_cc_addresses(self) -> list[str]:
        try:
            return clean_cc(self.cleaned_data.get("cc_addresses") or "")
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["cc"]) from None

    def clean_reply_type(self) -> str:
        return self.cleaned_data.get("reply_type") or ReplyType.REPLY

    @property
    def sending(self) -> bool:
        """Whether the agent pressed "Send reply" (rather than one of the save buttons)."""
        return self.is_bound and self.SEND_BUTTON in self.data

    def clean_new_tags(self) -> list[str]:
        return clean_tag_names(split_tags(self.cleaned_data.get("new_tags", "")))

    def clean_custom_fields(self) -> dict[str, Any]:
        value = self.cleaned_data.get("custom_fields") or {}
        if not isinstance(value, dict):
            raise ValidationError(_("Enter an object of custom field values, e.g. {\"order_number\": \"A-1\"}."))
        return value

    def clean_metadata(self) -> dict[str, Any]:
        value = self.cleaned_data.get("metadata") or {}
        if not isinstance(value, dict):
            raise ValidationError(_("Enter an object, e.g. {\"plan\": \"gold\"}."))
        return value

    def custom_fields_changes(self) -> dict[str, Any]:
        """What to pass ``ticket_update``: the edited values, and None for removed keys."""
        new = self.cleaned_data.get("custom_fields") or {}
        old = self.initial.get("custom_fields") or {}
        if isinstance(old, str):  # initial may be the rendered JSON on a bound form
            old = {}
        return {**{key: None for key in old if key not in new}, **new}

    def clean_version(self) -> str:
        """Refuse to save over a change made since the page was shown (and say whose).

        The admin's change view runs in a transaction: the row lock taken here holds
        until the save commits, so no change slips in between.
        """
        version = self.cleaned_data.get("version") or ""
        if not self.instance.pk or not version:
            return version
        current = Ticket.objects.select_for_update().only("updated_at").filter(pk=self.instance.pk).first()
        if current is not None and ticket_version(current.updated_at) != version:
            who, when = last_change(current)
            raise ValidationError(
                _("%(who)s changed this ticket at %(when)s, after you opened it. Reload the page to see "
                  "the change; your edits were not saved.")
                % {"who": who or _("Someone"), "when": when.strftime("%Y-%m-%d %H:%M:%S %Z")},
                code="stale",
            )
        return version

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.sending and not cleaned.get("reply_text") and not cleaned.get("canned_reply"):
            self.add_error("reply_text", _("Write a message before sending; nothing was saved."))
        if cleaned.get("reply_files"):
            from ..attachments import IncomingFile, clean_files

            if not (cleaned.get("reply_text") or cleaned.get("canned_reply")):
                self.add_error("reply_files", _("Files go with a reply or note: write one; nothing was saved."))
            else:
                try:
                    clean_files([IncomingFile.from_upload(f) for f in cleaned["reply_files"]])
                except ValidationError as exc:
                    self.add_error("reply_files", exc.message_dict["files"])
        if (cleaned.get("reply_text") or cleaned.get("canned_reply")) and self.hd_user is not None and self.instance.pk:
            from .. import permissions

            kind = ReplyType.REPLY if cleaned.get("canned_reply") else cleaned.get("reply_type") or ReplyType.REPLY
            allowed = (permissions.can_add_note if kind == ReplyType.NOTE else permissions.can_add_reply)(
                self.hd_user, self.instance)
            if not allowed:
                self.add_error("reply_text", _("You may not post this kind of message on this ticket; nothing was saved."))
        client, project = cleaned.get("client"), cleaned.get("project")
        if client is not None and project is not None and project.client_id != client.pk:
            self.add_error("project", _("This project does not belong to the ticket's client."))
        if "custom_fields" in cleaned and (self.instance.pk is None or "custom_fields" in self.changed_data):
            try:
                if self.instance.pk is None:
                    clean_custom_fields(cleaned["custom_fields"], partial=False)
                else:
                    clean_custom_fields(
                        self.custom_fields_changes(), existing=self.instance.custom_fields, partial=True
                    )
            except ValidationError as exc:
                self.add_error(
                    "custom_fields",
                    [f"{key}: {message}" for key, messages in exc.message_dict.items() for message in messages],
                )
        return cleaned


class ReplyForm(forms.Form):
    """The form under a ticket's conversation: a public reply or an internal note."""

    text = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 5}))
    type = forms.ChoiceField(label=_("Type"), choices=ReplyType.choices, initial=ReplyType.REPLY)
    status = forms.ModelChoiceField(
        label=_("and set status to"),
        queryset=TicketStatus.objects.all(),
        required=False,
        empty_label=_("(keep the status)"),
    )
    files = MultipleFileField(label=_("Attach files"), required=False)


class TicketActionForm(ActionForm):
    """Django's action form plus the value the "add a tag" action needs."""

    tag = forms.CharField(
        label=_("Tag:"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"placeholder": _("tag name"), "size": 14}),
    )
    # Text, not a number field: a wrong value gets the merge action's own message rather
    # than Django's "No action selected."
    merge_target = forms.CharField(
        label=_("Into ticket #:"),
        required=False,
        max_length=25,
        widget=forms.TextInput(attrs={"placeholder": _("ticket id"), "size": 8, "inputmode": "numeric"}),
    )
