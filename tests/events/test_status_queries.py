"""A status change through the API at its floor: the statements ``PUT /tickets/{id}/status``
sends with the reference rows (the statuses) in the cache, as in a warm server.

A transactional test, so BEGIN and COMMIT are what a real request sends.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpdesk.models import StatusChange, Ticket, TicketStatus

from .. import factories
from ..api.conftest import key_client

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_status_change_reads_the_locked_row_once_and_no_status(default_statuses):
    agent = factories.AgentFactory()
    api = key_client(agent)
    ticket = factories.TicketFactory()
    assert api.put(f"/api/tickets/{ticket.pk}/status", {"status": TicketStatus.ON_HOLD}, format="json").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = api.put(f"/api/tickets/{ticket.pk}/status", {"status": "answered"}, format="json")
    assert response.status_code == 200, response.content
    sql = [q["sql"] for q in queries.captured_queries if '"auth_permission"' not in q["sql"]]
    # No status is read (the cached statuses serve the body's title and the history's
    # "from"), and the locked row brings every column the SLA clock needs (no deferred
    # field loads one by one).
    assert not [q for q in sql if 'FROM "helpdesk_ticketstatus"' in q], sql
    # The ticket row three times: the view's read, the service's locked re-read (FOR UPDATE
    # on PostgreSQL; SQLite's write lock is the transaction's), the answer's re-read.
    assert len([q for q in sql if q.startswith('SELECT "helpdesk_ticket"."id"')]) == 3, sql
    assert len([q for q in sql if "FOR UPDATE" in q]) == (1 if connection.vendor == "postgresql" else 0), sql
    # key, the ticket, BEGIN, the locked row, INSERT history, UPDATE ticket, COMMIT, the
    # answer's re-read (+ its tags, assignees and files on SQLite, where they are prefetched).
    assert len(sql) == (8 if connection.vendor == "postgresql" else 14), sql
    assert response.json()["data"]["status"] == {"id": TicketStatus.ANSWERED, "title": "Answered"}
    change = StatusChange.objects.filter(ticket=ticket).latest("id")
    assert (change.from_status_id, change.to_status_id) == (TicketStatus.ON_HOLD, TicketStatus.ANSWERED)
    assert Ticket.objects.get(pk=ticket.pk).status_id == TicketStatus.ANSWERED


def test_an_unknown_status_title_is_422_without_a_write(default_statuses):
    api = key_client(factories.AgentFactory())
    ticket = factories.TicketFactory()
    response = api.put(f"/api/tickets/{ticket.pk}/status", {"status": "Resolved-ish"}, format="json")
    assert response.status_code == 422
    assert "Unknown status" in str(response.json())
    assert Ticket.objects.get(pk=ticket.pk).status_id == ticket.status_id
    assert not StatusChange.objects.filter(ticket=ticket).exclude(from_status__isnull=True).exists()
