"""Real concurrent ``PUT /tickets`` requests over HTTP (the live server handles each in its
own thread, with its own database connection): overlapping keys never make two tickets."""

import pytest

from helpdesk.models import APIKey, Ticket
from tests import factories
from tests.concurrency import call, require_concurrent_writers, run_concurrently

REQUESTS = 4


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("default_statuses", "no_throttle")
def test_concurrent_requests_with_overlapping_keys(live_server):
    require_concurrent_writers()  # the live server shares one connection with an in-memory SQLite database
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

    answers = run_concurrently(
        lambda r: call("PUT", f"{live_server.url}/api/tickets", keys[r], bodies[r], timeout=90), REQUESTS, timeout=90)

    assert all(isinstance(a, tuple) and a[0] == 200 for a in answers), answers
    assert Ticket.objects.count() == len(all_keys)
    assert sum(a[1]["created"] for a in answers) == len(all_keys)
    assert sum(a[1]["created"] + a[1]["updated"] for a in answers) == REQUESTS * 60
