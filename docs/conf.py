"""Sphinx configuration of the documentation site (``make docs``; Read the Docs builds it too).

The pages are Markdown (MyST). The API reference is rendered from the OpenAPI document
that the app itself serves, generated here with drf-spectacular from the demo site's
settings, so the reference cannot drift from the code.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.pop("DATABASE_URL", None)  # the schema needs no database

import django  # noqa: E402

django.setup()

import helpdesk  # noqa: E402

project = "django-deskflow"
author = "The helpdesk developers"
copyright = "2026, the helpdesk developers"
release = helpdesk.__version__
version = release

extensions = ["myst_parser", "sphinxcontrib.openapi"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "pypi.md", "examples", "**/.*"]
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]
suppress_warnings = [
    # Pages that include the repository's README and bench/README link to files that are
    # not pages (LICENSE, the example script): those links are to the repository.
    "myst.xref_missing",
]
html_theme = "furo"
html_title = f"django-deskflow {release}"
html_static_path = ["_static"]


def write_openapi(app):
    """The OpenAPI document as the API serves it, for the API reference page."""
    from drf_spectacular.renderers import OpenApiJsonRenderer
    from drf_spectacular.settings import patched_settings

    from helpdesk.api.schema import SchemaView

    # As the schema view builds it: with the view's own settings (paths, enum names, ...).
    with patched_settings(SchemaView.custom_settings):
        generator = SchemaView.generator_class(urlconf="helpdesk.api.urls", api_version=SchemaView.api_version)
        schema = generator.get_schema(request=None, public=True)
    # sphinxcontrib-openapi needs a "type" on every parameter; OpenAPI does not (an enum
    # alone is valid). Give enum-only parameters the type of their values, for the page only.
    for operations in schema["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                values = parameter.get("schema", {}).get("enum")
                if "type" not in parameter.get("schema", {}) and values:
                    kind = {bool: "boolean", int: "integer", float: "number"}.get(type(values[0]), "string")
                    parameter["schema"]["type"] = kind
    out = Path(app.srcdir) / "_build_openapi.json"
    out.write_bytes(OpenApiJsonRenderer().render(schema, renderer_context={}))


def setup(app):
    app.connect("builder-inited", write_openapi)
