"""A ticket written through one dialect reads the same in the others and in the native API:
the dialects translate one set of data, they keep none of their own."""

import pytest

from helpdesk.models import Ticket
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(department):
    contact = factories.ContactFactory(
        user__first_name="Max", user__last_name="Kunde", user__email="max@customer.com", client__name="Customer AG",
        client__external_id="ph-company-1",
    )
    factories.ClientDomainFactory(client=contact.client, domain="customer.com")
    employee = factories.AgentFactory(first_name="Eve", last_name="Agent", email="eve@helpdesk.test")
    return contact, employee


def read_all(api, pk):
    native = api.get(f"/api/tickets/{pk}").json()["data"]
    planhat = [o for o in api.get("/planhat/tickets", {"limit": 10000}).json() if o["_id"] == str(pk)][0]
    spp = api.get(f"/spp/api/tickets/{pk}").json()
    return native, planhat, spp


def assert_same(native, planhat, spp):
    assert native["subject"] == planhat["subject"] == spp["subject"]
    assert native["status"]["title"] == planhat["status"] == spp["status"]
    assert native["requester"]["email"] == planhat["email"] == spp["client"]["email"]
    assert native["requester"]["id"] == spp["user_id"] == int(planhat["endusers"][0]["id"])
    assert str(native["client"]["id"]) == planhat["companyId"]
    assert native["client"]["name"] == planhat["companyName"] == spp["client"]["company"]
    assert native["tags"] == planhat["tags"] == spp["tags"]
    assert native["assignee_ids"] == [int(u["id"]) for u in planhat["users"]] == [e["id"] for e in spp["employees"]]
    assert (native["dates"]["closed"] is None) == planhat["isOpen"] == (spp["date_closed"] is None)
    assert native["id"] == int(planhat["_id"]) == spp["id"]


def test_created_in_spp(admin_api, world):
    contact, employee = world
    r = admin_api.post("/spp/api/tickets", {
        "user_id": contact.user.pk, "subject": "From SPP", "status": 3, "employees": [employee.pk],
        "tags": ["spp", "vip"], "order": "42", "metadata": {"plan": "gold"}, "note": "Staff only",
    }, format="json")
    assert r.status_code == 201, r.content
    native, planhat, spp = read_all(admin_api, r.json()["id"])
    assert spp == r.json()
    assert_same(native, planhat, spp)
    assert native["metadata"] == {"plan": "gold", "spp_order": "42"} and spp["metadata"] == {"plan": "gold"}
    assert planhat["history"][0]["status"] == "On Hold"


def test_created_in_planhat(admin_api, world):
    contact, employee = world
    r = admin_api.put("/planhat/tickets", [{
        "sourceId": "77", "source": "zendesk", "email": "max@customer.com", "title": "From Planhat",
        "description": "Body", "status": "Escalated", "tags": ["ph"], "agentEmail": "eve@helpdesk.test",
        "companyId": "ph-company-1", "type": "bug", "severity": "high", "product": "App", "timeSpent": 30,
    }], format="json")
    assert r.status_code == 200, r.json()
    pk = r.json()["insertsKeys"][0]["_id"]
    native, planhat, spp = read_all(admin_api, pk)
    assert_same(native, planhat, spp)
    assert native["external"] == {"source": "zendesk", "source_id": "77", "url": None}
    assert (native["type"], native["severity"], native["product"], native["time_spent"]) == (
        planhat["type"], planhat["severity"], planhat["product"], planhat["timeSpent"]) == ("bug", "high", "App", 30.0)
    assert spp["source"] == planhat["source"] == "zendesk"


def test_created_natively(admin_api, world, department):
    contact, employee = world
    r = admin_api.post("/api/tickets", {
        "ticket_clientid": contact.client.pk, "ticket_categoryid": department.pk, "ticket_subject": "Native",
        "ticket_message": "Text", "ticket_priority": "urgent", "requester": "max@customer.com",
        "assignee_ids": [employee.pk], "status": "Closed", "tags": ["n"], "metadata": {"a": 1},
        "type": "question", "severity": "low", "product": "Web", "time_spent": 5,
    }, format="json")
    assert r.status_code == 201, r.content
    native, planhat, spp = read_all(admin_api, r.json()["data"]["id"])
    assert_same(native, planhat, spp)
    assert planhat["isOpen"] is False and planhat["priority"] == "urgent"
    assert spp["metadata"] == native["metadata"] == {"a": 1}


def test_deleted_in_planhat_is_gone_everywhere(admin_api, world):
    contact, _employee = world
    pk = admin_api.post("/spp/api/tickets", {"user_id": contact.user.pk, "subject": "Bye"}, format="json").json()["id"]
    assert admin_api.delete(f"/planhat/tickets/{pk}").status_code == 200
    assert admin_api.get(f"/api/tickets/{pk}").status_code == 404
    assert admin_api.get(f"/spp/api/tickets/{pk}").status_code == 404
    assert not Ticket.objects.exists()
