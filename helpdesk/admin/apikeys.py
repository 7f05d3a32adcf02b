"""The API key admin: create a key (shown once, in a message, right after saving), name it,
give it an expiry, revoke it. Only the key's prefix is ever shown afterwards; the key
itself is stored hashed and cannot be recovered.

Staff who are not superusers see and create keys for themselves only, so a key can
never grant more than its creator already has.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import ngettext

from ..models import APIKey
from .tickets import badge
from .users import user_autocomplete_available


class APIKeyCreateForm(forms.ModelForm):
    class Meta:
        model = APIKey
        fields = ("user", "name", "expires_at")

    def clean_expires_at(self) -> Any:
        value = self.cleaned_data.get("expires_at")
        if value is not None and value <= timezone.now():
            raise forms.ValidationError(_("Choose a time in the future, or leave it empty for a key that never expires."))
        return value


@admin.register(APIKey)
class APIKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix_display", "user", "state", "created_at", "expires_at", "last_used_at")
    list_filter = ("revoked",)
    search_fields = ("name", "prefix", "user__username", "user__email")
    list_select_related = ("user",)
    readonly_fields = ("prefix_display", "user", "created_at", "last_used_at")
    actions = ("revoke",)

    class Media:
        css = {"all": ("helpdesk/admin.css",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[APIKey]:
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(user=request.user)

    def get_autocomplete_fields(self, request: HttpRequest) -> tuple[str, ...]:
        return ("user",) if request.user.is_superuser and user_autocomplete_available(self.admin_site) else ()

    def get_form(self, request: HttpRequest, obj: APIKey | None = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = APIKeyCreateForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: APIKey | None = None) -> list[str]:
        if obj is None:
            return ["user", "name", "expires_at"] if request.user.is_superuser else ["name", "expires_at"]
        return ["name", "prefix_display", "user", "expires_at", "revoked", "created_at", "last_used_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: APIKey | None = None) -> tuple[str, ...]:
        if obj is None:
            return ()
        # A revoked key stays revoked: un-revoking would revive a key that may have leaked.
        return self.readonly_fields + (("revoked",) if obj.revoked else ())

    @admin.display(description=gettext_lazy("key"), ordering="prefix")
    def prefix_display(self, obj: APIKey) -> str:
        return format_html("<code>{}.…</code>", obj.prefix)

    @admin.display(description=gettext_lazy("state"))
    def state(self, obj: APIKey) -> str:
        if obj.revoked:
            return badge(_("revoked"), "#6b7280")
        if obj.has_expired:
            return badge(_("expired"), "#d97706")
        return badge(_("active"), "#16a34a")

    def save_model(self, request: HttpRequest, obj: APIKey, form: Any, change: bool) -> None:
        if change:
            obj.save(update_fields=["name", "expires_at", "revoked"])
            return
        user = form.cleaned_data.get("user") if request.user.is_superuser else request.user
        row, key = APIKey.objects.create_key(
            user=user, name=form.cleaned_data["name"], expires_at=form.cleaned_data.get("expires_at")
        )
        state = obj._state
        obj.__dict__.update({k: v for k, v in row.__dict__.items() if k != "_state"})
        state.adding, state.db = False, row._state.db
        self.message_user(
            request,
            format_html(
                '{} <code class="hd-secret" data-api-key>{}</code> {}',
                _("The new API key is:"),
                key,
                _("Copy it now: it is shown only this once and cannot be recovered."),
            ),
            messages.WARNING,
        )

    @admin.action(permissions=["change"], description=gettext_lazy("Revoke the selected keys"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[APIKey]) -> None:
        count = 0
        for key in queryset.filter(revoked=False):
            key.revoked = True
            key.save(update_fields=["revoked"])
            self.log_change(request, key, _("Revoked."))
            count += 1
        self.message_user(request, ngettext("%(n)d key revoked.", "%(n)d keys revoked.", count) % {"n": count},
                          messages.SUCCESS)
