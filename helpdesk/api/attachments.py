"""``GET /attachments/{id}``: download a file the caller may see (``selectors.attachment_get``).

Always a download (``Content-Disposition: attachment``), with the type sniffed when it
was stored and ``nosniff``; a file the caller may not see is a 404, never a 403.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.views import APIView

from .. import selectors
from ..attachments import download_response
from ..models import Attachment
from .base import HelpdeskAPIMixin


class AnyAccept(DefaultContentNegotiation):
    """The file is sent whatever ``Accept`` says; errors are JSON."""

    def select_renderer(self, request: Any, renderers: Any, format_suffix: Any = None) -> Any:
        return renderers[0], renderers[0].media_type


class AttachmentDownload(HelpdeskAPIMixin, APIView):
    content_negotiation_class = AnyAccept

    @extend_schema(
        summary="Download an attachment",
        description="The file of a ticket's message or reply the caller may see (contacts: never a note's "
        "file, never another client's). `Content-Disposition: attachment`, the sniffed content type, "
        "`X-Content-Type-Options: nosniff`.",
        responses={200: OpenApiResponse(OpenApiTypes.BINARY, description="The file."), 404: None},
    )
    def get(self, request: Request, pk: str) -> Any:
        try:
            attachment = selectors.attachment_get(user=request.user, pk=pk)
        except Attachment.DoesNotExist:
            raise NotFound(_("Attachment not found.")) from None
        return download_response(attachment)
