"""Ticket CRUD over the API: bodies (JSON and form), roles, and the 4xx of API.md."""

import json

import pytest

from helpdesk.models import Channel, CustomField, Priority, Ticket
from tests import factories
from tests.api.conftest import key_client

pytestmark = pytest.mark.django_db


def create_body(client_org, department, **extra):
    body = {
        "ticket_clientid": client_org.pk,
        "ticket_categoryid": department.pk,
        "ticket_subject": "Cannot log in",
        "ticket_message": "I get an error",
        "ticket_priority": "high",
    }
    body.update(extra)
    return body


class TestCreate:
    def test_form_encoded_body_creates_and_returns_the_ticket(self, api, client_org, department, agent):
        r = api.post("/api/tickets", create_body(client_org, department), format="multipart")
        assert r.status_code == 201, r.content
        data = r.json()["data"]
        assert data["subject"] == "Cannot log in"
        assert data["priority"] == "high"
        assert data["status"] == {"id": 1, "title": "Open"}
        assert data["source"] == "api"
        assert data["client"] == {"id": client_org.pk, "name": "Acme Inc"}
        assert data["department"] == {"id": department.pk, "name": "Sales"}
        assert data["creator_id"] == agent.pk
        assert r["Location"].endswith(f"/api/tickets/{data['id']}")
        ticket = Ticket.objects.get(pk=data["id"])
        assert ticket.priority == Priority.HIGH and ticket.channel == Channel.API

    def test_urlencoded_body(self, api, client_org, department):
        from urllib.parse import urlencode

        body = urlencode(create_body(client_org, department, tags="a") ) + "&tags=b"
        r = api.post("/api/tickets/", body, content_type="application/x-www-form-urlencoded")
        assert r.status_code == 201, r.content
        assert r.json()["data"]["tags"] == ["a", "b"]

    def test_json_body_with_tags_and_custom_fields(self, api, client_org, department):
        CustomField.objects.create(key="order_number", label="Order", required=True)
        project = factories.ProjectFactory(client=client_org)
        r = api.post(
            "/api/tickets",
            create_body(client_org, department, tags=["billing", "vip"], order_number="A-1001", ticket_projectid=project.pk),
            format="json",
        )
        assert r.status_code == 201, r.content
        data = r.json()["data"]
        assert data["tags"] == ["billing", "vip"]
        assert data["custom_fields"] == {"order_number": "A-1001"}
        assert data["project_id"] == project.pk

    def test_missing_fields_are_422_with_every_field_named(self, api):
        r = api.post("/api/tickets", {}, format="json")
        assert r.status_code == 422
        error = r.json()["error"]
        assert error["code"] == "validation_failed"
        assert set(error["fields"]) == {
            "ticket_clientid", "ticket_categoryid", "ticket_subject", "ticket_message", "ticket_priority"
        }
        assert error["fields"]["ticket_subject"] == ["This field is required."]

    @pytest.mark.parametrize(
        "change, field",
        [
            ({"ticket_priority": "soon"}, "ticket_priority"),
            ({"ticket_categoryid": 999999}, "ticket_categoryid"),
            ({"ticket_categoryid": "abc"}, "ticket_categoryid"),
            ({"ticket_categoryid": 10**30}, "ticket_categoryid"),
            ({"ticket_clientid": -1}, "ticket_clientid"),
            ({"ticket_subject": "   "}, "ticket_subject"),
            ({"ticket_subject": "x" * 256}, "ticket_subject"),
            ({"ticket_subject": ["a", "b"]}, "ticket_subject"),
            ({"tags": "notalist"}, "tags"),
            ({"tags": ["x" * 51]}, "tags"),
            ({"no_such_field": "1"}, "no_such_field"),
        ],
    )
    def test_invalid_values_are_422_on_that_field(self, api, client_org, department, change, field):
        r = api.post("/api/tickets", create_body(client_org, department, **change), format="json")
        assert r.status_code == 422, r.content
        assert field in r.json()["error"]["fields"]
        assert Ticket.objects.count() == 0

    def test_unknown_department_names_it_in_the_message(self, api, client_org, department):
        r = api.post("/api/tickets", create_body(client_org, department, ticket_categoryid=999999), format="json")
        assert r.json()["error"]["fields"]["ticket_categoryid"] == ["Unknown department: 999999."]

    def test_project_of_another_client_is_422(self, api, client_org, department):
        other = factories.ProjectFactory()
        r = api.post("/api/tickets", create_body(client_org, department, ticket_projectid=other.pk), format="json")
        assert r.status_code == 422
        assert "ticket_projectid" in r.json()["error"]["fields"]
        assert Ticket.objects.count() == 0

    def test_required_custom_field_enforced(self, api, client_org, department):
        CustomField.objects.create(key="order_number", label="Order", required=True)
        CustomField.objects.create(key="seats", label="Seats", type="integer")
        r = api.post("/api/tickets", create_body(client_org, department, seats="many"), format="json")
        assert r.status_code == 422
        assert set(r.json()["error"]["fields"]) == {"order_number", "seats"}

    def test_json_array_body_is_422_not_500(self, api):
        r = api.post("/api/tickets", [1, 2], format="json")
        assert r.status_code == 422
        assert "non_field_errors" in r.json()["error"]["fields"]

    def test_contact_creates_for_own_client_as_requester(self, contact_api, contact, department):
        body = create_body(contact.client, department)
        del body["ticket_clientid"]
        r = contact_api.post("/api/tickets", body, format="json")
        assert r.status_code == 201, r.content
        data = r.json()["data"]
        assert data["client"]["id"] == contact.client_id
        assert data["requester"]["id"] == contact.user_id

    def test_contact_cannot_create_for_another_client_or_tag(self, contact_api, contact, department):
        other = factories.ClientFactory()
        r = contact_api.post("/api/tickets", create_body(other, department), format="json")
        assert r.status_code == 422 and "ticket_clientid" in r.json()["error"]["fields"]
        r = contact_api.post("/api/tickets", create_body(contact.client, department, tags=["x"]), format="json")
        assert r.status_code == 422 and "tags" in r.json()["error"]["fields"]
        assert Ticket.objects.count() == 0

    def test_session_auth_sets_channel_web(self, agent, client_org, department):
        from rest_framework.test import APIClient

        c = APIClient()
        c.force_login(agent)
        r = c.post("/api/tickets", create_body(client_org, department), format="json")
        assert r.status_code == 201
        assert r.json()["data"]["source"] == "web"

    def test_api_create_is_silent(self, api, client_org, department, settings):
        from helpdesk import signals

        seen = []
        signals.ticket_created.connect(lambda **kw: seen.append(kw["silent"]), weak=False, dispatch_uid="t")
        try:
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr("django.db.transaction.on_commit", lambda fn, *a, **k: fn())
                r = api.post("/api/tickets", create_body(client_org, department), format="json")
        finally:
            signals.ticket_created.disconnect(dispatch_uid="t")
        assert r.status_code == 201
        assert seen == [True]


class TestRetrieve:
    def test_agent_gets_the_ticket_object(self, api, ticket):
        r = api.get(f"/api/tickets/{ticket.pk}")
        assert r.status_code == 200
        data = r.json()["data"]
        assert data["id"] == ticket.pk
        assert list(data) == [
            "id", "subject", "message", "status", "priority", "source", "active_state", "department", "client",
            "project_id", "creator_id", "requester", "assignee_ids", "dates", "replies_count", "tags", "type",
            "severity", "product", "time_spent", "external", "custom_fields", "metadata",
            "cc", "attachments", "sla",
        ]
        assert set(data["dates"]) == {"created", "last_updated", "status_changed", "first_response", "last_reply", "closed"}

    def test_trailing_slash_optional(self, api, ticket):
        assert api.get(f"/api/tickets/{ticket.pk}/").status_code == 200

    def test_external_block(self, api, department, client_org):
        t = factories.TicketFactory(
            department=department, client=client_org, external_source="zendesk", external_id="123",
            external_url="https://z.example/123",
        )
        data = api.get(f"/api/tickets/{t.pk}").json()["data"]
        assert data["external"] == {"source": "zendesk", "source_id": "123", "url": "https://z.example/123"}

    @pytest.mark.parametrize("pk", ["999999", "abc", "1e3", str(10**30), "-1", "%20"])
    def test_unknown_or_odd_ids_are_404(self, api, ticket, pk):
        r = api.get(f"/api/tickets/{pk}")
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "not_found"

    def test_contact_sees_own_client_only_and_404_otherwise(self, contact_api, contact):
        own = factories.TicketFactory(client=contact.client)
        other = factories.TicketFactory()
        assert contact_api.get(f"/api/tickets/{own.pk}").status_code == 200
        r = contact_api.get(f"/api/tickets/{other.pk}")
        assert r.status_code == 404

    def test_select_returns_only_those_fields(self, api, ticket):
        r = api.get(f"/api/tickets/{ticket.pk}?select=id,subject")
        assert r.json()["data"] == {"id": ticket.pk, "subject": "Cannot log in"}


class TestUpdate:
    def test_patch_any_subset(self, api, ticket):
        dept = factories.DepartmentFactory()
        r = api.patch(f"/api/tickets/{ticket.pk}", {"ticket_subject": "New", "ticket_categoryid": dept.pk}, format="json")
        assert r.status_code == 200, r.content
        data = r.json()["data"]
        assert data["subject"] == "New" and data["department"]["id"] == dept.pk
        ticket.refresh_from_db()
        assert ticket.subject == "New"

    def test_patch_form_encoded_priority(self, api, ticket):
        r = api.patch(f"/api/tickets/{ticket.pk}", "ticket_priority=urgent", content_type="application/x-www-form-urlencoded")
        assert r.status_code == 200, r.content
        assert r.json()["data"]["priority"] == "urgent"

    def test_required_custom_field_cannot_be_blanked(self, api, ticket):
        CustomField.objects.create(key="order_number", label="Order", required=True)
        ticket.custom_fields = {"order_number": "A-1"}
        ticket.save()
        r = api.patch(f"/api/tickets/{ticket.pk}", {"order_number": ""}, format="json")
        assert r.status_code == 422
        assert "order_number" in r.json()["error"]["fields"]
        r = api.patch(f"/api/tickets/{ticket.pk}", {"order_number": "A-2"}, format="json")
        assert r.json()["data"]["custom_fields"] == {"order_number": "A-2"}

    def test_blank_subject_and_foreign_project_rejected_without_writing(self, api, ticket):
        other = factories.ProjectFactory()
        r = api.patch(f"/api/tickets/{ticket.pk}", {"ticket_subject": " ", "ticket_projectid": other.pk}, format="json")
        assert r.status_code == 422
        assert set(r.json()["error"]["fields"]) >= {"ticket_subject"}
        r = api.patch(f"/api/tickets/{ticket.pk}", {"ticket_projectid": other.pk}, format="json")
        assert r.status_code == 422 and "ticket_projectid" in r.json()["error"]["fields"]
        ticket.refresh_from_db()
        assert ticket.subject == "Cannot log in" and ticket.project_id is None

    def test_client_and_tags_are_not_patchable(self, api, ticket):
        r = api.patch(f"/api/tickets/{ticket.pk}", {"ticket_clientid": 5, "tags": ["a"]}, format="json")
        assert r.status_code == 422
        assert set(r.json()["error"]["fields"]) == {"ticket_clientid", "tags"}

    def test_contact_gets_403_on_own_ticket_404_on_others(self, contact_api, contact):
        own = factories.TicketFactory(client=contact.client)
        other = factories.TicketFactory()
        assert contact_api.patch(f"/api/tickets/{own.pk}", {"ticket_subject": "x"}, format="json").status_code == 403
        assert contact_api.patch(f"/api/tickets/{other.pk}", {"ticket_subject": "x"}, format="json").status_code == 404

    def test_put_on_a_ticket_is_405(self, api, ticket):
        r = api.put(f"/api/tickets/{ticket.pk}", {}, format="json")
        assert r.status_code == 405
        assert r.json()["error"]["code"] == "method_not_allowed"


class TestDelete:
    def test_needs_the_delete_permission(self, api, admin_api, ticket):
        factories.ReplyFactory(ticket=ticket)
        assert api.delete(f"/api/tickets/{ticket.pk}").status_code == 403
        r = admin_api.delete(f"/api/tickets/{ticket.pk}")
        assert r.status_code == 204 and r.content == b""
        assert not Ticket.objects.filter(pk=ticket.pk).exists()
        assert admin_api.delete(f"/api/tickets/{ticket.pk}").status_code == 404

    def test_agent_with_permission(self, ticket):
        from django.contrib.auth.models import Permission

        agent = factories.AgentFactory()
        agent.user_permissions.add(Permission.objects.get(codename="delete_ticket"))
        assert key_client(agent).delete(f"/api/tickets/{ticket.pk}").status_code == 204

    def test_contact_404_for_others_403_for_own(self, contact_api, contact):
        own = factories.TicketFactory(client=contact.client)
        other = factories.TicketFactory()
        assert contact_api.delete(f"/api/tickets/{other.pk}").status_code == 404
        assert contact_api.delete(f"/api/tickets/{own.pk}").status_code == 403


def test_bulk_upsert_route_exists_for_agents(api):
    r = api.put("/api/tickets", json.dumps([]), content_type="application/json")
    assert r.status_code not in (401, 403, 404, 405)


def test_bulk_upsert_is_for_agents_only(contact_api, anon):
    assert contact_api.put("/api/tickets", json.dumps([]), content_type="application/json").status_code == 403
    assert anon.put("/api/tickets", json.dumps([]), content_type="application/json").status_code == 401


def test_bulk_upsert_may_send_bigger_bodies(api, settings):
    settings.HELPDESK = {"MAX_BODY_BYTES": 10, "UPSERT_MAX_BYTES": 10_000}
    body = json.dumps([{"sourceId": "1", "title": "x" * 100}])
    assert api.put("/api/tickets", body, content_type="application/json").status_code != 413
    assert api.post("/api/tickets", body, content_type="application/json").status_code == 413
    settings.HELPDESK = {"UPSERT_MAX_BYTES": 10}
    assert api.put("/api/tickets", body, content_type="application/json").status_code == 413
