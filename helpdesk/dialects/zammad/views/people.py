"""``/organizations`` and ``/users`` (list, search, show; agents create customers)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from .... import selectors, services
from .. import serializers as z
from ..errors import Unprocessable, unprocessable
from ..mapping import parse_id
from .base import ZammadView


class OrganizationList(ZammadView):
    def get(self, request: Request) -> Response:
        offset, limit = self.page(default=100, most=500)
        expand = self.expand()
        rows = selectors.client_list(user=request.user)[offset:offset + limit]
        return Response([z.organization_data(c, expand=expand) for c in rows])


class OrganizationSearch(ZammadView):
    def get(self, request: Request) -> Response:
        offset, limit = self.page(default=100, most=500)
        query = str(request.query_params.get("query", "")).strip().strip("*")
        rows = selectors.client_list(user=request.user)
        if query:
            rows = rows.filter(Q(name__icontains=query) | Q(domains__domain__icontains=query)).distinct()
        expand = self.expand()
        return Response([z.organization_data(c, expand=expand) for c in rows[offset:offset + limit]])


class OrganizationDetail(ZammadView):
    def get(self, request: Request, pk: str) -> Response:
        found = None
        if parse_id(pk) is not None:
            found = selectors.client_list(user=request.user).filter(pk=parse_id(pk)).first()
        if found is None:
            raise exceptions.NotFound(_("Couldn't find Organization with 'id'=%(id)s") % {"id": pk[:30]})
        return Response(z.organization_data(found, expand=self.expand()))


class UserMe(ZammadView):
    def get(self, request: Request) -> Response:
        return Response(z.user_data(request.user, expand=self.expand()))


class UserCreate(ZammadView):
    """``POST /users`` (agents): a customer by email, with ``firstname``, ``lastname`` and
    ``organization``/``organization_id``; an email already in use is a 422, as in Zammad."""

    @transaction.atomic
    def post(self, request: Request) -> Response:
        self.require_agent()
        data = self.body()
        email = data.get("email")
        if not isinstance(email, str) or not email.strip():
            raise Unprocessable(_("email is required here: customers are found by their address."))
        User = get_user_model()
        email_field = User.get_email_field_name()
        taken = User._default_manager.annotate(_email=Lower(email_field)).filter(_email=email.strip().lower())
        if taken.exists():
            raise Unprocessable(_("Email address '%(e)s' is already used for another user.") % {"e": email[:200]})
        organization = z.find_organization(data)
        name = " ".join(str(data.get(k) or "") for k in ("firstname", "lastname")).strip()
        try:
            person, _client = services.requester_for_email(email=email, name=name, client=organization)
        except DjangoValidationError as exc:
            raise unprocessable(exc) from None
        fresh = selectors.user_list(user=request.user).get(pk=person.pk)
        return Response(z.user_data(fresh, expand=True), status=201)


class UserList(UserCreate):
    """``GET /users`` (agents: everyone; a customer: their organization's people) and ``POST /users``."""

    def get(self, request: Request) -> Response:
        offset, limit = self.page(default=100, most=500)
        expand = self.expand()
        return Response([z.user_data(u, expand=expand)
                         for u in selectors.user_list(user=request.user)[offset:offset + limit]])


class UserSearch(ZammadView):
    """``GET /users/search?query=`` (agents): a list of users."""

    def get(self, request: Request) -> Response:
        self.require_agent()
        offset, limit = self.page(default=100, most=500)
        query = str(request.query_params.get("query", "")).strip().strip("*")
        rows = selectors.user_list(user=request.user)
        for word in query.split()[:10]:
            if ":" in word:
                word = word.split(":", 1)[1]
            rows = rows.filter(
                Q(username__icontains=word) | Q(email__icontains=word)
                | Q(first_name__icontains=word) | Q(last_name__icontains=word)
            )
        expand = self.expand()
        return Response([z.user_data(u, expand=expand) for u in rows[offset:offset + limit]])


class UserDetail(ZammadView):
    def get(self, request: Request, pk: str) -> Response:
        found = None
        if parse_id(pk) is not None:
            found = selectors.user_list(user=request.user).filter(pk=parse_id(pk)).first()
        if found is None:
            raise exceptions.NotFound(_("Couldn't find User with 'id'=%(id)s") % {"id": pk[:30]})
        return Response(z.user_data(found, expand=self.expand()))
