"""Reference data: departments, statuses, tags with counts, custom fields, clients, projects."""

import pytest

from helpdesk.models import CustomField
from tests import factories

pytestmark = pytest.mark.django_db


def test_statuses_defaults(api, contact_api):
    for c in (api, contact_api):
        r = c.get("/api/statuses")
        assert r.status_code == 200
        rows = r.json()["data"]
        # In the admin's order; the ids are the contract's.
        assert {s["id"]: s["title"] for s in rows} == {
            1: "Open", 2: "Closed", 3: "On Hold", 4: "Answered", 5: "Customer Replied"
        }
        assert [s["order"] for s in rows] == sorted(s["order"] for s in rows)
        assert next(s for s in rows if s["id"] == 2)["is_closed"] is True


def test_departments(api, contact_api, department):
    for c in (api, contact_api):
        assert c.get("/api/departments").json()["data"] == [
            {"id": department.pk, "name": "Sales", "description": "", "is_default": False}
        ]


def test_tags_with_counts_scoped_for_contacts(api, contact_api, contact):
    billing, secret, unused = (factories.TagFactory(name=n) for n in ("billing", "secret", "unused"))
    factories.TicketFactory(client=contact.client, tags=[billing])
    factories.TicketFactory(tags=[billing, secret])
    assert api.get("/api/tags").json()["data"] == [
        {"id": billing.pk, "name": "billing", "count": 2},
        {"id": secret.pk, "name": "secret", "count": 1},
        {"id": unused.pk, "name": "unused", "count": 0},
    ]
    assert contact_api.get("/api/tags").json()["data"] == [{"id": billing.pk, "name": "billing", "count": 1}]


def test_tags_query_count(api, django_assert_max_num_queries):
    for _i in range(20):
        factories.TicketFactory(tags=[factories.TagFactory()])
    api.get("/api/tags")
    with django_assert_max_num_queries(5):  # + 2: the agent's permissions
        assert len(api.get("/api/tags?limit=100").json()["data"]) == 20


def test_custom_fields_enabled_only(api, contact_api):
    CustomField.objects.create(key="order_number", label="Order", required=True)
    CustomField.objects.create(key="old", label="Old", enabled=False)
    for c in (api, contact_api):
        rows = c.get("/api/custom-fields").json()["data"]
        assert [f["key"] for f in rows] == ["order_number"]
        assert rows[0]["required"] is True


def test_clients_and_projects_agents_only(api, contact_api, client_org):
    factories.ClientDomainFactory(client=client_org, domain="acme.com")
    p1 = factories.ProjectFactory(client=client_org, name="Alpha")
    p2 = factories.ProjectFactory(name="Beta")
    rows = api.get("/api/clients").json()["data"]
    assert rows[0]["name"] == "Acme Inc" and rows[0]["domains"] == ["acme.com"]
    assert {p["id"] for p in api.get("/api/projects").json()["data"]} == {p1.pk, p2.pk}
    assert api.get(f"/api/projects?client_id={client_org.pk}").json()["data"] == [
        {"id": p1.pk, "name": "Alpha", "client_id": client_org.pk}
    ]
    assert api.get("/api/projects?client_id=abc").status_code == 422
    assert contact_api.get("/api/clients").status_code == 403
    assert contact_api.get("/api/projects").status_code == 403


def test_reference_lists_are_paginated(api):
    for _ in range(3):
        factories.DepartmentFactory()
    r = api.get("/api/departments?limit=2")
    assert len(r.json()["data"]) == 2
    assert r.json()["meta"]["total"] == 3


def test_reference_lists_are_read_only(api):
    assert api.post("/api/statuses", {"title": "x"}, format="json").status_code == 405
