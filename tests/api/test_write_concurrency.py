"""Concurrent writes on PostgreSQL with real threads and transactions: Idempotency-Key and If-Match.

In a file of its own that sorts after the other transactional API tests: each
transactional test's flush removes the default statuses (a migration's data), which the
``default_statuses`` fixture puts back for these tests.
"""

import importlib
import threading

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from helpdesk import services
from helpdesk.models import APIKey, Ticket

from .test_idempotency import create

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrent transactions need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def default_statuses():
    from django.apps import apps

    migration = importlib.import_module("helpdesk.migrations.0002_default_statuses_and_agent_group")
    with connection.schema_editor() as editor:
        migration.create_statuses(apps, editor)


def test_concurrent_requests_with_one_key_write_once(agent, department, client_org):
    """8 threads send the same create with one key at once: one ticket, the rest 409 or a replay."""
    _row, key = APIKey.objects.create_key(user=agent, name="t")
    barrier = threading.Barrier(8)
    results = []

    def send():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        barrier.wait()
        try:
            r = create(client, "race", dept=department.pk, org=client_org.pk)
            results.append((r.status_code, r.has_header("Idempotent-Replayed")))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Ticket.objects.count() == 1
    fresh = [r for r in results if r == (201, False)]
    assert len(fresh) == 1, results
    assert all(status == 409 or replayed for status, replayed in results if (status, replayed) != (201, False))


def test_two_editors_with_one_etag_only_one_wins(agent, department, client_org):
    """6 threads PATCH with the same If-Match at once: exactly one 200, the others 412."""
    ticket = services.ticket_create(subject="S", message="M", department=department, client=client_org,
                                    creator=agent, silent=True)
    _row, key = APIKey.objects.create_key(user=agent, name="t")
    first = APIClient()
    first.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    etag = first.get(f"/api/tickets/{ticket.pk}")["ETag"]
    connections.close_all()
    barrier = threading.Barrier(6)
    results = []

    def send(n):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        barrier.wait()
        try:
            r = client.patch(f"/api/tickets/{ticket.pk}", {"ticket_subject": f"Editor {n}"}, format="json",
                             HTTP_IF_MATCH=etag)
            results.append(r.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 412, 412, 412, 412, 412]
