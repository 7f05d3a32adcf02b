"""The webhooks admin: subscriptions (a generated secret shown once, why one was disabled,
turning it back on), the messages sent with every attempt (status, time, answer) and
re-sending them. Writes go through ``helpdesk.events.webhooks``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ..events import webhooks
from ..models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookSubscription
from .tickets import badge

STATUS_COLOURS = {DeliveryStatus.PENDING: "#d97706", DeliveryStatus.DELIVERED: "#16a34a",
                  DeliveryStatus.FAILED: "#dc2626"}


class WebhookSubscriptionForm(forms.ModelForm):
    url = forms.CharField(label=gettext_lazy("URL"), max_length=2000,
                          help_text=gettext_lazy("Where the events are POSTed (http or https)."))
    events = forms.MultipleChoiceField(
        label=gettext_lazy("events"), widget=forms.CheckboxSelectMultiple,
        choices=[(name, f"{name}: {text}") for name, text in webhooks.EVENTS.items()],
    )
    secret = forms.CharField(
        label=gettext_lazy("secret"), required=False, max_length=200,
        help_text=gettext_lazy("Leave empty to generate one (shown once after saving). Form: whsec_<base64>."),
    )

    class Meta:
        model = WebhookSubscription
        fields = ("url", "events", "secret", "description", "is_active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["secret"] = ""
            self.fields["secret"].help_text = _("Leave empty to keep the current secret.")

    def _service_errors(self, exc: ValidationError) -> None:
        for field, errors in exc.message_dict.items():
            self.add_error(field if field in self.fields else None, errors)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name, cleaner in (("url", webhooks.clean_url), ("events", webhooks.clean_events),
                              ("secret", webhooks.clean_secret)):
            if data.get(name):
                try:
                    data[name] = cleaner(data[name])
                except ValidationError as exc:
                    self._service_errors(exc)
        if not data.get("secret"):
            data.pop("secret", None)  # kept (or generated), never blanked
        return data


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ("at", "ok", "status_code", "duration_ms", "response_excerpt", "error")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = WebhookSubscriptionForm
    list_display = ("url", "events_display", "state", "failure_count", "last_success_at", "created_at")
    list_filter = ("is_active",)
    search_fields = ("url", "description")
    readonly_fields = ("state", "disabled_reason", "failure_count", "last_success_at", "created_at", "created_by")
    actions = ("enable_again",)

    class Media:
        css = {"all": ("helpdesk/admin.css",)}

    def get_fields(self, request: HttpRequest, obj: WebhookSubscription | None = None) -> list[str]:
        fields = ["url", "events", "secret", "description", "is_active"]
        return fields if obj is None else [*fields, *self.readonly_fields]

    @admin.display(description=gettext_lazy("events"))
    def events_display(self, obj: WebhookSubscription) -> str:
        return ", ".join(obj.events)

    @admin.display(description=gettext_lazy("state"))
    def state(self, obj: WebhookSubscription) -> str:
        if obj.is_active:
            return badge(_("active"), "#16a34a")
        return format_html("{} {}", badge(_("disabled"), "#dc2626"), obj.disabled_reason)

    def save_model(self, request: HttpRequest, obj: WebhookSubscription, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            row = webhooks.webhook_create(url=data["url"], events=data["events"], secret=data.get("secret") or None,
                                          description=data.get("description", ""), by=request.user)
            if not data.get("is_active", True):
                webhooks.webhook_update(subscription=row, is_active=False, by=request.user)
            state = obj._state
            obj.__dict__.update({k: v for k, v in row.__dict__.items() if k != "_state"})
            state.adding, state.db = False, row._state.db
            if not data.get("secret"):
                self.message_user(request, format_html(
                    '{} <code class="hd-secret" data-webhook-secret>{}</code> {}', _("The webhook's signing secret is:"),
                    row.secret, _("Copy it now: it is shown only this once."),
                ), messages.WARNING)
            return
        changes = {name: data[name] for name in ("url", "events", "description", "is_active") if name in form.changed_data}
        if data.get("secret"):
            changes["secret"] = data["secret"]
        fresh = WebhookSubscription.objects.get(pk=obj.pk)
        webhooks.webhook_update(subscription=fresh, by=request.user, **changes)

    def delete_model(self, request: HttpRequest, obj: WebhookSubscription) -> None:
        webhooks.webhook_delete(subscription=obj, by=request.user)

    @admin.action(permissions=["change"], description=gettext_lazy("Turn on again and deliver what waited"))
    def enable_again(self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]) -> None:
        count = 0
        for subscription in queryset:
            webhooks.enable(subscription)
            self.log_change(request, subscription, _("Turned on again."))
            count += 1
        self.message_user(request, ngettext("%(n)d webhook turned on.", "%(n)d webhooks turned on.", count)
                          % {"n": count}, messages.SUCCESS)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("message_id", "event", "ticket_id", "subscription", "status_display", "attempts", "created_at",
                    "next_attempt_at", "last_error")
    list_filter = ("status", "event")
    search_fields = ("message_id", "event", "subscription__url", "=ticket_id")
    list_select_related = ("subscription",)
    readonly_fields = ("subscription", "message_id", "event", "ticket_id", "payload", "created_at", "status",
                       "attempts", "next_attempt_at", "delivered_at", "last_error")
    inlines = [WebhookAttemptInline]
    actions = ("send_again",)

    class Media:
        css = {"all": ("helpdesk/admin.css",)}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=gettext_lazy("status"), ordering="status")
    def status_display(self, obj: WebhookDelivery) -> str:
        return badge(obj.get_status_display(), STATUS_COLOURS[DeliveryStatus(obj.status)])

    @admin.action(permissions=["change"], description=gettext_lazy("Send again"))
    def send_again(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        count = webhooks.resend(queryset)
        self.message_user(request, ngettext("%(n)d message queued again.", "%(n)d messages queued again.", count)
                          % {"n": count}, messages.SUCCESS)


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(admin.ModelAdmin):
    """Read-only: the log of every attempt."""

    list_display = ("delivery", "at", "ok", "status_code", "duration_ms", "error")
    list_filter = ("ok",)
    search_fields = ("delivery__message_id", "error")
    list_select_related = ("delivery",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
