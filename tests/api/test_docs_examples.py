"""Every curl example of docs/api.md works against the API (so the docs stay true)."""

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from helpdesk.models import CustomField, WebhookSubscription
from tests import factories
from tests.api import curl

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"
COMMANDS = curl.commands_in(DOCS)


@pytest.fixture
def docs_data(db):
    client = factories.ClientFactory(pk=1, name="Acme Inc")
    department = factories.DepartmentFactory(pk=72, name="Sales")
    ticket = factories.TicketFactory(pk=32, client=client, department=department, subject="Cannot log in")
    factories.ReplyFactory(pk=7, ticket=ticket)
    ticket.replies_count = 1  # the factory writes the row only; the counter is the service's job
    ticket.save()
    CustomField.objects.create(key="order_number", label="Order number")
    # The examples assign user 1, an agent.
    if not get_user_model().objects.filter(pk=1).exists():
        factories.AgentFactory(pk=1)
    from helpdesk.attachments import IncomingFile, attachments_add

    file = attachments_add(ticket=ticket, files=[IncomingFile.from_bytes("screenshot.png", b"\x89PNG\r\n\x1a\n")])[0]
    file.__class__.objects.filter(pk=file.pk).update(id=5)
    WebhookSubscription.objects.create(pk=1, url="https://crm.example.com/helpdesk-events", events=["*"])
    factories.TicketFactory(pk=41, client=client, department=department, subject="Cannot log in (again)")
    # Rows made with explicit ids leave PostgreSQL's sequences behind: move them past those
    # ids, or the examples' own writes (a webhook, a ticket's files) collide with them.
    from django.core.management.color import no_style
    from django.db import connection

    from helpdesk.models import Attachment, Client, Department, Reply, Ticket

    models = [Client, Department, Ticket, Reply, Attachment, WebhookSubscription, get_user_model()]
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)


def test_every_endpoint_has_an_example():
    paths = {curl.parse(c).path.split("?")[0].replace("/32", "/{id}").replace("/7", "/{reply_id}") for c in COMMANDS}
    for endpoint in [
        "/api/tickets", "/api/tickets/{id}", "/api/tickets/{id}/status", "/api/tickets/{id}/archive",
        "/api/tickets/{id}/restore", "/api/tickets/{id}/tags", "/api/tickets/{id}/replies",
        "/api/tickets/{id}/replies/{reply_id}", "/api/tickets/{id}/history", "/api/departments", "/api/statuses",
        "/api/tags", "/api/custom-fields", "/api/clients", "/api/projects", "/api/schema", "/api/attachments/5",
        "/api/webhooks", "/api/webhooks/1", "/api/tickets/{id}/merge", "/api/canned-replies",
    ]:
        assert endpoint in paths


@pytest.mark.parametrize("command", COMMANDS, ids=[c.split("\n")[0][:80] for c in COMMANDS])
def test_example_works(admin_api, docs_data, command):
    parsed = curl.parse(command)
    r = curl.run(admin_api, parsed, admin_api.key)
    assert 200 <= r.status_code < 300, r.content
    if parsed.method == "DELETE":
        assert r.status_code == 204
    elif "/attachments/" in parsed.path:
        assert r["Content-Disposition"].startswith("attachment")
    elif "/schema" not in parsed.path:
        assert "data" in r.json()
