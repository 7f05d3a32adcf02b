"""The OpenAPI 3 document (drf-spectacular) of the helpdesk API, served at ``/schema``."""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiYamlRenderer
from drf_spectacular.views import SpectacularAPIView

from .. import __version__
from ..limits import MAX_ID
from .base import HelpdeskAPIMixin


def only_helpdesk_endpoints(endpoints: list[Any], **kwargs: Any) -> list[Any]:
    """Preprocessing hook: document the helpdesk API only, with its optional slashes dropped."""
    out = []
    for path, path_regex, method, callback in endpoints:
        module = getattr(getattr(callback, "cls", None), "__module__", "")
        if not module.startswith("helpdesk.api") or module.endswith(".schema") or module.endswith(".base"):
            continue
        out.append((path.replace("/?", "").rstrip("/") or "/", path_regex, method, callback))
    return out


class PlainJsonSchemaRenderer(OpenApiJsonRenderer):
    """The document as ``application/json``, for clients that ask for plain JSON."""

    media_type = "application/json"
    format = "json"


#: The app's own drf-spectacular settings: what the document is called, its version, how it
#: is built. ``SchemaView`` serves it with them, whatever the site's ``SPECTACULAR_SETTINGS``
#: say; ``manage.py spectacular --custom-settings helpdesk.api.schema.SPECTACULAR_SETTINGS``
#: writes the same document. The enum names need no setting (``openapi.NamedChoiceField``),
#: so a site's own ``spectacular`` and ``check --deploy`` name them alike.
SPECTACULAR_SETTINGS: dict[str, Any] = {
    "TITLE": "helpdesk API",
    "DESCRIPTION": (
        "The native REST API of django-deskflow: tickets, replies, status history, tags, "
        "reference data, webhooks and ticket sync. Guide and reference: "
        "https://django-deskflow.readthedocs.io/en/latest/api.html"
    ),
    # The package's release; the API's version date is added by ``versions``.
    "VERSION": __version__,
    "PREPROCESSING_HOOKS": ["helpdesk.api.schema.only_helpdesk_endpoints"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "helpdesk.api.schema.exact_parameters",
        "helpdesk.api.schema.links",
        "helpdesk.api.schema.versions",
    ],
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": None,
}


class SchemaView(HelpdeskAPIMixin, SpectacularAPIView):
    """``GET /schema``: JSON by default (``application/vnd.oai.openapi+json``, or
    ``application/json`` when asked for), YAML with ``?format=yaml``; needs a signed-in caller."""

    renderer_classes = [OpenApiJsonRenderer, PlainJsonSchemaRenderer, OpenApiYamlRenderer]
    custom_settings = SPECTACULAR_SETTINGS


def versions(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Postprocessing hook: the document names both versions (docs/versioning.md):
    ``info.version`` is the package's release, ``info.x-api-version`` the API's version
    date, the one every response sends as ``X-Api-Version``."""
    from ..conf import helpdesk_settings

    info = result.setdefault("info", {})
    info["version"] = __version__
    info["x-api-version"] = helpdesk_settings.API_VERSION
    note = f"API version {helpdesk_settings.API_VERSION}, sent as `X-Api-Version` on every response."
    info["description"] = f"{info.get('description', '')}\n\n{note}".strip()
    return result


# -- making the document exact (what drf-spectacular cannot infer) -------------------------

_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
#: Query parameters that take comma-separated ids (``?client_id=1,2``), at most 100.
ID_LIST_PARAMS = ("category_id", "client_id", "companyId", "project_id", "assignee_id")


def _csv(items: dict[str, Any], max_items: int = 100) -> dict[str, Any]:
    # style=form, explode=false is OpenAPI's spelling of "a,b,c" in one parameter.
    return {"style": "form", "explode": False,
            "schema": {"type": "array", "items": items, "maxItems": max_items}}


def _status_values() -> list[str]:
    from ..models import TicketStatus

    try:
        rows = list(TicketStatus.objects.order_by("pk").values_list("pk", "title"))
    except DatabaseError:  # built without a database (the docs site): no enum then
        return []
    return [str(pk) for pk, _title in rows] + [title for _pk, title in rows]


def exact_parameters(result: dict[str, Any], generator: Any = None, request: Any = None, public: bool = True,
                     **kwargs: Any) -> dict[str, Any]:
    """Postprocessing hook: say what the server enforces, so that a fuzzer (schemathesis)
    finds no "valid request rejected" / "invalid request accepted" gap.

    Id lists are arrays of ids from 1 to 2**63-1, ``select`` names the ticket's fields,
    ``priority`` and ``status`` name their values (statuses are rows: the document lists
    those of this database), path ids are ids, ``search`` has its length limit, and a
    request body that refuses unknown keys says ``additionalProperties: false``.
    """
    from ..models import Priority
    from .views import MAX_SELECT, TICKET_FIELDS

    statuses = _status_values()
    _ticket_writes(result, statuses)
    _webhook_writes(result)
    _for_role(result, getattr(request, "user", None))
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
            for prop in component.get("properties", {}).values():
                _no_nul(prop)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            for param in operation.get("parameters", []):
                name, where = param.get("name"), param.get("in")
                if where == "path" and name in ("id", "reply_id"):
                    param["schema"] = dict(_ID)
                elif where != "query":
                    continue
                elif name in ID_LIST_PARAMS:
                    param.update(_csv(dict(_ID)))
                    param["allowEmptyValue"] = True  # "client_id=" is no filter
                elif name == "select":
                    param.update(_csv({"type": "string", "enum": list(TICKET_FIELDS)}, max_items=MAX_SELECT))
                elif name == "priority":
                    param.update(_csv({"type": "string", "enum": [p.slug for p in Priority]}))
                elif name == "status":
                    param.update(_csv({"type": "string", "enum": statuses} if statuses else {"type": "string"}))
                elif name == "search":
                    param["schema"] = {"type": "string", "maxLength": 200}
                elif name in ("tags", "tags[]"):
                    from .filters import MAX_LIST

                    param["schema"] = {"type": "array", "maxItems": MAX_LIST,
                                       "items": {"type": "string", "pattern": NO_NUL}}
            if method == "get":
                for param in operation.get("parameters", []):
                    if param.get("in") == "query" and param.get("name") not in ("limit", "page", "offset", "paging"):
                        param["allowEmptyValue"] = True  # "?status=" is no filter (django-filter)
            if method == "put" and path.endswith("/status") and statuses:
                _status_body(operation, statuses)
            _form_bodies(result, operation)
            if any(p.get("name") == "select" for p in operation.get("parameters", [])):
                _selected_fields(result, operation)
            if method == "put" and path.endswith("/tickets"):
                operation.setdefault("requestBody", {})["required"] = True  # the bulk upsert needs items
                from ..conf import helpdesk_settings

                body = operation["requestBody"].get("content", {}).get("application/json", {}).get("schema", {})
                for option in body.get("oneOf", []):
                    if option.get("type") == "array":
                        option["maxItems"] = helpdesk_settings.UPSERT_MAX_ITEMS
    _files_in_multipart(result)
    return result


def _status_body(operation: dict[str, Any], statuses: list[str]) -> None:
    ids = [int(s) for s in statuses if s.isdigit()]
    titles = [s for s in statuses if not s.isdigit()]
    for content in operation.get("requestBody", {}).get("content", {}).values():
        content["schema"] = {
            "type": "object", "required": ["status"], "additionalProperties": False,
            "properties": {"status": {"oneOf": [{"type": "integer", "enum": ids}, {"type": "string", "enum": titles + [str(i) for i in ids]}]}},
        }


def _form_bodies(result: dict[str, Any], operation: dict[str, Any]) -> None:
    """A form cannot send an empty list (``tags=`` is one empty tag): a required list
    field of a form body needs one item at least. Only multipart carries ``files``, and a
    form's ``metadata`` is the JSON text of an object (an object would be flattened into
    other fields)."""
    import copy

    components = result.get("components", {}).get("schemas", {})
    for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
        schema = content.get("schema", {})
        ref = schema.get("$ref", "")
        component = components.get(ref.rsplit("/", 1)[-1], {}) if ref else schema
        if media_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
            continue  # JSON keeps the component (``_files_in_multipart`` takes its files away)
        schema = copy.deepcopy(component)
        if media_type != "multipart/form-data":
            schema.get("properties", {}).pop("files", None)  # files need multipart
        elif "files" in schema.get("properties", {}):
            from ..conf import helpdesk_settings

            schema["properties"]["files"]["maxItems"] = helpdesk_settings.ATTACHMENT_MAX_COUNT
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            # A form field has no null: "" is the empty value (a blank project clears it).
            prop.pop("nullable", None)
            if name in required and prop.get("type") == "array" and not prop.get("minItems"):
                prop["minItems"] = 1
        if "metadata" in schema.get("properties", {}):
            schema["properties"]["metadata"] = {
                "type": "string", "pattern": "^\\s*(\\{[\\s\\S]*\\})?\\s*$",
                "description": "The JSON text of an object (blank: {}).",
            }
        content["schema"] = schema


def _files_in_multipart(result: dict[str, Any]) -> None:
    """The request components are the JSON bodies: JSON carries no files (the multipart
    bodies, copied from them by ``_form_bodies``, keep ``files``)."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request"):
            component.get("properties", {}).pop("files", None)


def _ticket_writes(result: dict[str, Any], statuses: list[str]) -> None:
    """The ticket write bodies as the server checks them: user ids are ids, at most
    ``MAX_ASSIGNEES`` assignees, an email requester fits an address, the first status is
    one of this database's, ``time_spent`` is minutes from 0 to 99999999."""
    from ..limits import MAX_ASSIGNEES

    for name, component in list(result.get("components", {}).get("schemas", {}).items()):
        if not name.startswith(("TicketCreateRequest", "PatchedTicketUpdateRequest")):
            continue
        props = component.get("properties", {})
        if "requester" in props:
            props["requester"]["oneOf"] = [dict(_ID), {"type": "string", "format": "email", "maxLength": 254}]
        if "assignee_ids" in props:
            props["assignee_ids"]["items"] = dict(_ID)
            props["assignee_ids"]["maxItems"] = MAX_ASSIGNEES
            props["assignee_ids"]["uniqueItems"] = True
        if "status" in props and statuses:
            ids = [int(s) for s in statuses if s.isdigit()]
            titles = [s for s in statuses if not s.isdigit()]
            props["status"]["oneOf"] = [{"type": "integer", "enum": ids},
                                        {"type": "string", "enum": titles + [str(i) for i in ids]}]
        if "metadata" in props:
            # Kept as JSON (PostgreSQL's jsonb): no NUL in any key or text, at any depth
            # (OpenAPI 3.0 has no propertyNames: the keys' rule is in the description).
            schemas = result["components"]["schemas"]
            schemas.setdefault("MetadataValue", {
                "nullable": True, "description": "Any JSON value without NUL characters (in keys too).",
                "anyOf": [
                    {"type": "string", "pattern": NO_NUL}, {"type": "number"}, {"type": "boolean"},
                    {"type": "array", "items": {"$ref": "#/components/schemas/MetadataValue"}},
                    {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/MetadataValue"}},
                ],
            })
            props["metadata"]["additionalProperties"] = {"$ref": "#/components/schemas/MetadataValue"}
        if "time_spent" in props:
            # 0 to 99999999 with at most 6 decimals (DecimalField(max_digits=14, decimal_places=6)).
            props["time_spent"]["pattern"] = "^(?!99999999\\.\\d*[1-9])(?:\\d{1,8}(?:\\.\\d{0,6})?|\\.\\d{1,6})$"


def _webhook_writes(result: dict[str, Any]) -> None:
    """Webhook bodies: ``events`` names known event types (or ``*``), ``url`` is http(s)."""
    from ..events.webhooks import EVENTS

    for name, component in result.get("components", {}).get("schemas", {}).items():
        if not name.startswith(("WebhookWriteRequest", "PatchedWebhookWriteRequest")):
            continue
        props = component.get("properties", {})
        if "events" in props:
            props["events"]["items"] = {"type": "string", "enum": sorted(EVENTS) + ["*"]}
            props["events"]["minItems"] = 1
        if "url" in props:
            props["url"]["pattern"] = "^https?://[^\\s\\x00]+$"


#: Text cannot hold NUL characters (PostgreSQL refuses them; the API answers 422).
NO_NUL = "^[^\\x00]*$"


#: A non-blank text (DRF trims whitespace before it checks for blank).
NON_BLANK = "^[^\\x00]*[^\\s\\x00][^\\x00]*$"


def _no_nul(prop: dict[str, Any]) -> None:
    if prop.get("type") == "string" and "enum" not in prop and "format" not in prop:
        prop.setdefault("pattern", NON_BLANK if prop.get("minLength", 0) >= 1 else NO_NUL)
    if prop.get("type") == "array" and isinstance(prop.get("items"), dict):
        _no_nul(prop["items"])


def _for_role(result: dict[str, Any], user: Any) -> None:
    """The document describes what its reader may send: a contact opens tickets for their
    own client (``ticket_clientid`` optional) and may not tag them nor set the agents'
    fields (``TicketWriteSerializer.AGENT_FIELDS``)."""
    from ..permissions import is_agent

    if user is None or not getattr(user, "is_authenticated", False) or is_agent(user):
        return
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.startswith("TicketCreateRequest"):
            from .serializers import TicketWriteSerializer

            # tags, requester, assignee_ids, status, severity, time_spent: agents only.
            for field in TicketWriteSerializer.AGENT_FIELDS:
                component.get("properties", {}).pop(field, None)
            component["required"] = [r for r in component.get("required", []) if r != "ticket_clientid"]
        if name.startswith("ReplyWriteRequest") and "ticketreply_type" in component.get("properties", {}):
            component["properties"]["ticketreply_type"] = {
                "type": "string", "enum": ["reply"], "description": "reply (contacts cannot write notes).",
            }


def links(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Postprocessing hook: OpenAPI links from what a write creates to what reads and
    changes it (a new ticket's id to its own operations, a new reply's id to its delete),
    so clients and stateful fuzzers (schemathesis) can follow them."""
    paths = result.get("paths", {})

    def op_id(path: str, method: str) -> str | None:
        return paths.get(path, {}).get(method, {}).get("operationId")

    tickets = next((p for p in paths if p.endswith("/tickets")), None)
    if tickets is None:
        return result
    detail = f"{tickets}/{{id}}"
    created = paths[tickets].get("post", {}).get("responses", {}).get("201")
    if created is not None:
        targets = {}
        for path, operations in paths.items():
            if path.startswith(detail) and "{reply_id}" not in path:
                for method in operations:
                    if op_id(path, method):
                        targets[f"{method}{path[len(detail):].replace('/', '_') or '_ticket'}"] = op_id(path, method)
        created["links"] = {
            name: {"operationId": target, "parameters": {"id": "$response.body#/data/id"}}
            for name, target in sorted(targets.items())
        }
    replies = f"{detail}/replies"
    reply_created = paths.get(replies, {}).get("post", {}).get("responses", {}).get("201")
    delete_reply = op_id(f"{replies}/{{reply_id}}", "delete")
    if reply_created is not None and delete_reply:
        reply_created["links"] = {"delete_reply": {
            "operationId": delete_reply,
            "parameters": {"id": "$request.path.id", "reply_id": "$response.body#/data/id"},
        }}
    return result


def _selected_fields(result: dict[str, Any], operation: dict[str, Any]) -> None:
    """With ``select`` a ticket has only the named keys: its 2xx bodies say so."""
    import copy

    components = result.setdefault("components", {}).setdefault("schemas", {})
    if "Ticket" not in components:
        return
    if "TicketSelected" not in components:
        sparse = copy.deepcopy(components["Ticket"])
        sparse.pop("required", None)
        sparse["description"] = "A ticket: every key, or with `select` only the keys it names."
        components["TicketSelected"] = sparse
    ref, new = "#/components/schemas/Ticket", "#/components/schemas/TicketSelected"

    def swap(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref" and value == ref:
                    node[key] = new
                elif key == "$ref" and value.startswith("#/components/schemas/Paginated"):
                    # The list's envelope component: a copy whose items are sparse tickets.
                    name = value.rsplit("/", 1)[-1]
                    selected = name.replace("Ticket", "TicketSelected", 1)
                    if selected != name and selected not in components and name in components:
                        components[selected] = copy.deepcopy(components[name])
                        swap(components[selected])
                    if selected in components:
                        node[key] = f"#/components/schemas/{selected}"
                else:
                    swap(value)
        elif isinstance(node, list):
            for item in node:
                swap(item)

    for code, response in operation.get("responses", {}).items():
        if str(code).startswith("2"):
            swap(response.get("content", {}))
