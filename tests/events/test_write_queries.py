"""API writes at their floor: the statements a ticket create and a reply send, with the
reference rows (statuses, custom fields, webhooks) in the cache as in a warm server.

Transactional tests, so the count is what a real request sends (BEGIN and COMMIT
included, no test savepoints): the key's lookup (which brings the agent's permissions,
department access and client along: ``helpdesk.user_permissions``), what the request
names (the client, the ticket; departments are cached), the rows written. No savepoint:
the services take none inside the view's transaction.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpdesk.models import Tag, Ticket

from .. import factories
from ..api.conftest import key_client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def warm(default_statuses):
    api = key_client(factories.AgentFactory())
    department, client = factories.DepartmentFactory(), factories.ClientFactory()
    Tag.objects.create(name="billing")
    Tag.objects.create(name="export")
    body = {"ticket_clientid": client.pk, "ticket_categoryid": department.pk, "ticket_subject": "Cannot export",
            "ticket_message": "The file is empty.", "ticket_priority": "high"}
    assert api.post("/api/tickets", body, format="json").status_code == 201  # fills the cache
    return api, body


def count(call):
    with CaptureQueriesContext(connection) as queries:
        response = call()
    sql = [q["sql"] for q in queries.captured_queries]
    # The agent's permissions come inside the key's lookup, never as queries of their own.
    assert not [q for q in sql if '"auth_permission"' in q and '"helpdesk_apikey"' not in q], sql
    assert not [q for q in sql if "SAVEPOINT" in q], sql
    return response, sql


def test_a_create_sends_six_statements(warm):
    api, body = warm
    response, sql = count(lambda: api.post("/api/tickets", body, format="json"))
    assert response.status_code == 201
    # key (with the permissions), BEGIN, client, INSERT ticket, INSERT status history,
    # COMMIT. No SLA statement (no policy exists: cached), no attachment read (a new
    # ticket without files has none).
    assert len(sql) == 6, sql
    # The answer, built without a re-read, is what GET shows.
    assert response.json()["data"] == api.get(f"/api/tickets/{response.json()['data']['id']}").json()["data"]


def test_a_create_with_known_tags_sends_eight(warm):
    api, body = warm
    response, sql = count(lambda: api.post("/api/tickets", {**body, "tags": ["billing", "export"]}, format="json"))
    assert response.status_code == 201
    assert len(sql) == 8, sql  # the 6 above + the tags' lookup, + one INSERT of both links
    data = response.json()["data"]
    assert data["tags"] == ["billing", "export"]
    assert data == api.get(f"/api/tickets/{data['id']}").json()["data"]


def test_a_reply_sends_six_statements(warm):
    api, _body = warm
    ticket = Ticket.objects.get()
    response, sql = count(lambda: api.post(f"/api/tickets/{ticket.pk}/replies", {"ticketreply_text": "On it."},
                                           format="json"))
    assert response.status_code == 201
    # key (with the permissions), BEGIN, the ticket read and locked in one statement,
    # INSERT reply, UPDATE the ticket's dates and counter RETURNING them, COMMIT; the
    # ticket's tags, assignees and files are not read (the answer is the reply), nor the
    # new reply's files (it has none). The same on SQLite.
    assert len(sql) == 6, sql
    if connection.vendor == "postgresql":
        assert "FOR UPDATE" in sql[2], sql
    ticket.refresh_from_db()
    assert ticket.replies_count == 1
    assert response.json()["data"]["text"] == "On it."


def test_a_new_status_or_webhook_is_seen_by_the_next_write(warm, settings):
    """The cache never hides a change: a webhook made now gets the very next event."""
    from helpdesk.events import webhooks
    from helpdesk.models import WebhookDelivery

    api, body = warm
    settings.HELPDESK = {"WEBHOOK_ALLOW_PRIVATE": True}
    webhooks.webhook_create(url="http://127.0.0.1:9/hook", events=["ticket.created"])
    api.post("/api/tickets", body, format="json")
    assert WebhookDelivery.objects.count() == 1
