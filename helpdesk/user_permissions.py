"""A user's Django permissions, department access and client, read in the query that loads
the user (the API key's lookup), instead of the two queries ``ModelBackend`` sends on the
first ``has_perm()`` of every request.

Nothing is cached across requests: the sets are read from the database together with the
user, on every request, so a revoked permission, a removed group or a deactivated user
takes effect on the very next request on every app server. The values land where their
readers look for them: ``ModelBackend``'s ``_user_perm_cache``, ``_group_perm_cache`` and
``_perm_cache`` (only when the site authenticates with ``ModelBackend`` unchanged, since
another backend may compute permissions its own way) and ``helpdesk.permissions``'
``_helpdesk_department_ids`` and ``_helpdesk_client_id``.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_backends, get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import FieldDoesNotExist
from django.db import connections
from django.db.models import F, OuterRef, QuerySet, Subquery, TextField, Value
from django.db.models.functions import Concat


#: The SQL that turns a subquery's column ``v`` into a JSON array, per database.
_JSON_LIST = {
    "postgresql": "(SELECT JSON_AGG(_v.v)::text FROM (%(subquery)s) _v)",
    "sqlite": "(SELECT JSON_GROUP_ARRAY(_v.v) FROM (%(subquery)s) _v)",
    "mysql": "(SELECT JSON_ARRAYAGG(_v.v) FROM (%(subquery)s) _v)",
}


class JSONList(Subquery):
    """The values of a subquery's column ``v`` as a JSON array (text): one scalar subquery."""

    output_field = TextField()

    def as_sql(self, compiler: Any, connection: Any, template: str | None = None, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, template=_JSON_LIST[connection.vendor], **extra)


def _values(text: str | None) -> list[Any]:
    return json.loads(text) if text else []


#: The methods through which ``ModelBackend`` reads (and caches) permissions.
_READERS = ("_get_permissions", "_get_user_permissions", "_get_group_permissions",
            "get_user_permissions", "get_group_permissions", "get_all_permissions")


def folds_permissions() -> bool:
    """True when every permission the site checks comes from an unchanged ``ModelBackend``
    (Django's default) and the user model has its ``user_permissions`` and ``groups``."""
    backends = get_backends()
    plain = all(
        isinstance(backend, ModelBackend)
        and all(getattr(type(backend), name) is getattr(ModelBackend, name) for name in _READERS)
        for backend in backends
    )
    if not backends or not plain:
        return False
    try:
        get_user_model()._meta.get_field("user_permissions")
        get_user_model()._meta.get_field("groups")
    except FieldDoesNotExist:
        return False
    return True


def annotate_user_access(queryset: QuerySet[Any], user_field: str) -> QuerySet[Any]:
    """``queryset`` (rows with a foreign key ``user_field`` to the user) with the user's
    permission names, department ids and client id as annotations; see ``fill_user_access``."""
    from django.contrib.auth.models import Permission

    from .models import AgentAccess, Contact

    if connections[queryset.db].vendor not in _JSON_LIST:
        return queryset  # read the usual way, one query each
    user_ref = OuterRef(f"{user_field}_id")
    names = Concat("content_type__app_label", Value("."), "codename", output_field=TextField())
    annotations: dict[str, Any] = {
        "_hd_departments": JSONList(
            AgentAccess.departments.through.objects.filter(agentaccess__user_id=user_ref)
            .order_by().values(v=F("department_id"))
        ),
        "_hd_has_access": Subquery(AgentAccess.objects.filter(user_id=user_ref).values("pk")[:1]),
        "_hd_client": Subquery(Contact.objects.filter(user_id=user_ref).order_by("pk").values("client_id")[:1]),
    }
    if folds_permissions():
        User = get_user_model()
        user_query = User._meta.get_field("user_permissions").related_query_name()
        group_query = "group__%s" % User._meta.get_field("groups").related_query_name()
        annotations["_hd_user_perms"] = JSONList(
            Permission.objects.filter(**{user_query: user_ref}).order_by().values(v=names))
        annotations["_hd_group_perms"] = JSONList(
            Permission.objects.filter(**{group_query: user_ref}).order_by().values(v=names))
    return queryset.annotate(**annotations)


def fill_user_access(row: Any, user: Any) -> None:
    """Put what ``annotate_user_access`` read on ``row`` where its readers look for it on ``user``."""
    if not hasattr(row, "_hd_client"):
        return
    user._helpdesk_department_ids = (
        None if row._hd_has_access is None else frozenset(int(pk) for pk in _values(row._hd_departments))
    )
    user._helpdesk_client_id = row._hd_client
    if hasattr(row, "_hd_user_perms") and user.is_active and not user.is_superuser:
        # As ``ModelBackend._get_permissions`` builds them (a superuser's are every
        # permission, and ``has_perm`` never asks the backend for them).
        user._user_perm_cache = set(_values(row._hd_user_perms))
        user._group_perm_cache = set(_values(row._hd_group_perms))
        user._perm_cache = user._user_perm_cache | user._group_perm_cache
