"""The native API writes what the dialects write: requester, assignees, status at
create, metadata, type/severity/product/time_spent; and who may set them."""

import pytest
from django.contrib.auth import get_user_model

from helpdesk.models import Contact, StatusChange, Ticket
from tests import factories
from tests.api.test_tickets import create_body

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_agent_sets_everything_at_create_and_reads_it_back(api, client_org, department):
    other_agent = factories.AgentFactory()
    r = api.post("/api/tickets", create_body(
        client_org, department, requester="Max@Customer.com", assignee_ids=[other_agent.pk], status="On Hold",
        metadata={"order": "A-1", "nested": {"n": 1}}, type="bug", severity="sev2", product="Portal",
        time_spent=12.5,
    ), format="json")
    assert r.status_code == 201, r.content
    data = r.json()["data"]
    assert data["requester"]["email"] == "Max@Customer.com"
    assert data["assignee_ids"] == [other_agent.pk]
    assert data["status"]["title"] == "On Hold"
    assert data["metadata"] == {"order": "A-1", "nested": {"n": 1}}
    assert (data["type"], data["severity"], data["product"], data["time_spent"]) == ("bug", "sev2", "Portal", 12.5)
    # The new requester is a contact of the ticket's client, and the history starts at On Hold.
    user = User.objects.get(email="Max@Customer.com")
    assert Contact.objects.get(user=user).client == client_org
    assert not user.has_usable_password()
    assert list(StatusChange.objects.filter(ticket_id=data["id"]).values_list("to_status__title", flat=True)) == ["On Hold"]
    assert api.get(f"/api/tickets/{data['id']}").json()["data"] == data


def test_requester_by_id_and_an_existing_email_reuse_the_user(api, client_org, department, contact):
    r = api.post("/api/tickets", create_body(client_org, department, requester=contact.user.pk), format="json")
    assert r.json()["data"]["requester"]["id"] == contact.user.pk
    r = api.post("/api/tickets", create_body(client_org, department, requester=contact.user.email.upper()), format="json")
    assert r.json()["data"]["requester"]["id"] == contact.user.pk
    assert User.objects.filter(email__iexact=contact.user.email).count() == 1


def test_form_encoded_create_with_repeated_assignees(api, client_org, department):
    a, b = factories.AgentFactory(), factories.AgentFactory()
    body = create_body(client_org, department, metadata='{"k": "v"}', time_spent="3")
    body["assignee_ids[]"] = [b.pk, a.pk]
    r = api.post("/api/tickets", body)
    assert r.status_code == 201, r.content
    assert r.json()["data"]["assignee_ids"] == sorted([a.pk, b.pk])
    assert r.json()["data"]["metadata"] == {"k": "v"}


@pytest.mark.parametrize("extra,field", [
    ({"requester": 999999}, "requester"),
    ({"requester": "not-an-email@"}, "requester"),
    ({"requester": True}, "requester"),
    ({"assignee_ids": [999999]}, "assignee_ids"),
    ({"assignee_ids": "x"}, "assignee_ids"),
    ({"status": "Nope"}, "status"),
    ({"metadata": [1, 2]}, "metadata"),
    ({"metadata": "{not json"}, "metadata"),
    ({"metadata": {"a": "\x00"}}, "metadata"),
    ({"metadata": {"big": "x" * 20000}}, "metadata"),
    ({"time_spent": -1}, "time_spent"),
    ({"time_spent": "NaN"}, "time_spent"),
    ({"time_spent": 10**9}, "time_spent"),
    ({"type": "x" * 500}, "type"),
    ({"severity": "\x00"}, "severity"),
])
def test_bad_values_are_422_and_save_nothing(api, client_org, department, extra, field):
    users = User.objects.count()
    r = api.post("/api/tickets", create_body(client_org, department, **extra), format="json")
    assert r.status_code == 422, r.content
    assert field in r.json()["error"]["fields"]
    assert Ticket.objects.count() == 0 and User.objects.count() == users


def test_assignee_who_is_not_staff_is_refused_and_the_new_requester_is_not_kept(api, client_org, department, contact):
    r = api.post("/api/tickets", create_body(
        client_org, department, requester="new.person@example.org", assignee_ids=[contact.user.pk]), format="json")
    assert r.status_code == 422
    assert "assignee_ids" in r.json()["error"]["fields"]
    assert not User.objects.filter(email="new.person@example.org").exists()


def test_contact_may_set_type_product_metadata_on_their_own_create(contact_api, contact, department):
    r = contact_api.post("/api/tickets", {
        "ticket_categoryid": department.pk, "ticket_subject": "Help", "ticket_message": "Please",
        "ticket_priority": "normal", "type": "question", "product": "App", "metadata": {"browser": "Firefox"},
    }, format="json")
    assert r.status_code == 201, r.content
    data = r.json()["data"]
    assert (data["type"], data["product"], data["metadata"]) == ("question", "App", {"browser": "Firefox"})
    assert data["requester"]["id"] == contact.user.pk


@pytest.mark.parametrize("extra", [
    {"requester": "someone@else.com"}, {"assignee_ids": []}, {"status": 2}, {"severity": "high"}, {"time_spent": 5},
])
def test_contact_may_not_set_agent_fields(contact_api, department, extra):
    body = {"ticket_categoryid": department.pk, "ticket_subject": "Help", "ticket_message": "Please",
            "ticket_priority": "normal", **extra}
    r = contact_api.post("/api/tickets", body, format="json")
    assert r.status_code == 422
    assert r.json()["error"]["fields"][next(iter(extra))] == ["Only agents can set this."]
    assert Ticket.objects.count() == 0


class TestPatch:
    def test_agent_edits_every_new_field(self, api, ticket):
        a = factories.AgentFactory()
        r = api.patch(f"/api/tickets/{ticket.pk}", {
            "requester": "max@customer.com", "assignee_ids": [a.pk], "metadata": {"x": 1}, "type": "bug",
            "severity": "low", "product": "API", "time_spent": "7.25",
        }, format="json")
        assert r.status_code == 200, r.content
        data = r.json()["data"]
        assert data["requester"]["email"] == "max@customer.com"
        assert data["assignee_ids"] == [a.pk]
        assert (data["metadata"], data["type"], data["severity"], data["product"], data["time_spent"]) == (
            {"x": 1}, "bug", "low", "API", 7.25)
        assert Contact.objects.get(user__email="max@customer.com").client_id == ticket.client_id

    def test_empty_assignees_clear_and_null_requester_clears(self, api, ticket, agent):
        ticket.assignees.set([agent])
        r = api.patch(f"/api/tickets/{ticket.pk}", {"assignee_ids": [], "requester": None}, format="json")
        assert r.status_code == 200
        assert r.json()["data"]["assignee_ids"] == [] and r.json()["data"]["requester"] is None

    def test_an_empty_form_requester_clears_it(self, api, ticket, contact):
        ticket.requester = contact.user
        ticket.save()
        r = api.patch(f"/api/tickets/{ticket.pk}", {"requester": ""})
        assert r.status_code == 200 and r.json()["data"]["requester"] is None

    def test_status_in_patch_points_to_its_endpoint(self, api, ticket):
        r = api.patch(f"/api/tickets/{ticket.pk}", {"status": 2}, format="json")
        assert r.status_code == 422
        assert "status" in r.json()["error"]["fields"]

    def test_a_refused_assignee_undoes_the_whole_patch(self, api, ticket, contact):
        r = api.patch(f"/api/tickets/{ticket.pk}", {"type": "bug", "assignee_ids": [contact.user.pk]}, format="json")
        assert r.status_code == 422
        ticket.refresh_from_db()
        assert ticket.type == ""

    def test_contacts_cannot_patch(self, contact_api, contact, department):
        t = factories.TicketFactory(client=contact.client, department=department)
        assert contact_api.patch(f"/api/tickets/{t.pk}", {"type": "x"}, format="json").status_code == 403


class TestUnknownQueryParameters:
    @pytest.mark.parametrize("path", [
        "/api/tickets", "/api/departments", "/api/statuses", "/api/tags", "/api/custom-fields", "/api/clients",
        "/api/projects",
    ])
    def test_every_list_refuses_an_unknown_parameter(self, api, path):
        r = api.get(path, {"stauts": "1"})
        assert r.status_code == 422
        error = r.json()["error"]
        assert "stauts" in error["fields"]
        assert "stauts" in error["message"] and "limit" in error["message"]

    def test_ticket_list_names_its_filters_as_known(self, api):
        message = api.get("/api/tickets", {"s": "open", "cid": "1", "l": "1"}).json()["error"]["message"]
        for name in ("cid", "l", "s", "status", "companyId", "select", "tags[]", "offset"):
            assert name in message

    def test_known_parameters_still_work(self, api, ticket):
        r = api.get("/api/tickets", {"status": "1", "tags[]": [], "select": "id", "limit": 5, "format": "json"})
        assert r.status_code == 200, r.content
        assert api.get("/api/projects", {"client_id": ticket.client_id}).status_code == 200

    def test_replies_and_history_know_only_paging(self, api, ticket):
        assert api.get(f"/api/tickets/{ticket.pk}/replies", {"limit": 1}).status_code == 200
        assert api.get(f"/api/tickets/{ticket.pk}/replies", {"status": 1}).status_code == 422
        assert api.get(f"/api/tickets/{ticket.pk}/history", {"nope": 1}).status_code == 422
