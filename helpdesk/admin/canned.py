"""The canned replies' admin: agents manage their own, and the shared ones if allowed.

An agent sees the shared replies and their own; a new reply is personal unless
"shared" is ticked. Rendering and use are in ``helpdesk.canned`` and the services.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from ..models import CannedReply
from ..selectors import canned_reply_list


class CannedReplyForm(forms.ModelForm):
    shared = forms.BooleanField(label=_("Shared with every agent"), required=False)

    class Meta:
        model = CannedReply
        fields = ("title", "body", "status", "tags")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["shared"].initial = self.instance.pk is not None and self.instance.owner_id is None


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    form = CannedReplyForm
    list_display = ("title", "owner_display", "status", "tags")
    search_fields = ("title", "body")
    fields = ("title", "body", "status", "tags", "shared")

    def get_queryset(self, request: HttpRequest) -> QuerySet[CannedReply]:
        if request.user.is_superuser:
            return super().get_queryset(request).select_related("owner", "status")
        return canned_reply_list(user=request.user).select_related("owner")

    @admin.display(description=_("for"))
    def owner_display(self, obj: CannedReply) -> str:
        if obj.owner is None:
            return str(_("everyone (shared)"))
        return obj.owner.get_full_name() or obj.owner.get_username()

    def save_model(self, request: HttpRequest, obj: CannedReply, form: Any, change: bool) -> None:
        if form.cleaned_data.get("shared"):
            obj.owner = None
        elif obj.owner_id is None:
            obj.owner = request.user
        super().save_model(request, obj, form, change)
