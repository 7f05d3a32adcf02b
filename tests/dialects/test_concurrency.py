"""Concurrent upserts through both mounts (native ``/api/tickets`` and Planhat's
``/planhat/tickets``), real threads against a live server on PostgreSQL: never a duplicate,
exact counts, one free-form status row."""

import pytest

from helpdesk.models import Ticket, TicketStatus
from tests import factories
from tests.concurrency import call, needs_postgresql, run_concurrently
from tests.dialects.conftest import new_key

THREADS = 6

pytestmark = [pytest.mark.django_db(transaction=True), needs_postgresql,
              pytest.mark.usefixtures("default_statuses", "no_throttle")]


def put(url: str, key: str, body: list) -> tuple[int, dict]:
    return call("PUT", url, key, body, timeout=120)


def test_both_mounts_at_once_never_duplicate(live_server):
    factories.DepartmentFactory(is_default=True)
    factories.ClientDomainFactory(domain="acme.com")
    keys = [new_key(factories.AgentFactory()) for _ in range(THREADS)]
    # Even threads use the native mount, odd ones Planhat's; every key is sent by 2-3 threads,
    # half of the items without source (sourceId alone) and with a new free-form status.
    bodies = []
    for t in range(THREADS):
        body = []
        for n in range(20 * t, 20 * t + 50):
            item = {"sourceId": f"k{n}", "email": f"p{n % 7}@acme.com", "title": f"#{n} by {t}",
                    "status": "Escalated" if n % 2 else "open", "tags": ["shared", f"t{n % 3}"]}
            if n % 4 < 2:
                item["source"] = "crm"
            body.append(item)
        bodies.append(body)
    all_keys = {(i.get("source", ""), i["sourceId"]) for body in bodies for i in body}

    def send(t: int) -> tuple[int, dict]:
        mount = "/api/tickets" if t % 2 == 0 else "/planhat/tickets"
        return put(f"{live_server.url}{mount}", keys[t], bodies[t])

    answers = run_concurrently(send, THREADS, timeout=120)

    assert all(isinstance(a, tuple) and a[0] == 200 for a in answers), answers
    assert Ticket.objects.count() == len(all_keys)
    assert set(Ticket.objects.values_list("external_source", "external_id")) == all_keys
    assert sum(a[1]["created"] for a in answers) == len(all_keys)
    assert sum(a[1]["created"] + a[1]["updated"] for a in answers) == THREADS * 50
    assert TicketStatus.objects.filter(title__iexact="escalated").count() == 1


def test_source_id_alone_sees_a_concurrent_creation_with_a_source(live_server):
    """A Planhat sender without source and another with one, for the same new sourceIds at
    the same moment: the sourceless item either matches the other's ticket or was first;
    it never makes a second ticket beside one it could not see."""
    factories.DepartmentFactory(is_default=True)
    factories.ClientDomainFactory(domain="acme.com")
    keys = [new_key(factories.AgentFactory()) for _ in range(2)]
    sourced = [{"source": "crm", "sourceId": f"r{n}", "email": "a@acme.com"} for n in range(200)]
    bare = [{"sourceId": f"r{n}", "email": "a@acme.com"} for n in range(200)]

    answers = run_concurrently(
        lambda t: put(f"{live_server.url}{['/api/tickets', '/planhat/tickets'][t]}", keys[t], [sourced, bare][t]), 2,
        timeout=120)

    assert all(isinstance(a, tuple) and a[0] == 200 for a in answers), answers
    by_key = dict(((s, i), pk) for pk, s, i in Ticket.objects.values_list("pk", "external_source", "external_id"))
    for n in range(200):
        bare_pk, crm_pk = by_key.get(("", f"r{n}")), by_key.get(("crm", f"r{n}"))
        assert crm_pk is not None
        # A sourceless ticket may exist only if it was made before the sourced one.
        assert bare_pk is None or bare_pk < crm_pk, n
