"""How drf-spectacular describes the helpdesk API: the envelope around every success
body, the error responses each operation can really return, and the bearer key scheme."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import force_instance
from rest_framework import serializers

ERROR_DESCRIPTIONS = {
    400: "The body could not be parsed (malformed JSON or form data).",
    401: "No, bad, revoked or expired API key.",
    403: "Authenticated, but this role may not do this.",
    404: "Unknown ticket or reply, or one the caller may not see.",
    413: "The body is over the size limit.",
    415: "The body's Content-Type is not JSON, form-encoded or multipart.",
    422: "Validation failed; `fields` names every bad parameter.",
    429: "Throttled; retry after `Retry-After` seconds.",
}


class ErrorDetailSerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField(help_text="validation_failed, not_found, not_authenticated, …")
    message = serializers.CharField()
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Only on 422: messages by API parameter name (or custom field key).",
    )


class ErrorSerializer(serializers.Serializer):
    """Every error, whatever its status."""

    error = ErrorDetailSerializer()


class APIKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "helpdesk.api.authentication.APIKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "http", "scheme": "bearer", "description": "`Authorization: Bearer <api key>`"}


class HelpdeskAutoSchema(AutoSchema):
    """Wraps 2xx bodies in ``{"data": …}`` (lists get the paginator's ``data``/``meta``),
    unless the view lists the action in ``unwrapped_actions``; adds the error responses."""

    def _is_unwrapped(self) -> bool:
        return getattr(self.view, "action", None) in getattr(self.view, "unwrapped_actions", ())

    def _get_response_for_code(self, serializer: Any, status_code: Any, media_types: Any = None, direction: str = "response") -> Any:
        response = super()._get_response_for_code(serializer, status_code, media_types, direction)
        if not ("200" <= str(status_code) < "300") or self._is_unwrapped() or "content" not in response:
            return response
        instance = force_instance(serializer)
        if self._is_list_view(instance) and self._get_paginator():
            return response  # the paginator's schema is the envelope already
        for content in response["content"].values():
            content["schema"] = {"type": "object", "required": ["data"], "properties": {"data": content["schema"]}}
        return response

    def error_codes(self) -> list[int]:
        codes = [429]
        if getattr(self.view, "permission_classes", None):
            codes += [401, 403]
        if "{" in self.path:
            codes.append(404)
        if self.method in ("POST", "PUT", "PATCH"):
            codes += [400, 413, 415, 422]
        elif self.method == "GET":
            codes.append(422)  # filters, paging, select
        return sorted(set(codes))

    def _get_response_bodies(self, direction: str = "response") -> Any:
        responses = super()._get_response_bodies(direction)
        for code in self.error_codes():
            if str(code) not in responses:
                body = self._get_response_for_code(ErrorSerializer, str(code), direction=direction)
                body["description"] = ERROR_DESCRIPTIONS[code]
                if code == 429:
                    body.setdefault("headers", {})["Retry-After"] = {
                        "schema": {"type": "integer"}, "description": "Seconds to wait.",
                    }
                responses[str(code)] = body
        return responses

    def _get_response_headers_for_code(self, status_code: Any, direction: str = "response") -> Any:
        headers = super()._get_response_headers_for_code(status_code, direction) or {}
        headers.setdefault("X-Request-Id", {"schema": {"type": "string"}, "description": "The caller's, or a new id."})
        headers.setdefault("X-Api-Version", {"schema": {"type": "string"}, "description": "The API's version date."})
        return headers
