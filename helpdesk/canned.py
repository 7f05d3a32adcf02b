"""Canned replies' placeholders, rendered with Django's template engine, sandboxed.

The text is a Django template run by an engine of its own (no loaders, no tag libraries)
against plain dictionaries of a few values, so a template can read ``{{ ticket.id }}`` or
``{{ requester.first_name }}`` but never call a model method, follow a relation, include
a file or load tags. Only ``if``/``for`` (and their ``else``/``elif``/``empty``/ends)
may be used as tags, and a few reshaping filters (``ALLOWED_FILTERS``); anything else is
refused when the reply is saved.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.template import Context, Engine, TemplateSyntaxError
from django.utils.translation import gettext as _

ALLOWED_TAGS = frozenset({"if", "elif", "else", "endif", "for", "empty", "endfor"})
#: Filters that only reshape a short value (no ``center:"99999999"`` to fill memory).
ALLOWED_FILTERS = frozenset({"default", "upper", "lower", "title", "capfirst", "first", "last", "length",
                             "truncatewords", "truncatechars", "yesno"})
_TAG = re.compile(r"{%-?\s*(\w+)")
_FILTER = re.compile(r"\|\s*(\w+)")
_BLOCKS = re.compile(r"{{.*?}}|{%.*?%}", re.S)
_ENGINE = Engine(dirs=[], app_dirs=False, loaders=[], libraries={}, autoescape=False, debug=False,
                 string_if_invalid="")


def check_template(text: str) -> Any:
    """The compiled template, or a ValidationError naming what is not allowed."""
    used = {m.group(1) for m in _TAG.finditer(text or "")}
    refused = sorted(used - ALLOWED_TAGS)
    if refused:
        raise ValidationError(
            {"body": [_("These template tags are not allowed in a canned reply: %(tags)s.") % {"tags": ", ".join(refused)}]}
        )
    filters = {m.group(1) for block in _BLOCKS.findall(text or "") for m in _FILTER.finditer(block)}
    refused = sorted(filters - ALLOWED_FILTERS)
    if refused:
        raise ValidationError(
            {"body": [_("These filters are not allowed in a canned reply: %(filters)s.") % {"filters": ", ".join(refused)}]}
        )
    try:
        return _ENGINE.from_string(text or "")
    except TemplateSyntaxError as exc:
        raise ValidationError({"body": [_("The placeholders do not parse: %(error)s") % {"error": exc}]}) from None


def _person(user: Any) -> dict[str, str]:
    if user is None:
        return {"first_name": "", "last_name": "", "name": "", "email": ""}
    return {
        "first_name": user.first_name, "last_name": user.last_name,
        "name": user.get_full_name() or user.get_username(), "email": user.email,
    }


def placeholders(*, ticket: Any, agent: Any) -> dict[str, Any]:
    """The values a canned reply may use."""
    return {
        "ticket": {"id": ticket.pk, "subject": ticket.subject, "status": ticket.status.title,
                   "priority": ticket.get_priority_display(), "client": ticket.client.name,
                   "department": ticket.department.name},
        "requester": _person(ticket.requester),
        "agent": _person(agent),
    }


def render(text: str, *, ticket: Any, agent: Any) -> str:
    """``text`` with its placeholders filled in for ``ticket`` and ``agent``."""
    template = check_template(text)
    return template.render(Context(placeholders(ticket=ticket, agent=agent), autoescape=False)).strip()
