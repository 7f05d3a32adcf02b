"""Real concurrent ``PUT /tickets`` requests over HTTP (the live server handles each in its
own thread, with its own database connection): overlapping keys never make two tickets."""

import json
import threading
import urllib.request

import pytest
from django.db import connection

from helpdesk.models import APIKey, Ticket
from tests import factories


@pytest.fixture
def default_statuses():
    """The default statuses (a migration's data), which a transactional test's flush removes."""
    import importlib

    from django.apps import apps
    from django.db import connection

    migration = importlib.import_module("helpdesk.migrations.0002_default_statuses_and_agent_group")
    with connection.schema_editor() as editor:
        migration.create_statuses(apps, editor)

REQUESTS = 4


def put(url: str, key: str, body: list) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="PUT",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (the local live server)
        return response.status, json.loads(response.read())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("default_statuses")
def test_concurrent_requests_with_overlapping_keys(live_server, settings):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("the live server shares one connection with an in-memory SQLite database")
    settings.HELPDESK = {"THROTTLE_RATES": {"anon": None, "user": None, "upsert": None}}
    factories.DepartmentFactory(is_default=True)
    factories.ClientDomainFactory(domain="acme.com")
    keys = [APIKey.objects.create_key(user=factories.AgentFactory(), name="sync")[1] for _ in range(REQUESTS)]
    bodies = [
        [{"source": "crm", "sourceId": str(n), "email": f"p{n % 10}@acme.com", "title": f"#{n} by {r}",
          "tags": ["shared", f"t{n % 3}"]}
         for n in range(25 * r, 25 * r + 60)]
        for r in range(REQUESTS)
    ]
    all_keys = {item["sourceId"] for body in bodies for item in body}
    barrier = threading.Barrier(REQUESTS)
    answers: list = [None] * REQUESTS

    def send(r: int) -> None:
        barrier.wait()
        try:
            answers[r] = put(f"{live_server.url}/api/tickets", keys[r], bodies[r])
        except Exception as exc:  # noqa: BLE001 (reported by the assertion below)
            answers[r] = exc

    threads = [threading.Thread(target=send, args=(r,)) for r in range(REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)

    assert all(isinstance(a, tuple) and a[0] == 200 for a in answers), answers
    assert Ticket.objects.count() == len(all_keys)
    assert sum(a[1]["created"] for a in answers) == len(all_keys)
    assert sum(a[1]["created"] + a[1]["updated"] for a in answers) == REQUESTS * 60
