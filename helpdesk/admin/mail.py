"""Admins of attachments and mail: the files (read-only), the mail log with the status of
every mail we sent (failed ones can be sent again), the quarantine of inbound mail that
became no ticket (each can be ingested again or downloaded whole), and the mailboxes
``helpdesk_mail_fetch`` polls."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import attachments
from ..models import Attachment, Mailbox, MailMessage, MailStatus, QuarantinedMail
from .pagination import EstimatedCountPaginator
from .tickets import badge

STATUS_COLOURS = {MailStatus.RECEIVED: "#2563eb", MailStatus.PENDING: "#ca8a04", MailStatus.SENT: "#16a34a",
                  MailStatus.FAILED: "#dc2626"}


def _ticket_link(ticket_id: int | None) -> str:
    if not ticket_id:
        return ""
    return format_html('<a href="{}">#{}</a>', reverse("admin:helpdesk_ticket_change", args=[ticket_id]), ticket_id)


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ("filename", "ticket_link", "reply", "content_type", "size", "inline", "created_at")
    list_filter = ("inline",)
    search_fields = ("filename",)
    list_select_related = ("ticket",)
    raw_id_fields = ("ticket", "reply", "uploaded_by")
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    readonly_fields = ("ticket", "reply", "file", "filename", "content_type", "size", "content_id", "inline",
                       "uploaded_by", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # files are added from the ticket page, the API or mail

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=gettext_lazy("ticket"), ordering="ticket_id")
    def ticket_link(self, obj: Attachment) -> str:
        return _ticket_link(obj.ticket_id)

    def delete_model(self, request: HttpRequest, obj: Attachment) -> None:
        attachments.attachment_delete(attachment=obj, by=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Attachment]) -> None:
        for obj in queryset:
            attachments.attachment_delete(attachment=obj, by=request.user)


@admin.register(MailMessage)
class MailMessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "direction", "status_display", "kind", "ticket_link", "sender", "recipient_list",
                    "subject", "attempts", "error_short")
    list_filter = ("direction", "status", "kind")
    search_fields = ("message_id", "subject", "sender")
    list_select_related = ("ticket",)
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    actions = ("send_again",)
    readonly_fields = [f.name for f in MailMessage._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=gettext_lazy("status"), ordering="status")
    def status_display(self, obj: MailMessage) -> str:
        return badge(obj.get_status_display(), STATUS_COLOURS.get(obj.status, "#6b7280"))

    @admin.display(description=gettext_lazy("ticket"), ordering="ticket_id")
    def ticket_link(self, obj: MailMessage) -> str:
        return _ticket_link(obj.ticket_id)

    @admin.display(description=gettext_lazy("to"))
    def recipient_list(self, obj: MailMessage) -> str:
        return ", ".join([*obj.recipients, *(f"cc {a}" for a in obj.cc)])

    @admin.display(description=gettext_lazy("last error"))
    def error_short(self, obj: MailMessage) -> str:
        return obj.error[:120]

    @admin.action(description=gettext_lazy("Send the selected mail again"), permissions=["view"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[MailMessage]) -> None:
        from ..mail.outbound import retry_mail

        rows = [m for m in queryset if m.direction == "out" and m.status != MailStatus.SENT]
        for mail in rows:
            retry_mail(mail=mail)
        self.message_user(request, _("%(n)d mail(s) queued again.") % {"n": len(rows)}, messages.SUCCESS)


@admin.register(QuarantinedMail)
class QuarantinedMailAdmin(admin.ModelAdmin):
    list_display = ("received_at", "reason", "sender", "subject", "source", "detail_short", "download")
    list_filter = ("reason", "source")
    search_fields = ("sender", "subject", "message_id")
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    actions = ("ingest_again",)
    exclude = ("raw",)
    readonly_fields = ("reason", "detail", "source", "sender", "subject", "message_id", "received_at", "download")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=gettext_lazy("detail"))
    def detail_short(self, obj: QuarantinedMail) -> str:
        return obj.detail[:120]

    @admin.display(description=gettext_lazy("raw message"))
    def download(self, obj: QuarantinedMail) -> str:
        url = reverse("admin:helpdesk_quarantinedmail_raw", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("download .eml"))

    def get_urls(self) -> list:
        return [
            path("<int:pk>/raw/", self.admin_site.admin_view(self.raw_view), name="helpdesk_quarantinedmail_raw"),
        ] + super().get_urls()

    def raw_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_view_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        row = QuarantinedMail.objects.filter(pk=pk).first()
        if row is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, str(pk))
        response = HttpResponse(bytes(row.raw), content_type="message/rfc822")
        response["Content-Disposition"] = f'attachment; filename="quarantined-{row.pk}.eml"'
        response["X-Content-Type-Options"] = "nosniff"
        return response

    @admin.action(description=gettext_lazy("Ingest the selected mail again (e.g. after fixing the cause)"),
                  permissions=["delete"])
    def ingest_again(self, request: HttpRequest, queryset: QuerySet[QuarantinedMail]) -> None:
        from ..mail.ingest import ingest_mail

        done = 0
        for row in queryset:
            result = ingest_mail(bytes(row.raw), source=row.source or "admin")
            if result.outcome in ("ticket", "reply", "duplicate"):
                row.delete()
                done += 1
            elif result.quarantined is not None:
                result.quarantined.delete()  # still refused: keep the original row only
        self.message_user(request, _("%(n)d mail(s) ingested; the others stay here.") % {"n": done}, messages.INFO)


#: A stored password that no key decrypts (helpdesk.encryption): said on the form and the list.
PASSWORD_LOST = gettext_lazy("The stored password cannot be decrypted (the key it was encrypted with is gone): "
                             "enter it again.")


class SecretField(forms.CharField):
    """A password input that is empty unless a new value is typed: empty is no change."""

    widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})

    def has_changed(self, initial: Any, data: Any) -> bool:
        return bool(data)


class MailboxForm(forms.ModelForm):
    """The password is never sent to the browser, neither in clear nor encrypted; left
    empty, the stored one is kept, unless it cannot be decrypted: then it must be entered."""

    class Meta:
        model = Mailbox
        fields = "__all__"
        field_classes = {"password": SecretField}
        widgets = {"password": SecretField.widget}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.pop("password", None)
        if self.instance.pk and self.instance.password_lost:
            self.fields["password"].help_text = PASSWORD_LOST
        elif self.instance.pk and self.instance.password:
            self.fields["password"].help_text = _("Stored. Leave empty to keep it.")

    def clean_password(self) -> Any:
        value = self.cleaned_data.get("password") or ""
        if value or not self.instance.pk:
            return value
        if self.instance.password_lost:
            raise forms.ValidationError(PASSWORD_LOST, code="password_lost")
        return self.instance.password


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    form = MailboxForm
    list_display = ("name", "protocol", "host", "username", "password_state", "folder", "department", "active",
                    "last_fetched_at", "last_error")
    list_filter = ("protocol", "active")
    search_fields = ("name", "host", "username")
    readonly_fields = ("last_fetched_at", "last_error")
    actions = ("fetch_now",)

    @admin.display(description=gettext_lazy("password"))
    def password_state(self, box: Mailbox) -> str:
        if box.password_lost:
            return format_html('<strong style="color:#dc2626">{}</strong>', _("cannot be decrypted"))
        return _("stored") if box.password else "-"

    def render_change_form(self, request: HttpRequest, context: dict, *args: Any, obj: Mailbox | None = None,
                           **kwargs: Any) -> HttpResponse:
        if obj is not None and obj.password_lost and request.method == "GET":
            self.message_user(request, f"{obj.name}: {PASSWORD_LOST}", messages.ERROR)
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)

    @admin.action(description=gettext_lazy("Fetch the selected mailboxes now"), permissions=["change"])
    def fetch_now(self, request: HttpRequest, queryset: QuerySet[Mailbox]) -> None:
        from ..mail.fetch import fetch_mailbox

        for box in queryset:
            report = fetch_mailbox(box)
            if report.error:
                self.message_user(request, f"{box.name}: {report.error}", messages.ERROR)
            else:
                self.message_user(request, _("%(box)s: %(n)d message(s).") % {"box": box.name, "n": len(report.results)},
                                  messages.SUCCESS)
