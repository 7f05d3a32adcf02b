"""Request/response pairs from Zammad's own REST API documentation (``fixtures/*.json``),
replayed: each request, sent as documented, gets the documented status and a body with the
documented field names and JSON types."""

import json
from pathlib import Path

import pytest

from helpdesk import services
from tests import factories

from .conftest import BASE, create_ticket

pytestmark = pytest.mark.django_db

FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("*.json"))
#: Fields our data may leave empty where the docs' example had a value: the owner of an
#: unassigned ticket (Zammad shows user 1, "-"), dates of things that did not happen yet.
NULLABLE = {"owner_id", "customer_id", "organization_id", "note", "type", "time_unit", "last_contact_at",
            "last_contact_agent_at", "last_contact_customer_at", "first_response_at", "close_at"}
#: Keys we add to a single ticket (Zammad adds them to create/update responses).
EXTRA_TICKET_KEYS = {"article_ids", "ticket_time_accounting_ids"}


def json_type(value):
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "array", dict: "object",
            type(None): "null"}[type(value)]


def assert_same_shape(ours, docs, where="$"):
    if docs is None:
        return
    if ours is None:
        assert where.rsplit(".", 1)[-1] in NULLABLE, f"{where}: null, the docs have {docs!r}"
        return
    assert json_type(ours) == json_type(docs), f"{where}: {ours!r} is not of the docs' type ({docs!r})"
    if isinstance(docs, dict):
        missing = set(docs) - set(ours)
        assert not missing, f"{where}: missing {sorted(missing)}"
        for key, value in docs.items():
            assert_same_shape(ours[key], value, f"{where}.{key}")
    elif isinstance(docs, list) and docs and ours:
        assert_same_shape(ours[0], docs[0], f"{where}[0]")


@pytest.fixture
def scene(zapi, zagent, org):
    """What the docs' examples refer to: groups, a customer, a ticket with tags and replies."""
    factories.DepartmentFactory(name="2nd Level")
    factories.DepartmentFactory(name="Sales")
    factories.UserFactory(username="bob", first_name="Bob", last_name="Smith", email="bob@smith.example.com")
    ticket = create_ticket(zapi, customer_id="guess:nicole@acme.example")
    from helpdesk.models import Ticket

    row = Ticket.objects.get(pk=ticket["id"])
    services.ticket_add_tags(ticket=row, tags=["americano", "complaint"])
    services.ticket_add_tags(ticket=factories.TicketFactory(), tags=["viennese melange"])
    services.reply_post(ticket=row, author=zagent, text="huhuhuu")
    services.ticket_set_assignees(ticket=row, assignees=[zagent])
    return {"ticket_id": row.pk, "article_id": row.pk}


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_docs_pair(zapi, zadmin_api, scene, path):
    pair = json.loads(path.read_text())
    request = pair["request"]
    if path.stem == "tickets_delete":
        zapi = zadmin_api  # Zammad: "Required permission: admin"
    url = request["path"].replace("/api/v1", BASE, 1).format(**scene)
    body = request.get("body")
    if isinstance(body, dict):
        body = {k: (scene["ticket_id"] if v == "{ticket_id}" else v) for k, v in body.items()}
    response = getattr(zapi, request["method"].lower())(url, body, format="json") if body is not None else \
        getattr(zapi, request["method"].lower())(url)
    assert response.status_code == pair["status"], response.content
    ours = response.json()
    assert_same_shape(ours, pair["response"])
    if path.stem.startswith("tickets_") and isinstance(ours, dict) and ours:
        assert set(ours) - set(pair["response"]) <= EXTRA_TICKET_KEYS


def test_the_documented_values(zapi, scene):
    """Beyond shape: the create and update examples do what the docs say."""
    create = json.loads((Path(__file__).parent / "fixtures" / "tickets_create.json").read_text())
    data = zapi.post(f"{BASE}/tickets", create["request"]["body"], format="json").json()
    docs = create["response"]
    for key in ("title", "state_id", "priority_id", "article_count", "note"):
        assert data[key] == docs[key], key
    update = json.loads((Path(__file__).parent / "fixtures" / "tickets_update.json").read_text())
    data = zapi.put(f"{BASE}/tickets/{data['id']}", update["request"]["body"], format="json").json()
    docs = update["response"]
    for key in ("title", "state_id", "priority_id", "article_count"):
        assert data[key] == docs[key], key
    assert len(data["article_ids"]) == len(docs["article_ids"])
