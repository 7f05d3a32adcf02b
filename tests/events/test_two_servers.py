"""Two gunicorn app servers on two loopback ports against one PostgreSQL and one Redis:
throttles count across both, what one writes the other reads, concurrent upserts through
both never duplicate, and a task worker killed mid-delivery loses no webhook.

PostgreSQL only (the servers share the test database, which an in-memory SQLite cannot).
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import pytest
from django.db import connection

from helpdesk.models import APIKey, DeliveryStatus, Ticket, WebhookDelivery
from helpdesk.events import webhooks

from .. import factories
from ..concurrency import ROOT, call, errors, free_port, run_concurrently, site_env
from .receiver import Receiver
from .rq_support import redis_or_skip

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CACHE_REDIS = "redis://127.0.0.1:6379/7"


def database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def environment() -> dict[str, str]:
    return site_env(database_url(), "tests.events.two_servers_settings",
                    DJANGO_SECRET_KEY="two-servers-test-only", HELPDESK_REDIS_URL=CACHE_REDIS)


class Server:
    def __init__(self) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/api"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
             "--workers", "2", "--threads", "4", "--timeout", "60", "--log-level", "warning"],
            cwd=ROOT, env=environment(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )

    def wait(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"gunicorn exited: {self.process.stdout.read().decode()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("gunicorn did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def servers(default_statuses):
    if connection.vendor != "postgresql":
        pytest.skip("two app servers share one PostgreSQL database")
    redis = redis_or_skip()
    import redis as redis_lib

    cache = redis_lib.Redis.from_url(CACHE_REDIS)
    cache.flushdb()
    pair = [Server(), Server()]
    try:
        for server in pair:
            server.wait()
        yield pair
    finally:
        for server in pair:
            server.stop()
        cache.flushdb()
        del redis


def agent_key() -> str:
    _row, key = APIKey.objects.create_key(user=factories.AgentFactory(), name="two servers")
    return key


def test_two_app_servers_share_the_database_the_cache_and_the_work(servers):
    a, b = servers
    department, client = factories.DepartmentFactory(is_default=True), factories.ClientFactory()

    # A ticket written through one server is read (and changed) through the other.
    key = agent_key()
    status, created = call("POST", f"{a.base}/tickets", key, {
        "ticket_clientid": client.pk, "ticket_categoryid": department.pk, "ticket_subject": "Written on A",
        "ticket_message": "hello", "ticket_priority": "high"})
    assert status == 201, created
    ticket_id = created["data"]["id"]
    status, read = call("GET", f"{b.base}/tickets/{ticket_id}", key)
    assert status == 200 and read["data"]["subject"] == "Written on A"
    status, _ = call("PATCH", f"{b.base}/tickets/{ticket_id}", key, {"ticket_subject": "Changed on B"})
    assert status == 200
    assert call("GET", f"{a.base}/tickets/{ticket_id}", key)[1]["data"]["subject"] == "Changed on B"

    # Concurrent upserts of overlapping keys through both servers make each ticket once.
    upsert_key = agent_key()

    def upsert(server: Server, offset: int) -> tuple[int, dict]:
        items = [{"source": "zendesk", "sourceId": str(n), "title": f"Synced {n}", "email": f"p{n % 9}@acme.example",
                  "status": "open", "tags": [f"t{n % 3}"]} for n in range(offset, offset + 60)]
        return call("PUT", f"{server.base}/tickets", upsert_key, items, timeout=120)

    sends = [(server, offset) for offset in (0, 20, 40) for server in (a, b)]
    results = run_concurrently(lambda n: upsert(*sends[n]), len(sends), timeout=120)
    assert not errors(results), results
    assert [status for status, _ in results] == [200] * 6, results
    assert Ticket.objects.filter(external_source="zendesk").count() == 100  # keys 0..99, each once
    assert sum(r["created"] for _, r in results) == 100

    # Throttles count across both servers: 20 a minute for this user, wherever it calls.
    throttled_key = agent_key()
    statuses = [call("GET", f"{server.base}/statuses", throttled_key)[0] for server in (a, b) * 15]
    assert statuses.count(200) == 20 and statuses.count(429) == 10
    assert 429 in statuses[::2] and 429 in statuses[1::2]  # each server refused some


def test_a_worker_killed_mid_delivery_loses_no_webhook(servers, settings):
    settings.HELPDESK = {"WEBHOOK_ALLOW_PRIVATE": True}
    a, _b = servers
    key = agent_key()
    department, client = factories.DepartmentFactory(), factories.ClientFactory()

    def start_worker() -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--interval", "0.1", "--no-startup-delay", "--no-reload"],
            cwd=ROOT, env=environment(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

    def create(subject: str) -> None:
        status, body = call("POST", f"{a.base}/tickets", key, {
            "ticket_clientid": client.pk, "ticket_categoryid": department.pk, "ticket_subject": subject,
            "ticket_message": "hello", "ticket_priority": "normal"})
        assert status == 201, body

    def wait_for(predicate, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.02)
        return False

    with Receiver() as receiver:
        webhooks.webhook_create(url=receiver.url, events=["ticket.created"])
        worker = start_worker()
        try:
            create("Warms the worker up")
            assert wait_for(lambda: len(receiver.received) == 1, 30)
            # With a worker running, a change arrives within a second of the API's answer.
            created_at = time.monotonic()
            create("Arrives fast")
            answered = time.monotonic()
            assert wait_for(lambda: len(receiver.received) == 2, 5)
            assert time.monotonic() - answered < 1.0, (time.monotonic() - answered, answered - created_at)

            # Now the receiver is slow: the worker is killed while it waits for the answer.
            receiver.delay = 1.5
            create("Survives a killed worker")
            assert wait_for(lambda: len(receiver.received) == 3, 10)
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            receiver.delay = 0
            message = WebhookDelivery.objects.get(payload__data__subject="Survives a killed worker")
            assert message.status == DeliveryStatus.PENDING  # its worker died before it was recorded
            worker = start_worker()  # the restart: the queued watchdog run takes over
            assert wait_for(lambda: WebhookDelivery.objects.filter(
                pk=message.pk, status=DeliveryStatus.DELIVERED).exists(), 40)
        finally:
            worker.kill()
            worker.wait()
        ids = [r["headers"]["webhook-id"] for r in receiver.received]
        assert ids.count(message.message_id) == 2  # sent again, with the same id: the receiver can tell
        assert receiver.types() == ["ticket.created"] * 4
