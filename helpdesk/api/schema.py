"""The OpenAPI 3 document (drf-spectacular) of the helpdesk API, served at ``/schema``."""

from __future__ import annotations

from typing import Any

from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiYamlRenderer
from drf_spectacular.views import SpectacularAPIView

from .base import HelpdeskAPIMixin


def only_helpdesk_endpoints(endpoints: list[Any], **kwargs: Any) -> list[Any]:
    """Preprocessing hook: document the helpdesk API only, with its optional slashes dropped."""
    out = []
    for path, path_regex, method, callback in endpoints:
        module = getattr(getattr(callback, "cls", None), "__module__", "")
        if not module.startswith("helpdesk.api") or module.endswith(".schema") or module.endswith(".base"):
            continue
        out.append((path.replace("/?", "").rstrip("/") or "/", path_regex, method, callback))
    return out


class SchemaView(HelpdeskAPIMixin, SpectacularAPIView):
    """``GET /schema``: JSON by default, YAML with ``?format=yaml``; needs a signed-in caller."""

    renderer_classes = [OpenApiJsonRenderer, OpenApiYamlRenderer]
    custom_settings = {
        "TITLE": "helpdesk API",
        "DESCRIPTION": "Tickets, replies, status history, tags, reference data and ticket sync. See docs/api.md.",
        "PREPROCESSING_HOOKS": ["helpdesk.api.schema.only_helpdesk_endpoints"],
        "COMPONENT_SPLIT_REQUEST": True,
        "SCHEMA_PATH_PREFIX": None,
        "ENUM_NAME_OVERRIDES": {
            "PriorityEnum": ["normal", "high", "urgent"],
            "ReplyTypeEnum": ["reply", "note"],
        },
    }
