"""How drf-spectacular describes the helpdesk API: the envelope around every success
body, the error responses each operation can really return, and the bearer key scheme."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_choice_field, force_instance
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
    409: "A request with this Idempotency-Key is still running; retry after `Retry-After` seconds.",
    412: "If-Match / If-Unmodified-Since no longer hold: the ticket changed since it was read.",
}

#: Ticket writes that honour If-Match / If-Unmodified-Since (helpdesk.api.conditional).
CONDITIONAL_ACTIONS = frozenset({
    "partial_update", "destroy", "set_status", "archive", "restore", "set_tags", "replies", "delete_reply",
})
#: Ticket operations that answer with the ticket's ETag and Last-Modified.
VALIDATOR_ACTIONS = frozenset({"retrieve", "create", "partial_update", "set_status", "archive", "restore", "set_tags"})


def _header(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


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


class NamedChoiceFieldExtension(OpenApiSerializerFieldExtension):
    """``serializers.NamedChoiceField``: its values are the component it names, in every
    document built from the app's views (the API's own ``/schema``, a site's
    ``manage.py spectacular``, drf-spectacular's deploy check). A site's enum of the same
    name is reported (drf-spectacular's "components with identical names"), not merged."""

    target_class = "helpdesk.api.serializers.NamedChoiceField"

    def get_name(self) -> str:
        return self.target.enum_name

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        schema = build_choice_field(self.target)
        schema.pop("x-spec-enum-id", None)
        # Blank and null belong to the field using the enum (its nullable), not to the enum.
        schema["enum"] = [value for value in schema["enum"] if value not in ("", None)]
        return schema


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

    def _action(self) -> str | None:
        return getattr(self.view, "action", None)

    def _is_conditional_write(self) -> bool:
        return self.method in ("PUT", "PATCH", "POST", "DELETE") and self._action() in CONDITIONAL_ACTIONS and (
            self._action() != "replies" or self.method == "POST")

    def _get_parameters(self) -> Any:
        parameters = super()._get_parameters()
        if self.method in ("POST", "PUT", "PATCH", "DELETE") and getattr(self.view, "idempotent_methods", ()):
            parameters.append(_header(
                "Idempotency-Key",
                "Your own key (a UUID, say) to retry this request safely: a retry within 24 h gets the first "
                "response and writes nothing (docs/api.md).",
                {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"},
            ))
        if self._is_conditional_write():
            parameters.append(_header("If-Match", "The ticket's ETag as you read it (or `*`): 412 if it changed."))
            parameters.append(_header("If-Unmodified-Since", "The ticket's Last-Modified as you read it: 412 if "
                                      "it changed after."))
        if self.method == "GET" and self._action() == "retrieve":
            parameters.append(_header("If-None-Match", "ETags you hold: 304 if the ticket still has one of them."))
            parameters.append(_header("If-Modified-Since", "304 if the ticket has not changed since."))
        return parameters

    def error_codes(self) -> list[int]:
        codes = [429]
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes += [409, 422]  # 422 also for a malformed Idempotency-Key
        if self._is_conditional_write():
            codes.append(412)
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
        if self.method == "GET" and self._action() == "retrieve":
            responses["304"] = {"description": "Not modified: your copy (If-None-Match / If-Modified-Since) is "
                                "current. No body.",
                                "headers": self._get_response_headers_for_code("304", direction)}
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
        if self._action() in VALIDATOR_ACTIONS and str(status_code) in ("200", "201", "304"):
            headers.setdefault("ETag", {"schema": {"type": "string"}, "description": "The ticket's version."})
            headers.setdefault("Last-Modified", {"schema": {"type": "string"}, "description": "When it last changed."})
        if self.method in ("POST", "PUT", "PATCH", "DELETE") and str(status_code).startswith("2"):
            headers.setdefault("Idempotent-Replayed", {
                "schema": {"type": "string", "enum": ["true"]},
                "description": "Present on a replayed response (a retry with the same Idempotency-Key)."})
        headers.setdefault("X-Request-Id", {"schema": {"type": "string"}, "description": "The caller's, or a new id."})
        headers.setdefault("X-Api-Version", {"schema": {"type": "string"}, "description": "The API's version date."})
        return headers
