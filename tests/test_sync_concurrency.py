"""Concurrent bulk upserts with overlapping keys, each thread on its own connection:
no ticket (or user, client, tag) is ever made twice or lost, and the counts add up."""

import pytest
from django.contrib.auth import get_user_model

from helpdesk.models import Client, ClientDomain, StatusChange, Tag, Ticket
from helpdesk.sync import ticket_bulk_upsert

from . import factories
from .concurrency import ROOT, errors, require_concurrent_writers, run_concurrently, site_env

THREADS = 4


def items_for(thread: int) -> list[dict]:
    # Thread t sends keys 40t .. 40t+99: each key is sent by two or three threads.
    return [
        {
            "source": "zendesk", "sourceId": str(n), "title": f"Ticket {n} from thread {thread}",
            "email": f"person{n % 30}@company{n % 30 % 7}.example", "domains": [f"company{n % 30 % 7}.example"],
            "tags": [f"tag{n % 5}", "thread-shared"], "status": "open",
            "history": [{"status": "open", "time": "2024-05-01T10:00:00Z"}],
        }
        for n in range(40 * thread, 40 * thread + 100)
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("default_statuses")
def test_overlapping_concurrent_upserts_make_each_ticket_once():
    require_concurrent_writers()
    factories.DepartmentFactory(is_default=True)
    agent = factories.AgentFactory()
    keys = {item["sourceId"] for t in range(THREADS) for item in items_for(t)}

    results = run_concurrently(lambda n: ticket_bulk_upsert(items=items_for(n), by=agent), THREADS)

    assert not errors(results), results
    assert all(r.ok for r in results)
    assert Ticket.objects.count() == len(keys)
    assert set(Ticket.objects.values_list("external_id", flat=True)) == keys
    # Exactly one request created each ticket; the others updated it.
    assert sum(r.created for r in results) == len(keys)
    assert sum(r.created + r.updated for r in results) == THREADS * 100
    created_ids = [k["_id"] for r in results for k in r.inserts_keys]
    assert len(created_ids) == len(set(created_ids)) == len(keys)
    # The shared people, companies and tags exist once each.
    assert get_user_model().objects.filter(email__endswith=".example").exclude(pk=agent.pk).count() == 30
    assert ClientDomain.objects.count() == 7 and Client.objects.count() == 7
    assert Tag.objects.count() == 6
    # History is not doubled by the requests that updated a ticket.
    assert StatusChange.objects.count() == len(keys)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("default_statuses")
def test_same_new_key_from_many_requests_at_once():
    require_concurrent_writers()
    factories.DepartmentFactory(is_default=True)
    factories.ClientDomainFactory(domain="acme.com")
    payload = [{"source": "s", "sourceId": "same", "email": "max@acme.com", "title": "Race"}]

    results = run_concurrently(lambda n: ticket_bulk_upsert(items=payload), 6)

    assert not errors(results), results
    assert Ticket.objects.count() == 1
    assert sorted((r.created, r.updated) for r in results) == [(0, 1)] * 5 + [(1, 0)]


def test_concurrent_imports_on_a_sqlite_file(tmp_path):
    """SQLite, as the demo site configures it (WAL, IMMEDIATE transactions, a busy timeout):
    four processes import overlapping files into one database file at the same time."""
    import json
    import sqlite3
    import subprocess
    import sys

    root = ROOT
    env = site_env(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    manage = [sys.executable, str(root / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True, cwd=root)
    setup = (
        "from helpdesk.models import Department, ClientDomain, Client;"
        "Department.objects.create(name='Support', is_default=True);"
        "ClientDomain.objects.create(domain='acme.com', client=Client.objects.create(name='Acme'))"
    )
    subprocess.run([*manage, "shell", "-c", setup], env=env, check=True, cwd=root)
    files = []
    for t in range(THREADS):
        path = tmp_path / f"part{t}.json"
        path.write_text(json.dumps(items_for(t)))
        files.append(path)

    procs = [subprocess.Popen([*manage, "helpdesk_import", str(f), "--chunk-size", "25"], env=env, cwd=root,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for f in files]
    outputs = [p.communicate(timeout=180) for p in procs]

    assert all(p.returncode == 0 for p in procs), outputs
    keys = {item["sourceId"] for t in range(THREADS) for item in items_for(t)}
    db = sqlite3.connect(tmp_path / "db.sqlite3")
    assert db.execute("SELECT COUNT(*), COUNT(DISTINCT external_id) FROM helpdesk_ticket").fetchone() == (len(keys), len(keys))
    created = sum(int(out.split("Created ")[1].split(",")[0]) for out, _err in outputs)
    assert created == len(keys)
    assert db.execute("SELECT COUNT(*) FROM helpdesk_statuschange").fetchone() == (len(keys),)
