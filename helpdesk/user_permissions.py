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

import copy
import json
from typing import Any

from django.contrib.auth import get_backends, get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import FieldDoesNotExist
from django.db import connections
from django.db.models import F, OuterRef, QuerySet, Subquery, TextField


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


_FOLDS: list[bool] = []


def folds_permissions() -> bool:
    """True when every permission the site checks comes from an unchanged ``ModelBackend``
    (Django's default) and the user model has its ``user_permissions`` and ``groups``.

    Worked out once per process (``get_backends()`` imports and builds every backend),
    again when ``AUTHENTICATION_BACKENDS`` or ``AUTH_USER_MODEL`` change (tests)."""
    if not _FOLDS:
        _FOLDS.append(_folds_permissions())
    return _FOLDS[0]


def _folds_permissions() -> bool:
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
    permission ids, department ids and client id as annotations; see ``fill_user_access``.

    The permissions come as ids from the two link tables alone (no join to the
    permission and content type tables: a small plan), named by ``permission_names``.
    """
    from .models import AgentAccess, Contact

    if connections[queryset.db].vendor not in _JSON_LIST:
        return queryset  # read the usual way, one query each
    user_ref = OuterRef(f"{user_field}_id")
    annotations: dict[str, Any] = {
        "_hd_departments": JSONList(
            AgentAccess.departments.through.objects.filter(agentaccess__user_id=user_ref)
            .order_by().values(v=F("department_id"))
        ),
        "_hd_has_access": Subquery(AgentAccess.objects.filter(user_id=user_ref).values("pk")[:1]),
        "_hd_client": Subquery(Contact.objects.filter(user_id=user_ref).order_by("pk").values("client_id")[:1]),
    }
    if folds_permissions():
        from django.contrib.auth.models import Group

        User = get_user_model()
        user_links = User._meta.get_field("user_permissions").remote_field.through
        user_column = User._meta.get_field("user_permissions").m2m_field_name()
        group_query = "group__%s" % User._meta.get_field("groups").related_query_name()
        annotations["_hd_user_perms"] = JSONList(
            user_links.objects.filter(**{f"{user_column}_id": user_ref}).order_by().values(v=F("permission_id")))
        annotations["_hd_group_perms"] = JSONList(
            Group.permissions.through.objects.filter(**{group_query: user_ref}).order_by().values(v=F("permission_id")))
    return queryset.annotate(**annotations)


def key_queryset(manager: Any, using: str) -> QuerySet[Any]:
    """``APIKey`` rows with their user and ``annotate_user_access``'s annotations (built
    once per process, by ``key_lookup``, which keeps it compiled)."""
    return annotate_user_access(manager.db_manager(using).select_related("user"), "user")


#: (database, backend choice) -> the key lookup compiled: see ``key_lookup``.
_KEY_LOOKUPS: dict[tuple[str, bool], tuple[QuerySet[Any], Any, str, tuple[Any, ...], int]] = {}
#: Stands for the prefix while the lookup is compiled (no key prefix holds a NUL).
_PREFIX = "\x00prefix\x00"


def key_lookup(manager: Any, using: str, prefix: str) -> Any:
    """The unrevoked ``APIKey`` with ``prefix``, with its user and the access annotations,
    or None: ``key_queryset().filter(prefix=prefix, revoked=False).first()``.

    Every API request runs this one query, always the same but for the prefix, and
    compiling it (the five permission subqueries) cost about as much CPU as running it.
    So its SQL is compiled once per process and each request runs that SQL with its own
    prefix through a copy of the compiler, whose row layout (the user's columns, the
    annotations) Django's model iterable reads as usual: the same objects come back,
    read afresh from the database every time.
    """
    cache_key = (using, folds_permissions())
    entry = _KEY_LOOKUPS.get(cache_key)
    if entry is None:
        template = key_queryset(manager, using).filter(prefix=_PREFIX, revoked=False).order_by("pk")[:1]
        compiler = template.query.get_compiler(using)
        sql, params = compiler.as_sql()
        entry = _KEY_LOOKUPS[cache_key] = (template, compiler, sql, tuple(params), list(params).index(_PREFIX))
    template, compiled, sql, params, index = entry
    compiler = copy.copy(compiled)
    compiler.connection = connections[using]  # this thread's connection
    values = (*params[:index], prefix, *params[index + 1:])
    compiler.as_sql = lambda *args, **kwargs: (sql, values)
    query = copy.copy(template.query)  # read by the iterable, never changed
    query.get_compiler = lambda *args, **kwargs: compiler
    rows = list(QuerySet(model=template.model, query=query, using=using))
    return rows[0] if rows else None


_NAMES: dict[int, str] = {}


def permission_names(ids: list[int]) -> set[str]:
    """``"app_label.codename"`` of each permission id, as ``ModelBackend`` names them.

    The id → name map is kept per process: permissions are rows migrations make and
    never rename. An id it lacks (a permission made since) reloads it; who has which
    permission is never kept, it is read with every request.
    """
    if any(pk not in _NAMES for pk in ids):
        from django.contrib.auth.models import Permission

        _NAMES.clear()
        _NAMES.update(
            (pk, f"{app_label}.{codename}")
            for pk, app_label, codename in Permission.objects.values_list("pk", "content_type__app_label", "codename")
        )
    return {_NAMES[pk] for pk in ids if pk in _NAMES}


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
        user._user_perm_cache = permission_names(_values(row._hd_user_perms))
        user._group_perm_cache = permission_names(_values(row._hd_group_perms))
        user._perm_cache = user._user_perm_cache | user._group_perm_cache


def forget_names(**kwargs: Any) -> None:
    _NAMES.clear()


def forget_backends(*, setting: str, **kwargs: Any) -> None:
    if setting in ("AUTHENTICATION_BACKENDS", "AUTH_USER_MODEL"):
        _FOLDS.clear()
        _KEY_LOOKUPS.clear()


def connect() -> None:
    """Drop the id → name map whenever a permission is saved or deleted, or after ``migrate``;
    the backend choice and the key queryset when the settings they depend on change."""
    from django.contrib.auth.models import Permission
    from django.core.signals import setting_changed
    from django.db.models.signals import post_delete, post_migrate, post_save

    setting_changed.connect(forget_backends, dispatch_uid="helpdesk_permission_backends")

    post_save.connect(forget_names, sender=Permission, dispatch_uid="helpdesk_permission_names_save")
    post_delete.connect(forget_names, sender=Permission, dispatch_uid="helpdesk_permission_names_delete")
    post_migrate.connect(forget_names, dispatch_uid="helpdesk_permission_names_migrate")
