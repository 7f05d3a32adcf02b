"""Reference data: departments, statuses, tags (with counts), custom fields (both roles);
clients and projects (agents only). Each is a paginated list in the envelope."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response

from .. import selectors
from ..models import CannedReply, Client, ClientDomain, CustomField, Department, Project, Tag, TicketStatus
from .base import HelpdeskAPIMixin
from .filters import ProjectFilterSet
from .permissions import CanViewClients, CanViewProjects, IsAgent
from .serializers import (
    CannedReplySerializer,
    ClientSerializer,
    CustomFieldSerializer,
    DepartmentSerializer,
    ProjectSerializer,
    StatusSerializer,
    TagCountSerializer,
    dt,
)


class ReferenceListView(HelpdeskAPIMixin, generics.ListAPIView):
    """A paginated list rendered by ``row`` (a plain function, like the tickets)."""

    filter_backends: list[Any] = []

    def row(self, obj: Any) -> dict[str, Any]:
        return self.get_serializer(obj).data

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response([self.row(obj) for obj in page])


class DepartmentList(ReferenceListView):
    """Every department; a department-limited agent only theirs (``selectors.department_list``)."""

    queryset = Department.objects.order_by("name", "id")
    serializer_class = DepartmentSerializer

    def get_queryset(self) -> QuerySet[Department]:
        return selectors.department_list(user=self.request.user)

    def row(self, d: Department) -> dict[str, Any]:
        return {"id": d.pk, "name": d.name, "description": d.description, "is_default": d.is_default}


class StatusList(ReferenceListView):
    queryset = TicketStatus.objects.order_by("order", "id")
    serializer_class = StatusSerializer

    def row(self, s: TicketStatus) -> dict[str, Any]:
        return {"id": s.pk, "title": s.title, "is_closed": s.is_closed, "order": s.order, "colour": s.colour}


class TagList(ReferenceListView):
    """Tags with the number of tickets carrying each; a contact sees only their client's."""

    serializer_class = TagCountSerializer
    queryset = Tag.objects.none()

    def get_queryset(self) -> QuerySet[Tag]:
        # Counted over the tickets the caller may see (a department-limited agent's too).
        return selectors.tag_counts(user=self.request.user)

    def row(self, t: Any) -> dict[str, Any]:
        return {"id": t.pk, "name": t.name, "count": t.count}


class CustomFieldList(ReferenceListView):
    """The enabled custom fields, i.e. the extra keys ``POST``/``PATCH /tickets`` accept."""

    serializer_class = CustomFieldSerializer
    queryset = CustomField.objects.filter(enabled=True).order_by("order", "id")

    def row(self, f: CustomField) -> dict[str, Any]:
        return {
            "key": f.key, "label": f.label, "type": f.type, "choices": list(f.choices or []),
            "required": f.required, "help_text": f.help_text, "order": f.order,
        }


class ClientList(ReferenceListView):
    serializer_class = ClientSerializer
    permission_classes = HelpdeskAPIMixin.permission_classes + [IsAgent, CanViewClients]
    queryset = Client.objects.prefetch_related(
        Prefetch("domains", queryset=ClientDomain.objects.order_by("domain"))
    ).order_by("name", "id")

    def row(self, c: Client) -> dict[str, Any]:
        return {
            "id": c.pk, "name": c.name, "external_id": c.external_id,
            "domains": [d.domain for d in c.domains.all()], "created": dt(c.created_at),
        }


class ProjectList(ReferenceListView):
    serializer_class = ProjectSerializer
    permission_classes = HelpdeskAPIMixin.permission_classes + [IsAgent, CanViewProjects]
    queryset = Project.objects.order_by("client_id", "name", "id")
    filterset_class = ProjectFilterSet
    filter_backends = HelpdeskAPIMixin.filter_backends

    def row(self, p: Project) -> dict[str, Any]:
        return {"id": p.pk, "name": p.name, "client_id": p.client_id}


class CannedReplyList(ReferenceListView):
    """The canned replies the caller may use (agents): shared ones and their own."""

    serializer_class = CannedReplySerializer
    permission_classes = HelpdeskAPIMixin.permission_classes + [IsAgent]
    queryset = CannedReply.objects.none()

    def get_queryset(self) -> QuerySet[CannedReply]:
        return selectors.canned_reply_list(user=self.request.user).order_by("title", "id")

    def row(self, c: CannedReply) -> dict[str, Any]:
        return {"id": c.pk, "title": c.title, "body": c.body, "shared": c.is_shared, "status_id": c.status_id,
                "tags": c.tag_names}
