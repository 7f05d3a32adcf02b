"""The envelope: ``{"data": ...}`` around every successful body.

The renderer wraps whatever a view returns. A view that must send its body as it is (an
error, a list already shaped as ``{"data", "meta"}``, or the bulk upsert's Planhat-shaped
reply) marks the response with :func:`unwrapped`::

    from helpdesk.api.renderers import unwrapped
    return unwrapped(Response({"created": 1, ...}))

and the renderer leaves that body untouched.
"""

from __future__ import annotations

from typing import Any

from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response

#: The response attribute that switches the envelope off.
UNWRAPPED_ATTR = "helpdesk_unwrapped"


def unwrapped(response: Response) -> Response:
    """Send ``response.data`` without the ``{"data": ...}`` envelope."""
    setattr(response, UNWRAPPED_ATTR, True)
    return response


def is_unwrapped(response: Any) -> bool:
    return bool(getattr(response, UNWRAPPED_ATTR, False))


class EnvelopeJSONRenderer(JSONRenderer):
    """JSON, wrapped in ``{"data": ...}`` unless the response is marked unwrapped."""

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        response = (renderer_context or {}).get("response")
        if data is not None and response is not None and not is_unwrapped(response):
            if response.status_code >= 400:
                pass  # errors always come shaped by the exception handler
            else:
                data = {"data": data}
        return super().render(data, accepted_media_type, renderer_context)


class HelpdeskBrowsableAPIRenderer(BrowsableAPIRenderer):
    """The browsable API for signed-in staff, showing the same enveloped JSON.

    Its HTML forms are left out: they are built from the serializers' DRF field machinery
    and would not show the custom fields; the raw-data form (JSON or form-encoded) covers
    every endpoint.
    """

    def get_rendered_html_form(self, data: Any, view: Any, method: str, request: Any) -> Any:
        return None
