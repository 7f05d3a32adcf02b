"""The seed API's own curl examples (crm-tickets.md) work verbatim against our API."""

from pathlib import Path

import pytest

from helpdesk.models import Reply, Ticket, TicketStatus
from tests import factories
from tests.api import curl

pytestmark = pytest.mark.django_db

SEED = Path("/work/shared/seeds/crm-tickets.md")
# The seed's commands, kept here too so the suite runs where the seeds are not checked out.
COMMANDS = [
    'curl -G https://your-domain/api/tickets -H "Authorization: Bearer YOUR_API_KEY" -d status=1',
    'curl -X POST https://your-domain/api/tickets -H "Authorization: Bearer YOUR_API_KEY" \\\n'
    '  -d ticket_clientid=1 -d ticket_categoryid=72 -d ticket_subject="Cannot log in" \\\n'
    '  -d ticket_message="I get an error" -d ticket_priority=high',
    'curl -X PUT https://your-domain/api/tickets/32/status -H "Authorization: Bearer YOUR_API_KEY" -d status=2',
    'curl -X POST https://your-domain/api/tickets/32/replies -H "Authorization: Bearer YOUR_API_KEY" \\\n'
    '  -d ticketreply_text="We are looking into this for you."',
]


@pytest.fixture
def seed_data(db):
    client = factories.ClientFactory(pk=1, name="Acme Inc")
    department = factories.DepartmentFactory(pk=72, name="Sales")
    factories.TicketFactory(pk=32, client=client, department=department, subject="Cannot log in")


@pytest.mark.skipif(not SEED.exists(), reason="seeds not checked out")
def test_our_copy_is_the_seeds():
    assert [c.strip() for c in curl.commands_in(SEED)] == COMMANDS


def test_list_by_status(api, seed_data):
    r = curl.run(api, curl.parse(COMMANDS[0]), api.key)
    assert r.status_code == 200
    assert [t["id"] for t in r.json()["data"]] == [32]


def test_create(api, seed_data):
    r = curl.run(api, curl.parse(COMMANDS[1]), api.key)
    assert r.status_code == 201, r.content
    data = r.json()["data"]
    assert data["subject"] == "Cannot log in" and data["message"] == "I get an error"
    assert data["client"]["id"] == 1 and data["department"]["id"] == 72 and data["priority"] == "high"
    assert Ticket.objects.filter(pk=data["id"]).exists()


def test_change_status(api, seed_data):
    r = curl.run(api, curl.parse(COMMANDS[2]), api.key)
    assert r.status_code == 200, r.content
    assert Ticket.objects.get(pk=32).status_id == TicketStatus.CLOSED


def test_post_reply(api, seed_data):
    r = curl.run(api, curl.parse(COMMANDS[3]), api.key)
    assert r.status_code == 201, r.content
    assert r.json()["data"]["text"] == "We are looking into this for you."
    assert Reply.objects.get().ticket_id == 32
    assert Ticket.objects.get(pk=32).replies_count == 1
