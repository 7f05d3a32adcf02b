"""The OpenAPI document at /schema: valid, complete, and true to what the server does."""

import pytest
from django.urls import URLPattern, get_resolver

from helpdesk.api import serializers as s
from helpdesk.api.filters import TicketFilterSet
from helpdesk.models import StatusChange
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(api):
    r = api.get("/api/schema")
    assert r.status_code == 200
    assert r["X-Api-Version"]
    return r.json()


def routes():
    """(path, method) of every route of helpdesk.api.urls, from the URLconf itself."""
    resolver = get_resolver("helpdesk.api.urls")
    out = set()
    for pattern in resolver.url_patterns:
        assert isinstance(pattern, URLPattern)
        view = pattern.callback
        if pattern.name in ("not-found", "schema"):
            continue
        path = "/api/" + str(pattern.pattern).strip("^$").replace("/?", "")
        path = path.replace("(?P<pk>[^/]+)", "{id}").replace("(?P<reply_id>[^/]+)", "{reply_id}")
        methods = view.actions.keys() if hasattr(view, "actions") else ["get"]
        out |= {(path, m) for m in methods if m != "head"}  # DRF adds HEAD to GET routes once called
    return out


def test_valid_openapi_3(schema):
    from openapi_spec_validator import validate

    validate(schema)
    assert schema["openapi"].startswith("3.")


def test_yaml_too(api):
    r = api.get("/api/schema?format=yaml")
    assert r.status_code == 200 and r.content.startswith(b"openapi:")


def test_every_route_and_method_is_documented(schema):
    documented = {(path, method) for path, ops in schema["paths"].items() for method in ops}
    assert routes() == documented


def test_every_operation_lists_its_errors(schema):
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            codes = set(op["responses"])
            assert {"401", "403", "429"} <= codes, (method, path)
            if "{id}" in path:
                assert "404" in codes, (method, path)
            if method in ("post", "put", "patch") and path != "/api/tickets":
                assert {"400", "413", "415", "422"} <= codes, (method, path)
            error = op["responses"]["401"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/Error"}
            assert "X-Request-Id" in op["responses"]["401"]["headers"]
    assert "Retry-After" in schema["paths"]["/api/tickets"]["get"]["responses"]["429"]["headers"]


def test_bodies_accept_json_and_forms(schema):
    body = schema["paths"]["/api/tickets"]["post"]["requestBody"]["content"]
    assert {"application/json", "application/x-www-form-urlencoded", "multipart/form-data"} <= set(body)
    ref = body["application/json"]["schema"]["$ref"].split("/")[-1]
    component = schema["components"]["schemas"][ref]
    assert set(component["required"]) == {
        "ticket_clientid", "ticket_categoryid", "ticket_subject", "ticket_message", "ticket_priority"
    }


def test_success_bodies_are_enveloped(schema):
    one = schema["paths"]["/api/tickets/{id}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    # It takes ``select``: the keys are the named ones (all of them without it).
    assert one["properties"]["data"] == {"$ref": "#/components/schemas/TicketSelected"}
    assert "required" not in schema["components"]["schemas"]["TicketSelected"]
    created = schema["paths"]["/api/tickets"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert created["properties"]["data"] == {"$ref": "#/components/schemas/Ticket"}
    listed = schema["paths"]["/api/tickets"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    paged = schema["components"]["schemas"][listed["$ref"].split("/")[-1]]
    assert set(paged["properties"]) == {"data", "meta"}
    meta = paged["properties"]["meta"]
    assert set(meta["required"]) == {"page", "limit", "offset", "total", "pages"}
    assert set(meta["properties"]) == {"page", "limit", "offset", "total", "pages", "total_exact"}


def test_list_parameters_match_the_filterset(schema):
    params = {p["name"]: p for p in schema["paths"]["/api/tickets"]["get"]["parameters"]}
    assert set(TicketFilterSet.base_filters) | {"select", "tags[]", "paging"} <= set(params)
    assert set(params["paging"]["schema"]["properties"]) == {"page", "limit", "offset"}


def test_declared_shapes_match_what_is_sent(agent, department, client_org):
    ticket = factories.TicketFactory(department=department, client=client_org, requester=agent)
    from helpdesk.selectors import ticket_get

    assert list(s.TicketSerializer().fields) == list(s.ticket_data(ticket_get(user=agent, pk=ticket.pk)))
    reply = factories.ReplyFactory(ticket=ticket)
    assert list(s.ReplySerializer().fields) == list(s.reply_data(reply))
    change = StatusChange.objects.create(ticket=ticket, to_status_id=1)
    assert list(s.HistorySerializer().fields) == list(s.history_data(change))


def test_schema_needs_a_helpdesk_user(anon, db):
    assert anon.get("/api/schema").status_code == 401
    from tests.api.conftest import key_client

    assert key_client(factories.UserFactory()).get("/api/schema").status_code == 403


def test_contacts_may_read_it(contact_api):
    assert contact_api.get("/api/schema").status_code == 200


def test_docs_page_for_staff(client, agent):
    client.force_login(agent)
    r = client.get("/api/docs/")
    assert r.status_code == 200 and b"swagger" in r.content.lower()
    # Served from the site's own static files: the page works with no internet.
    page = r.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn.jsdelivr" not in page and "unpkg.com" not in page


def test_page_and_offset_are_declared_exclusive(schema, api):
    paging = next(p for p in schema["paths"]["/api/tickets"]["get"]["parameters"] if p["name"] == "paging")
    assert paging["style"] == "form" and paging["explode"] is True
    assert paging["schema"]["not"] == {"required": ["page", "offset"]}
    assert paging["schema"]["additionalProperties"] is False
    assert api.get("/api/tickets?page=1&offset=0").status_code == 422


def test_id_lists_are_comma_separated_arrays_of_ids(schema, api):
    params = {p["name"]: p for p in schema["paths"]["/api/tickets"]["get"]["parameters"]}
    for name in ("category_id", "client_id", "companyId", "project_id", "assignee_id"):
        assert params[name]["explode"] is False and params[name]["style"] == "form"
        assert params[name]["schema"]["items"] == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
    for bad in ("0", "-3", "1,,2", "x", str(2**63)):
        assert api.get(f"/api/tickets?client_id={bad}").status_code == 422, bad
    assert api.get("/api/tickets?client_id=1,2").status_code == 200


def test_select_and_priority_name_their_values(schema):
    params = {p["name"]: p for p in schema["paths"]["/api/tickets"]["get"]["parameters"]}
    assert params["select"]["schema"]["items"]["enum"] == list(s.TicketSerializer().fields)
    assert params["priority"]["schema"]["items"]["enum"] == ["normal", "high", "urgent"]
    assert "Open" in params["status"]["schema"]["items"]["enum"]


def test_path_ids_are_ids(schema):
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            for p in operation.get("parameters", []):
                if p["in"] == "path":
                    assert p["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}, path


def test_history_and_replies_do_not_list_ticket_filters(schema):
    for path in ("/api/tickets/{id}/history", "/api/tickets/{id}/replies"):
        names = {p["name"] for p in schema["paths"][path]["get"]["parameters"]}
        assert names == {"id", "paging"}, names


def test_bodies_refuse_unknown_keys(schema, api, ticket):
    for name in ("TicketCreateRequest", "PatchedTicketUpdateRequest", "TicketTagsWriteRequest", "ReplyWriteRequest"):
        assert schema["components"]["schemas"][name]["additionalProperties"] is False, name
    r = api.put(f"/api/tickets/{ticket.pk}/tags", {"tags": [], "colour": "red"}, format="json")
    assert r.status_code == 422 and "colour" in r.json()["error"]["fields"]


def test_a_contact_reads_a_document_for_contacts(contact_api):
    doc = contact_api.get("/api/schema").json()
    create = doc["components"]["schemas"]["TicketCreateRequest"]
    assert "tags" not in create["properties"] and "ticket_clientid" not in create.get("required", [])
    assert doc["components"]["schemas"]["ReplyWriteRequest"]["properties"]["ticketreply_type"]["enum"] == ["reply"]


def test_links_from_a_new_ticket_and_reply(schema):
    links = schema["paths"]["/api/tickets"]["post"]["responses"]["201"]["links"]
    assert links["get_ticket"]["parameters"] == {"id": "$response.body#/data/id"}
    reply = schema["paths"]["/api/tickets/{id}/replies"]["post"]["responses"]["201"]["links"]["delete_reply"]
    assert reply["parameters"] == {"id": "$request.path.id", "reply_id": "$response.body#/data/id"}


@pytest.mark.parametrize("accept", ["application/json", "application/vnd.oai.openapi+json", "*/*"])
def test_schema_answers_json(api, accept):
    r = api.get("/api/schema", HTTP_ACCEPT=accept)
    assert r.status_code == 200, r.content[:300]
    assert r.json()["openapi"].startswith("3.")
    assert "json" in r["Content-Type"]


def test_an_empty_query_value_is_what_the_document_says(admin_api, ticket):
    """``?name=`` on every query parameter of every read: where the document admits an
    empty value (``allowEmptyValue``: a blank filter, as a browser form sends it, filters
    nothing) the answer is the list as without it; elsewhere (paging: numbers) a 422 that
    names the parameter. What a fuzzer (schemathesis) reads matches what the server does."""
    doc = admin_api.get("/api/schema").json()
    seen = set()
    for path, operations in doc["paths"].items():
        operation = operations.get("get")
        if operation is None:
            continue
        url = path.replace("{id}", str(ticket.pk))
        for param in operation.get("parameters", []):
            if param["in"] != "query":
                continue
            exploded_object = param.get("explode") and param["schema"].get("type") == "object"
            for name in param["schema"]["properties"] if exploded_object else [param["name"]]:
                r = admin_api.get(f"{url}?{name}=")
                seen.add(name)
                if param.get("allowEmptyValue"):
                    assert r.status_code == 200, (path, name, r.content[:300])
                    assert r.json() == admin_api.get(url).json(), (path, name)
                else:
                    assert r.status_code == 422, (path, name, r.content[:300])
                    assert list(r.json()["error"]["fields"]) == [name], (path, name)
    assert {"status", "client_id", "tags[]", "select", "limit", "page", "offset"} <= seen


def test_an_empty_paging_value_is_a_422(api):
    for name in ("page", "limit", "offset"):
        r = api.get(f"/api/tickets?{name}=")
        assert r.status_code == 422 and r.json()["error"]["fields"][name] == ["Enter a whole number."]
    assert api.get("/api/tickets?status=&client_id=&search=").status_code == 200


def test_the_app_names_its_enums_so_a_site_needs_no_spectacular_settings(settings, tmp_path):
    """The demo site copies nothing of the helpdesk's into SPECTACULAR_SETTINGS, and its own
    document (``manage.py spectacular``, drf-spectacular's deploy check) is clean."""
    import json

    from django.core.management import call_command
    from drf_spectacular.checks import schema_check

    assert not {"TITLE", "DESCRIPTION", "VERSION", "ENUM_NAME_OVERRIDES"} & set(settings.SPECTACULAR_SETTINGS)
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json",
                 "--file", str(tmp_path / "site.json"))
    assert schema_check(None) == []
    components = json.loads((tmp_path / "site.json").read_text())["components"]["schemas"]
    assert components["PriorityEnum"]["enum"] == ["normal", "high", "urgent"]
    assert components["ReplyTypeEnum"]["enum"] == ["reply", "note"]
    # One name per set of values, whichever field carries it.
    assert components["Ticket"]["properties"]["priority"] == {"$ref": "#/components/schemas/PriorityEnum"}
    # (The site's document has one component per serializer: no COMPONENT_SPLIT_REQUEST.)
    assert components["TicketCreate"]["properties"]["ticket_priority"] == {
        "$ref": "#/components/schemas/PriorityEnum"}
    assert components["Reply"]["properties"]["type"] == {"$ref": "#/components/schemas/ReplyTypeEnum"}
    assert components["ReplyWrite"]["properties"]["ticketreply_type"]["allOf"] == [
        {"$ref": "#/components/schemas/ReplyTypeEnum"}]  # with its default and description
    assert not [name for name in components if name.startswith(("TicketPriority", "Ticketreply", "TypeEnum"))]
