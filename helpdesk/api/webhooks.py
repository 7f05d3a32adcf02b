"""The webhooks endpoints: ``/webhooks`` (list, subscribe) and ``/webhooks/{id}`` (get,
change, unsubscribe), for agents allowed to manage webhooks
(``permissions.can_manage_webhooks``). Writes go through ``helpdesk.events.webhooks``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework import status as http
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from ..events import webhooks
from ..limits import parse_id
from ..models import WebhookSubscription
from ..permissions import can_manage_webhooks
from .base import HelpdeskAPIMixin
from .exceptions import from_django
from .serializers import StrictSerializer, dt



class CanManageWebhooks(BasePermission):
    message = _("Managing webhooks needs the helpdesk.change_webhooksubscription permission.")

    def has_permission(self, request: Any, view: Any) -> bool:
        return can_manage_webhooks(request.user)


class WebhookSerializer(serializers.Serializer):
    """A webhook as the API shows it (the secret only in the answer to its creation)."""

    id = serializers.IntegerField()
    url = serializers.CharField()
    events = serializers.ListField(child=serializers.CharField())
    description = serializers.CharField()
    active = serializers.BooleanField()
    disabled_reason = serializers.CharField()
    failure_count = serializers.IntegerField(help_text=_("Failed attempts in a row."))
    last_success = serializers.DateTimeField(allow_null=True)
    created = serializers.DateTimeField()
    secret = serializers.CharField(required=False, help_text=_("Only in the answer to POST."))


class WebhookWriteSerializer(StrictSerializer):
    url = serializers.CharField(max_length=2000, help_text=_("Where events are POSTed (http or https)."))
    events = serializers.ListField(child=serializers.CharField(max_length=50), max_length=100,
                                   help_text=_("Event types: %(e)s, or * for all.") % {"e": ", ".join(webhooks.EVENTS)})
    secret = serializers.CharField(required=False, allow_blank=True, max_length=200,
                                   help_text=_("whsec_<base64>; generated (and shown once) when left out."))
    description = serializers.CharField(required=False, allow_blank=True, max_length=200)
    active = serializers.BooleanField(required=False, help_text=_("false pauses it; true turns it on again."))


def webhook_data(w: WebhookSubscription, *, secret: bool = False) -> dict[str, Any]:
    data = {
        "id": w.pk, "url": w.url, "events": w.events, "description": w.description, "active": w.is_active,
        "disabled_reason": w.disabled_reason, "failure_count": w.failure_count,
        "last_success": dt(w.last_success_at), "created": dt(w.created_at),
    }
    if secret:
        data["secret"] = w.secret
    return data


@extend_schema_view(
    list=extend_schema(summary="List webhooks", responses=WebhookSerializer(many=True)),
    create=extend_schema(
        summary="Subscribe a URL to events",
        description="The answer carries the signing `secret` (Standard Webhooks `whsec_…`), generated when left out: "
        "it is shown only this once.",
        request=WebhookWriteSerializer, responses={201: WebhookSerializer},
    ),
    retrieve=extend_schema(summary="Get a webhook", responses=WebhookSerializer),
    partial_update=extend_schema(summary="Change a webhook", request=WebhookWriteSerializer,
                                 responses=WebhookSerializer),
    destroy=extend_schema(summary="Delete a webhook", responses={204: OpenApiResponse(description="Deleted.")}),
)
class WebhookViewSet(HelpdeskAPIMixin, viewsets.GenericViewSet):
    """Webhooks. Routes are wired by hand in ``helpdesk.api.urls``."""

    serializer_class = WebhookSerializer
    queryset = WebhookSubscription.objects.none()

    def get_permissions(self) -> list[Any]:
        return [*super().get_permissions(), CanManageWebhooks()]

    def get_queryset(self) -> Any:
        return WebhookSubscription.objects.order_by("id")

    def get_object(self) -> WebhookSubscription:
        pk = parse_id(str(self.kwargs.get("pk", "")))
        found = self.get_queryset().filter(pk=pk).first() if pk is not None else None
        if found is None:
            raise NotFound(_("Webhook not found."))
        return found

    def validated(self, partial: bool = False) -> dict[str, Any]:
        serializer = WebhookWriteSerializer(data=self.request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([webhook_data(w) for w in page])

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.validated()
        try:
            hook = webhooks.webhook_create(url=data["url"], events=data["events"], secret=data.get("secret") or None,
                                           description=data.get("description", ""), by=request.user)
            if data.get("active") is False:
                webhooks.webhook_update(subscription=hook, is_active=False, by=request.user)
        except DjangoValidationError as exc:
            raise from_django(exc) from None
        return Response(webhook_data(hook, secret=True), status=http.HTTP_201_CREATED)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(webhook_data(self.get_object()))

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        hook = self.get_object()
        data = self.validated(partial=True)
        if "active" in data:
            data["is_active"] = data.pop("active")
        if not data.get("secret", True):
            data.pop("secret")
        try:
            webhooks.webhook_update(subscription=hook, by=request.user, **data)
        except DjangoValidationError as exc:
            raise from_django(exc, {"is_active": "active"}) from None
        return Response(webhook_data(hook))

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        webhooks.webhook_delete(subscription=self.get_object(), by=request.user)
        return Response(status=http.HTTP_204_NO_CONTENT)
