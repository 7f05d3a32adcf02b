"""The webhooks endpoints: who may use them, the secret shown once, validation, and API
writes firing webhooks (they are for machines; "silent" is about people)."""

import pytest
from django.contrib.auth.models import Permission

from helpdesk.models import WebhookDelivery, WebhookSubscription
from tests import factories

from .conftest import key_client

pytestmark = pytest.mark.django_db

URL = "https://hooks.example.com/helpdesk"


@pytest.fixture
def hooks_api(db):
    agent = factories.AgentFactory()
    agent.user_permissions.add(Permission.objects.get(codename="change_webhooksubscription"))
    return key_client(agent)


def test_subscribing_without_a_secret_generates_one_shown_once(hooks_api):
    response = hooks_api.post("/api/webhooks", {"url": URL, "events": ["ticket.created", "reply.created"]},
                              format="json")
    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert data["secret"].startswith("whsec_") and len(data["secret"]) > 30
    assert (data["url"], data["events"], data["active"]) == (URL, ["ticket.created", "reply.created"], True)
    assert WebhookSubscription.objects.get().secret == data["secret"]
    shown = hooks_api.get(f"/api/webhooks/{data['id']}").json()["data"]
    assert "secret" not in shown and shown["id"] == data["id"]
    assert "secret" not in hooks_api.get("/api/webhooks").json()["data"][0]


def test_a_given_secret_is_kept(hooks_api):
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    response = hooks_api.post("/api/webhooks", {"url": URL, "events": ["*"], "secret": secret}, format="json")
    assert response.status_code == 201
    assert WebhookSubscription.objects.get().secret == secret


def test_change_pause_and_delete(hooks_api):
    hook_id = hooks_api.post("/api/webhooks", {"url": URL, "events": ["*"]}, format="json").json()["data"]["id"]
    changed = hooks_api.patch(f"/api/webhooks/{hook_id}", {"events": ["tags.changed"], "active": False},
                              format="json")
    assert changed.status_code == 200
    assert (changed.json()["data"]["events"], changed.json()["data"]["active"]) == (["tags.changed"], False)
    again = hooks_api.patch(f"/api/webhooks/{hook_id}", {"active": True}, format="json").json()["data"]
    assert again["active"] and again["disabled_reason"] == "" and again["failure_count"] == 0
    assert hooks_api.delete(f"/api/webhooks/{hook_id}").status_code == 204
    assert hooks_api.get(f"/api/webhooks/{hook_id}").status_code == 404
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize("body, field", [
    ({"url": "ftp://x.example/", "events": ["*"]}, "url"),
    ({"url": "http://169.254.169.254/", "events": ["*"]}, "url"),
    ({"url": "http://10.1.2.3/", "events": ["*"]}, "url"),
    ({"url": URL, "events": ["ticket.exploded"]}, "events"),
    ({"url": URL, "events": []}, "events"),
    ({"url": URL, "events": ["*"], "secret": "hunter2"}, "secret"),
    ({"url": URL, "events": ["*"], "secret": "whsec_c2hvcnQ="}, "secret"),
    ({"url": URL, "events": ["*"], "colour": "red"}, "colour"),
    ({"events": ["*"]}, "url"),
])
def test_bad_input_is_a_422_naming_the_field(hooks_api, body, field):
    response = hooks_api.post("/api/webhooks", body, format="json")
    assert response.status_code == 422, response.json()
    assert field in response.json()["error"]["fields"]
    assert not WebhookSubscription.objects.exists()


def test_a_bad_change_changes_nothing(hooks_api):
    hook_id = hooks_api.post("/api/webhooks", {"url": URL, "events": ["*"]}, format="json").json()["data"]["id"]
    response = hooks_api.patch(f"/api/webhooks/{hook_id}", {"url": "http://127.0.0.1/", "events": ["x"]},
                               format="json")
    assert response.status_code == 422 and set(response.json()["error"]["fields"]) == {"url", "events"}
    hook = WebhookSubscription.objects.get()
    assert (hook.url, hook.events) == (URL, ["*"])


@pytest.mark.parametrize("who", ["agent", "contact"])
def test_only_agents_with_the_permission_manage_webhooks(api, contact_api, who):
    client = api if who == "agent" else contact_api
    assert client.get("/api/webhooks").status_code == 403
    assert client.post("/api/webhooks", {"url": URL, "events": ["*"]}, format="json").status_code == 403
    assert not WebhookSubscription.objects.exists()


def test_anonymous_is_401(anon):
    assert anon.get("/api/webhooks").status_code == 401


def test_a_superuser_may(admin_api):
    assert admin_api.post("/api/webhooks", {"url": URL, "events": ["*"]}, format="json").status_code == 201


def test_api_writes_fire_webhooks(hooks_api, api, department, client_org):
    hooks_api.post("/api/webhooks", {"url": URL, "events": ["ticket.created", "reply.created"]}, format="json")
    created = api.post("/api/tickets", {"ticket_clientid": client_org.pk, "ticket_categoryid": department.pk,
                                        "ticket_subject": "Cannot log in", "ticket_message": "help",
                                        "ticket_priority": "high"}, format="json")
    assert created.status_code == 201
    ticket = created.json()["data"]
    api.post(f"/api/tickets/{ticket['id']}/replies", {"ticketreply_text": "On it"}, format="json")
    messages = list(WebhookDelivery.objects.order_by("id"))
    assert [m.event for m in messages] == ["ticket.created", "reply.created"]
    # The payload is the API's ticket object, as GET shows it at that moment.
    assert messages[0].payload["data"] == ticket


def test_the_bulk_upsert_fires_created_and_updated(hooks_api, api, department):
    department.is_default = True
    department.save()
    hooks_api.post("/api/webhooks", {"url": URL, "events": ["ticket.created", "ticket.updated"]}, format="json")
    items = [{"source": "zendesk", "sourceId": str(n), "title": f"Synced {n}", "email": "max@acme.example",
              "status": "open"} for n in range(3)]
    assert api.put("/api/tickets", items, format="json").status_code == 200
    items[0]["title"] = "Synced again"
    assert api.put("/api/tickets", items[:1], format="json").status_code == 200
    messages = list(WebhookDelivery.objects.order_by("id"))
    assert [m.event for m in messages] == ["ticket.created"] * 3 + ["ticket.updated"]
    assert messages[-1].payload["data"]["subject"] == "Synced again"
    assert sorted(m.payload["data"]["external"]["source_id"] for m in messages[:3]) == ["0", "1", "2"]
