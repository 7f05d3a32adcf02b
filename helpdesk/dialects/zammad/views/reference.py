"""The lookups: ``/ticket_states``, ``/ticket_priorities`` and ``/groups``."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from .... import selectors
from .. import mapping
from .. import serializers as z
from ..mapping import parse_id
from .base import ZammadView


class StateList(ZammadView):
    def get(self, request: Request) -> Response:
        expand = self.expand()
        return Response([z.state_data(sid, s, expand=expand) for sid, s in sorted(mapping.states().items())])


class StateDetail(ZammadView):
    def get(self, request: Request, pk: str) -> Response:
        state = mapping.states().get(parse_id(pk))
        if state is None:
            raise exceptions.NotFound(_("Couldn't find Ticket::State with 'id'=%(id)s") % {"id": pk[:30]})
        return Response(z.state_data(parse_id(pk), state, expand=self.expand()))


class PriorityList(ZammadView):
    def get(self, request: Request) -> Response:
        return Response([z.priority_data(pid, p) for pid, p in sorted(mapping.priorities().items())])


class PriorityDetail(ZammadView):
    def get(self, request: Request, pk: str) -> Response:
        entry = mapping.priorities().get(parse_id(pk))
        if entry is None:
            raise exceptions.NotFound(_("Couldn't find Ticket::Priority with 'id'=%(id)s") % {"id": pk[:30]})
        return Response(z.priority_data(parse_id(pk), entry))


class GroupList(ZammadView):
    def get(self, request: Request) -> Response:
        offset, limit = self.page(default=100, most=500)
        rows = selectors.department_list(user=request.user).order_by("pk")[offset:offset + limit]
        return Response([z.group_data(d) for d in rows])


class GroupDetail(ZammadView):
    def get(self, request: Request, pk: str) -> Response:
        department = selectors.department_list(user=request.user).filter(pk=parse_id(pk)).first() if parse_id(pk) else None
        if department is None:
            raise exceptions.NotFound(_("Couldn't find Group with 'id'=%(id)s") % {"id": pk[:30]})
        return Response(z.group_data(department))
