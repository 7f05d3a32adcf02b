"""Concurrent writes on PostgreSQL with real threads and transactions: Idempotency-Key and If-Match.

In a file of its own that sorts after the other transactional API tests: each
transactional test's flush removes the default statuses (a migration's data), which the
``default_statuses`` fixture puts back for these tests.
"""

import pytest
from django.db import connections
from rest_framework.test import APIClient

from helpdesk import services
from helpdesk.models import APIKey, Ticket
from tests.concurrency import errors, needs_postgresql, run_concurrently

from .test_idempotency import create

pytestmark = [
    needs_postgresql,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("default_statuses"),
]


def key_clients(key: str, count: int) -> list[APIClient]:
    """An API client per thread, each with the key."""
    clients = [APIClient() for _ in range(count)]
    for client in clients:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return clients


def test_concurrent_requests_with_one_key_write_once(agent, department, client_org):
    """8 threads send the same create with one key at once: one ticket, the rest 409 or a replay."""
    _row, key = APIKey.objects.create_key(user=agent, name="t")
    clients = key_clients(key, 8)

    def send(n):
        r = create(clients[n], "race", dept=department.pk, org=client_org.pk)
        return r.status_code, r.has_header("Idempotent-Replayed")

    results = run_concurrently(send, 8)
    assert not errors(results), results
    assert Ticket.objects.count() == 1
    fresh = [r for r in results if r == (201, False)]
    assert len(fresh) == 1, results
    assert all(status == 409 or replayed for status, replayed in results if (status, replayed) != (201, False))


def test_two_editors_with_one_etag_only_one_wins(agent, department, client_org):
    """6 threads PATCH with the same If-Match at once: exactly one 200, the others 412."""
    ticket = services.ticket_create(subject="S", message="M", department=department, client=client_org,
                                    creator=agent, silent=True)
    _row, key = APIKey.objects.create_key(user=agent, name="t")
    first = key_clients(key, 1)[0]
    etag = first.get(f"/api/tickets/{ticket.pk}")["ETag"]
    connections.close_all()
    clients = key_clients(key, 6)

    def send(n):
        r = clients[n].patch(f"/api/tickets/{ticket.pk}", {"ticket_subject": f"Editor {n}"}, format="json",
                             HTTP_IF_MATCH=etag)
        return r.status_code

    results = run_concurrently(send, 6)
    assert not errors(results), results
    assert sorted(results) == [200, 412, 412, 412, 412, 412]
