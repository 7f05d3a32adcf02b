"""SQLite under write load (issue #12), on a database file configured as the demo site
does it (WAL, a busy timeout, IMMEDIATE transactions): a writer waits its turn instead of
failing, and a lock wait that times out is a 503 with ``Retry-After`` in the API and the
admin, never a 500. Each scenario runs in a subprocess on its own file (the suite's SQLite
test database is in memory, shared by every thread, so it has no writer queue)."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.db import connection

from .concurrency import ROOT, site_env

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite's locking; runs on the SQLite leg of the suite"
)

SETUP = """
import json, sqlite3, sys, threading, time
import django
django.setup()
from django.core.management import call_command
from django.db import connection
from django.test import Client
call_command("migrate", verbosity=0)
from helpdesk.models import APIKey, Department, Ticket, ClientDomain, Client as Org
from django.contrib.auth import get_user_model
agent = get_user_model().objects.create_superuser("agent", "agent@example.com", "pw")
department = Department.objects.create(name="Support", is_default=True)
org = Org.objects.create(name="Acme")
ClientDomain.objects.create(domain="acme.com", client=org)
ticket = Ticket.objects.create(subject="Locked", message="m", department=department, client=org, status_id=1)
key = APIKey.objects.create_key(user=agent, name="t")[1]
auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
web = Client(HTTP_HOST="localhost")
web.force_login(agent)
api = Client(HTTP_HOST="localhost", **auth)
db_path = connection.settings_dict["NAME"]
def reply(text):
    return api.post(f"/api/tickets/{ticket.pk}/replies", {"ticketreply_text": text}, content_type="application/json")
"""


def run(tmp_path: Path, body: str, timeout: int = 120) -> dict:
    script = tmp_path / "scenario.py"
    script.write_text(SETUP + textwrap.dedent(body))
    env = site_env(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    done = subprocess.run([sys.executable, str(script)], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_demo_settings_configure_sqlite_for_concurrent_use(tmp_path):
    out = run(tmp_path, """
        cursor = connection.cursor()
        mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
        print(json.dumps({"mode": mode, "options": connection.settings_dict["OPTIONS"]}))
    """)
    assert out["mode"] == "wal"
    assert out["options"]["timeout"] >= 5
    assert out["options"]["transaction_mode"] == "IMMEDIATE"


def test_a_lock_timeout_is_a_503_with_retry_after_in_the_api_and_the_admin(tmp_path):
    out = run(tmp_path, """
        connection.close()
        connection.settings_dict["OPTIONS"]["timeout"] = 0.2  # seconds a writer waits for the lock
        holder = sqlite3.connect(db_path, timeout=0)
        holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        answers = {}
        def note(name, response):
            body = response.content.decode()
            answers[name] = [response.status_code, response.get("Retry-After"), body[:300]]
        note("reply", reply("while locked"))
        note("status", api.put(f"/api/tickets/{ticket.pk}/status", {"status": 2}, content_type="application/json"))
        note("upsert", api.put("/api/tickets", [{"_id": ticket.pk, "title": "New title"},
                                                {"source": "s", "sourceId": "1", "email": "a@acme.com", "title": "x"}],
                               content_type="application/json"))
        note("admin_reply", web.post(f"/admin/helpdesk/ticket/{ticket.pk}/reply/", {"text": "hi", "type": "reply"}))
        note("admin_delete", web.post(f"/admin/helpdesk/ticket/{ticket.pk}/delete/", {"post": "yes"}))
        note("admin_other", web.post("/admin/helpdesk/department/add/", {"name": "New"}))  # the middleware
        note("read", api.get(f"/api/tickets/{ticket.pk}"))
        holder.rollback()
        note("after", reply("after the lock"))
        ticket.refresh_from_db()
        answers["saved"] = [ticket.replies_count, ticket.subject, Ticket.objects.count()]
        print(json.dumps(answers))
    """)
    for name in ("reply", "status", "upsert", "admin_reply", "admin_delete", "admin_other"):
        status, retry_after, body = out[name]
        assert status == 503, (name, out[name])
        assert retry_after == "5", (name, out[name])
    for name in ("reply", "status", "upsert"):
        assert json.loads(out[name][2])["error"]["code"] == "service_unavailable"
    assert out["read"][0] == 200  # WAL: reads go on while another process writes
    assert out["after"][0] == 201
    assert out["saved"] == [1, "Locked", 1]  # nothing of the refused requests was saved


def test_replies_during_large_upserts_wait_their_turn(tmp_path):
    out = run(tmp_path, """
        def upserts():
            from helpdesk.sync import ticket_bulk_upsert
            for n in range(3):
                items = [{"source": "big", "sourceId": f"{n}-{i}", "email": f"p{i % 50}@acme.com", "title": f"T{i}",
                          "tags": ["a", "b"], "history": [{"status": "open", "time": "2024-01-01T00:00:00Z"}]}
                         for i in range(2000)]
                ticket_bulk_upsert(items=items, by=agent)
            connection.close()
        writer = threading.Thread(target=upserts)
        writer.start()
        time.sleep(0.3)
        statuses, waits = [], []
        while writer.is_alive() or len(statuses) < 3:
            start = time.monotonic()
            statuses.append(reply(f"reply {len(statuses)}").status_code)
            waits.append(time.monotonic() - start)
            time.sleep(0.05)
        writer.join()
        ticket.refresh_from_db()
        print(json.dumps({"statuses": statuses, "max_wait": max(waits), "replies": ticket.replies_count,
                          "tickets": Ticket.objects.filter(external_source="big").count()}))
    """, timeout=300)
    assert set(out["statuses"]) == {201}, out
    assert out["replies"] == len(out["statuses"])
    assert out["tickets"] == 6000
    print("longest wait for a reply:", round(out["max_wait"], 2), "s")
