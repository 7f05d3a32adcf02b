"""The Idempotency-Key records, read-only: which user sent which key, when, and the
status kept for its retries. Written only by the API (``helpdesk.idempotency``); deleting
one lets a retry with that key run again."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ..models import IdempotencyKey


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ("key", "user", "status_code", "created_at")
    list_filter = ("status_code",)
    search_fields = ("key", "user__username")
    list_select_related = ("user",)
    fields = ("key", "user", "status_code", "created_at", "fingerprint", "response_headers")
    readonly_fields = fields
    date_hierarchy = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
