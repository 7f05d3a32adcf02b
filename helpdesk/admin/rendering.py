"""A form renderer that writes ``<select>`` widgets and field labels in Python.

Django renders every ``<option>`` of a select through two templates (the option and its
attributes); on the ticket page the selects (status twice, department, the autocompletes)
were a large share of the rendering time, and every label is a template of its own too. ``FastSelectRenderer`` wraps the site's own form
renderer and writes exactly the markup of Django's ``django/forms/widgets/select.html``,
``select_option.html`` and ``attrs.html`` (and ``django/forms/label.html``) — but only while those templates resolve to
Django's own files: a site that overrides any of them gets its templates, as before.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import django.forms
from django.forms.renderers import BaseRenderer, get_default_renderer
from django.utils.html import conditional_escape, escape, format_html
from django.utils.safestring import SafeString, mark_safe

SELECT = "django/forms/widgets/select.html"
OPTION = "django/forms/widgets/select_option.html"
ATTRS = "django/forms/widgets/attrs.html"
LABEL = "django/forms/label.html"
LABEL_ATTRS = "django/forms/attrs.html"
DJANGO_FORMS_TEMPLATES = os.path.join(os.path.dirname(django.forms.__file__), "templates")


def _attrs(attrs: dict[str, Any]) -> str:
    """``attrs.html``: ``False`` leaves the attribute out, ``True`` writes its bare name."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {conditional_escape(name)}")
        else:
            parts.append(f' {conditional_escape(name)}="{escape("%s" % (value,))}"')
    return "".join(parts)


def render_select(widget: dict[str, Any]) -> SafeString:
    """The markup of ``select.html`` for a widget's template context."""
    out = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            out.append(format_html('\n  <optgroup label="{}">', group_name))
        for option in group_choices:
            out.append(
                f'\n  <option value="{escape("%s" % (option["value"],))}"{_attrs(option["attrs"])}>'
                f'{conditional_escape(option["label"])}</option>'
            )
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>")
    return mark_safe("".join(out))


def render_label(context: dict[str, Any]) -> SafeString:
    """The markup of ``django/forms/label.html`` (every field's label goes through it)."""
    label = conditional_escape(context["label"])
    if context.get("use_tag"):
        tag = conditional_escape(context["tag"])
        return mark_safe(f"<{tag}{_attrs(context.get('attrs') or {})}>{label}</{tag}>")
    return mark_safe(label)


class FastSelectRenderer(BaseRenderer):
    """The site's form renderer, with Django's stock select and label templates written in Python."""

    def __init__(self, base: BaseRenderer) -> None:
        self.base = base
        for name in ("form_template_name", "formset_template_name", "field_template_name"):
            setattr(self, name, getattr(base, name))

    def get_template(self, template_name: str) -> Any:
        return self.base.get_template(template_name)

    @cache  # noqa: B019 (one renderer per process; templates do not move at run time)
    def _is_stock(self, template_name: str) -> bool:
        template = self.get_template(template_name)
        origin = getattr(getattr(template, "template", template), "origin", None)
        name = getattr(origin, "name", "") or ""
        return os.path.abspath(name).startswith(DJANGO_FORMS_TEMPLATES + os.sep)

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        if template_name == LABEL and self._is_stock(LABEL) and self._is_stock(LABEL_ATTRS):
            return render_label(context)
        widget = context.get("widget") if template_name == SELECT else None
        if (
            widget is not None
            and all(self._is_stock(name) for name in (SELECT, OPTION, ATTRS))
            and all(o.get("template_name") == OPTION for _g, options, _i in widget["optgroups"] for o in options)
        ):
            return render_select(widget)
        return self.base.render(template_name, context, request)


@cache
def fast_select_renderer() -> FastSelectRenderer:
    """The process's renderer (like ``get_default_renderer``, built once)."""
    return FastSelectRenderer(get_default_renderer())
