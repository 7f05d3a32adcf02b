"""Benchmark of the staff admin at scale (PostgreSQL only; not part of the test suite).

Seeds a database of its own with a fast set-based insert, then times the ticket list,
the ticket page and the overview through Django's test client, counting queries:

    createdb -h 127.0.0.1 -U postgres hd_admin_1m
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/hd_admin_1m DJANGO_ALLOWED_HOSTS=testserver
    .venv/bin/python manage.py migrate
    .venv/bin/python -m tests.admin.bench_admin seed --tickets 1000000
    .venv/bin/python -m tests.admin.bench_admin measure
    dropdb -h 127.0.0.1 -U postgres hd_admin_1m
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from helpdesk.models import Ticket  # noqa: E402

AGENTS, REQUESTERS, CLIENTS, DEPARTMENTS, TAGS = 20, 2000, 5000, 8, 50


def run(sql: str, label: str) -> None:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql)
    print(f"  {label}: {time.perf_counter() - started:.1f} s", flush=True)


def seed(tickets: int) -> None:
    if connection.vendor != "postgresql":
        sys.exit("The benchmark seeds PostgreSQL only.")
    if Ticket.objects.exists():
        sys.exit("The database already has tickets; use an empty one.")
    print(f"Seeding {tickets:,} tickets", flush=True)
    run(f"""
        INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active,
                               date_joined)
        SELECT '!', false, 'agent' || g, 'Agent', 'No ' || g, 'agent' || g || '@desk.test', true, true, now()
        FROM generate_series(1, {AGENTS}) g
        UNION ALL
        SELECT '!', false, 'customer' || g, 'Customer', 'No ' || g, 'customer' || g || '@client' || (g % {CLIENTS})
               || '.test', false, true, now()
        FROM generate_series(1, {REQUESTERS}) g""", "users")
    run(f"INSERT INTO helpdesk_department (name, description, is_default) "
        f"SELECT 'Department ' || g, '', false FROM generate_series(1, {DEPARTMENTS}) g", "departments")
    run(f"INSERT INTO helpdesk_client (name, external_id, notes, created_at) "
        f"SELECT 'Client ' || g, NULL, '', now() FROM generate_series(1, {CLIENTS}) g", "clients")
    run(f"INSERT INTO helpdesk_tag (name) SELECT 'tag' || g FROM generate_series(1, {TAGS}) g", "tags")
    run(f"""
        WITH ids AS (
            SELECT (SELECT min(id) FROM helpdesk_department) AS dept,
                   (SELECT min(id) FROM helpdesk_client) AS client,
                   (SELECT min(id) FROM auth_user WHERE username LIKE 'customer%%') AS requester
        ), rows AS (
            SELECT g, now() - ((({tickets} - g)::float / {tickets}) * interval '1095 days') AS created,
                   CASE WHEN g < {tickets} * 0.95 THEN (CASE WHEN g % 10 < 9 THEN 2 ELSE 1 + g % 5 END)
                        ELSE 1 + g % 5 END AS status
            FROM generate_series(1, {tickets}) g
        )
        INSERT INTO helpdesk_ticket (
            subject, message, status_id, priority, channel, active_state, department_id, client_id, project_id,
            creator_id, requester_id, type, severity, product, time_spent, external_source, external_id,
            external_url, custom_fields, metadata, created_at, updated_at, status_changed_at, first_response_at,
            last_reply_at, closed_at, replies_count, notes_count)
        SELECT 'Ticket ' || g || ': ' || (ARRAY['Cannot log in', 'Invoice shows the wrong VAT', 'Export times out',
                                               'SSO stopped working', 'Refund request'])[1 + g % 5],
               'The customer describes problem number ' || g || ' in some detail.',
               status, 1 + (g % 7 = 0)::int + (g % 23 = 0)::int, 'web',
               CASE WHEN g % 20 = 0 AND status = 2 THEN 'archived' ELSE 'active' END,
               ids.dept + g % {DEPARTMENTS}, ids.client + g % {CLIENTS}, NULL, NULL, ids.requester + g % {REQUESTERS},
               '', '', '', 0, NULL, NULL, '', '{{}}', '{{}}',
               created, created + interval '1 hour' * (2 + g % 70), created,
               CASE WHEN g % 5 < 4 THEN created + interval '1 minute' * (5 + g % 600) END,
               CASE WHEN g % 4 > 0 THEN created + interval '1 hour' * (1 + g % 60) END,
               CASE WHEN status = 2 THEN created + interval '1 hour' * (2 + g % 70) END,
               g % 4, (g % 9 = 0)::int
        FROM rows, ids""", "tickets")
    run(f"""
        INSERT INTO helpdesk_ticket_assignees (ticket_id, user_id)
        SELECT t.id, (SELECT min(id) FROM auth_user WHERE is_staff) + t.id % {AGENTS}
        FROM helpdesk_ticket t WHERE t.id % 10 < 7""", "assignees")
    run(f"""
        INSERT INTO helpdesk_ticket_tags (ticket_id, tag_id)
        SELECT t.id, (SELECT min(id) FROM helpdesk_tag) + t.id % {TAGS} FROM helpdesk_ticket t WHERE t.id % 5 < 2""",
        "tags on tickets")
    run("""
        INSERT INTO helpdesk_statuschange (ticket_id, from_status_id, to_status_id, changed_at, changed_by_id)
        SELECT id, NULL::bigint, 1, created_at, NULL::integer FROM helpdesk_ticket
        UNION ALL
        SELECT id, 1, status_id, status_changed_at + interval '1 hour', NULL::integer FROM helpdesk_ticket WHERE status_id <> 1
        """, "status history")
    run(f"""
        INSERT INTO helpdesk_reply (ticket_id, author_id, text, type, created_at)
        SELECT t.id, (SELECT min(id) FROM auth_user WHERE is_staff) + (t.id + k) % {AGENTS},
               'Reply ' || k || ' on ticket ' || t.id, 'reply', t.created_at + interval '1 hour' * k
        FROM helpdesk_ticket t, generate_series(1, t.replies_count) k""", "replies")
    run("VACUUM ANALYZE", "vacuum analyze")


def timed(client: Client, url: str, runs: int) -> tuple[float, float, float, float, int]:
    """p50 and max wall time, p50 CPU time of this process (Python: what a busy machine's
    waiting does not inflate), p50 time spent in the database, and the query count."""
    client.get(url)  # warm caches (content types, templates, the database's buffers)
    times, cpu_times, db_times, queries = [], [], [], 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            started, cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            cpu_times.append((time.process_time() - cpu) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(ctx.captured_queries)
        db_times.append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)
    return statistics.median(times), max(times), statistics.median(cpu_times), statistics.median(db_times), queries


def measure(runs: int) -> None:
    user, _ = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True, "email": "bench@desk.test"}
    )
    client = Client()
    client.force_login(user)
    total = Ticket.objects.count()
    ticket = Ticket.objects.filter(replies_count=3).order_by("-id").first()
    some_client = ticket.client_id
    tag = Ticket.tags.through.objects.values_list("tag_id", flat=True).order_by("-id").first()
    agent = get_user_model().objects.filter(is_staff=True, username__startswith="agent").values_list("pk", flat=True)[0]
    pages = [
        ("list, default (active, by last update)", "/admin/helpdesk/ticket/"),
        ("list, page 50", "/admin/helpdesk/ticket/?p=50"),
        ("list, status Open", "/admin/helpdesk/ticket/?status__id__exact=1"),
        ("list, urgent + department", "/admin/helpdesk/ticket/?priority__exact=3&department__id__exact="
         f"{ticket.department_id}"),
        ("list, assignee", f"/admin/helpdesk/ticket/?assignee={agent}"),
        ("list, unassigned", "/admin/helpdesk/ticket/?assignee=none"),
        ("list, client (autocomplete filter)", f"/admin/helpdesk/ticket/?client__id__exact={some_client}"),
        ("list, tag", f"/admin/helpdesk/ticket/?tags__id__exact={tag}"),
        ("list, archived", "/admin/helpdesk/ticket/?state=archived"),
        ("list, search #id", f"/admin/helpdesk/ticket/?q=%23{ticket.pk}"),
        ("list, search text (a requester email)", "/admin/helpdesk/ticket/?q=customer1234%40"),
        ("list, search words (200,000 matches)", "/admin/helpdesk/ticket/?q=wrong+VAT"),
        ("ticket page (3 replies, history)", f"/admin/helpdesk/ticket/{ticket.pk}/change/"),
        ("overview (cached)", "/admin/helpdesk/ticket/overview/"),
    ]
    print(f"{total:,} tickets; {runs} runs each; times in ms; load average {os.getloadavg()[0]:.1f}")
    print(f"{'page':44} {'p50':>8} {'max':>8} {'cpu p50':>8} {'db p50':>8} {'queries':>8}")
    for label, url in pages:
        p50, worst, cpu, db, queries = timed(client, url, runs)
        print(f"{label:44} {p50:8.1f} {worst:8.1f} {cpu:8.1f} {db:8.1f} {queries:8d}", flush=True)
    cold = []
    for _ in range(3):
        cache.clear()
        started = time.perf_counter()
        assert client.get("/admin/helpdesk/ticket/overview/").status_code == 200
        cold.append((time.perf_counter() - started) * 1000)
    print(f"{'overview (uncached: computing the figures)':44} {statistics.median(cold):8.1f} {max(cold):8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    seed_parser = sub.add_parser("seed")
    seed_parser.add_argument("--tickets", type=int, default=1_000_000)
    measure_parser = sub.add_parser("measure")
    measure_parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    if args.command == "seed":
        seed(args.tickets)
    else:
        measure(args.runs)


if __name__ == "__main__":
    main()
