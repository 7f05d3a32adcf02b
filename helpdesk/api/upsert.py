"""Placeholder for the bulk upsert (``PUT /tickets``), built on the ``sync`` branch.

That branch replaces this module with the real ``BulkUpsertMixin``; until then the
route answers 501 in the API's error shape.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response

from .exceptions import NotImplementedYet


class BulkUpsertMixin:
    """Adds ``bulk_upsert`` (``PUT /tickets``) to ``TicketViewSet``.

    The real one returns Planhat's top-level shape, unwrapped (see ``renderers.unwrapped``).
    """

    @extend_schema(
        summary="Bulk upsert (Planhat dialect)",
        description="Not available on this server yet: answers 501.",
        request=None,
        responses={501: OpenApiResponse(description="Not implemented.")},
    )
    def bulk_upsert(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        raise NotImplementedYet()
