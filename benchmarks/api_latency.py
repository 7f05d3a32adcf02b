"""Latency of the API's hot paths (list and detail) against the database in DATABASE_URL.

Runs the requests in-process through Django's test client (no HTTP server: this measures
the app and the database, not a WSGI server), after warming up, and prints p50/p95 in ms.

    DATABASE_URL=postgres://…/hd_bench DJANGO_SECRET_KEY=x DJANGO_DEBUG=0 \\
        python benchmarks/api_latency.py [--runs 200]

The database must hold tickets already (the benchmark creates its own agent and key).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402

from helpdesk.models import APIKey, Ticket  # noqa: E402


def measure(client: Client, path: str, runs: int, headers: dict[str, str]) -> tuple[float, float]:
    for _ in range(5):
        response = client.get(path, secure=True, **headers)
        assert response.status_code == 200, (path, response.status_code, response.content[:300])
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        client.get(path, secure=True, **headers)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    from django.test.utils import override_settings

    from helpdesk.conf import helpdesk_settings

    User = get_user_model()
    agent, _ = User.objects.get_or_create(username="bench-agent", defaults={"is_staff": True})
    _row, key = APIKey.objects.create_key(user=agent, name="bench")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    total = Ticket.objects.count()
    some = Ticket.objects.order_by("-id").values_list("id", flat=True)[500]
    client_id = Ticket.objects.filter(pk=some).values_list("client_id", flat=True)[0]
    paths = [
        "/api/tickets",
        "/api/tickets?limit=100",
        "/api/tickets?page=200",
        "/api/tickets?status=1",
        f"/api/tickets?client_id={client_id}",
        "/api/tickets?sort=ticket_last_updated",
        "/api/tickets?sort=ticket_priority",
        "/api/tickets?active_state=all&updated_since=2026-11-23T00:00:00Z&sort=ticket_last_updated&order=asc",
        "/api/tickets?search=printer",
        "/api/tickets?search=invoice%20number",
        f"/api/tickets/{some}",
        f"/api/tickets/{some}/replies",
    ]
    print(f"{total} tickets; {args.runs} runs each; milliseconds")
    with override_settings(HELPDESK={"THROTTLE_RATES": {"anon": None, "user": None, "upsert": None}}):
        helpdesk_settings.reload()
        client = Client()
        for path in paths:
            p50, p95 = measure(client, path, args.runs, headers)
            print(f"p50 {p50:7.2f}  p95 {p95:7.2f}  {path}")
    APIKey.objects.filter(user=agent).delete()


if __name__ == "__main__":
    main()
