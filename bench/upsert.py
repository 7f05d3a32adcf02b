"""Benchmark of the bulk upsert (``PUT /tickets``'s service): N new tickets, then the same N as updates.

    python -m bench.upsert --items 5000 --db postgres [--repeat 3] [--pg-url postgres://postgres@127.0.0.1:5432/postgres]
    python -m bench.upsert --items 5000 --db sqlite

It builds its own database (a fresh PostgreSQL database ``hd_bench_upsert_<pid>``, or a
temporary SQLite file), migrates it, adds reference data (a default department, an agent,
50 clients with email domains), and times ``ticket_bulk_upsert`` on a realistic payload:
1000 requesters (created by the first run), two-step status history, two tags per ticket,
an assignee on a third of them, dates, time spent. It prints one line per phase and drops
the database. ``run()`` is the entry point for the benchmark suite; ``measure()`` times
against whatever database Django is already set up with.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from typing import Any

GOAL_SECONDS = 2.0


def make_items(count: int, *, seed: str = "bench", title: str = "Ticket") -> list[dict[str, Any]]:
    """``count`` Planhat-dialect items, deterministic for a given ``seed``."""
    statuses = ["open", "pending", "closed", "open"]
    items = []
    for n in range(count):
        domain = f"client{n % 50}.example"
        item: dict[str, Any] = {
            "source": "zendesk",
            "sourceId": f"{seed}-{n}",
            "title": f"{title} {n}",
            "description": f"Customer {n % 1000} reports problem number {n}.\nDetails follow.",
            "url": f"https://support.example.com/tickets/{n}",
            "email": f"person{n % 1000}@{domain}",
            "name": f"Person {n % 1000}",
            "domains": [domain],
            "status": statuses[n % 4],
            "history": [
                {"status": "open", "time": f"2025-01-{1 + n % 28:02d}T09:00:00Z"},
                {"status": statuses[n % 4], "time": f"2025-02-{1 + n % 28:02d}T10:30:00Z"},
            ],
            "tags": [f"tag{n % 20}", f"area{n % 7}"],
            "type": "question",
            "priority": ["normal", "high", "urgent"][n % 3],
            "timeSpent": (n % 90) + 0.5,
            "createdAt": f"2025-01-{1 + n % 28:02d}T09:00:00Z",
            "updatedAt": f"2025-03-{1 + n % 28:02d}T12:00:00Z",
        }
        if n % 3 == 0:
            item["agentEmail"] = "agent@helpdesk.example"
        items.append(item)
    return items


def prepare_reference_data() -> Any:
    """The department, agent and clients the payload refers to; returns the agent."""
    from django.contrib.auth import get_user_model

    from helpdesk.models import Client, ClientDomain, Department

    # On a database seeded by someone else (the benchmark suite's), reuse what is there.
    if not Department.objects.filter(is_default=True).exists():
        Department.objects.get_or_create(name="Support", defaults={"is_default": True})
    from helpdesk.permissions import ensure_agent_group

    agent, _ = get_user_model().objects.get_or_create(
        username="bench-agent", defaults={"email": "agent@helpdesk.example", "is_staff": True}
    )
    agent.groups.add(ensure_agent_group())  # an agent is staff with the agents' permissions
    for n in range(50):
        if not ClientDomain.objects.filter(domain=f"client{n}.example").exists():
            ClientDomain.objects.create(domain=f"client{n}.example", client=Client.objects.create(name=f"Client {n}"))
    return agent


def measure(items: int = 5000, *, seed: str = "bench", breakdown: dict[str, Any] | None = None) -> dict[str, float]:
    """Time the upsert of ``items`` new tickets, then of the same ones as updates.

    Django must be set up on a migrated database. Returns seconds per phase. With a
    ``breakdown`` dict, also fills it with each phase's statement count and database time
    (recording statements costs a little time itself).
    """
    import contextlib

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from helpdesk.models import Ticket
    from helpdesk.sync import ticket_bulk_upsert

    agent = prepare_reference_data()
    results: dict[str, float] = {}
    for phase, title, expect in (("create", "Ticket", "created"), ("update", "Updated ticket", "updated")):
        payload = make_items(items, seed=seed, title=title)
        capture = CaptureQueriesContext(connection) if breakdown is not None else contextlib.nullcontext()
        with capture as ctx:
            start = time.perf_counter()
            result = ticket_bulk_upsert(items=payload, by=agent)
            results[phase] = time.perf_counter() - start
        if breakdown is not None:
            breakdown[phase] = {
                "statements": len(ctx.captured_queries),
                "db_seconds": sum(float(q["time"]) for q in ctx.captured_queries),
                "slowest": sorted(((float(q["time"]), q["sql"][:70]) for q in ctx.captured_queries), reverse=True)[:3],
            }
        if not result.ok or getattr(result, expect) != items:
            raise SystemExit(f"{phase}: unexpected result {result.to_dict()['created']=} errors={result.errors[:3]}")
    assert Ticket.objects.filter(external_id__startswith=f"{seed}-").count() == items
    return results


def _setup(db: str, pg_url: str) -> tuple[Any, str]:
    """Point Django at a fresh database of kind ``db``; returns a teardown function and a label."""
    if db == "postgres":
        import psycopg

        name = f"hd_bench_upsert_{os.getpid()}"
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = pg_url.rsplit("/", 1)[0] + "/" + name

        def teardown() -> None:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(pg_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')

        return teardown, name
    path = os.path.join(tempfile.mkdtemp(prefix="hd_bench_"), "bench.sqlite3")
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    return (lambda: os.path.exists(path) and os.remove(path)), path


def run(items: int = 5000, *, db: str = "postgres", repeat: int = 1,
        pg_url: str = "postgres://postgres@127.0.0.1:5432/postgres", breakdown: bool = False) -> dict[str, Any]:
    """Build a database, run ``measure`` ``repeat`` times (fresh keys each time), drop it.

    Returns ``{"items", "db", "create": [seconds...], "update": [seconds...]}``. Django
    must not be set up yet in this process (the database is chosen at setup).
    """
    import django
    from django.conf import settings

    if settings.configured and django.apps.apps.ready:
        raise RuntimeError("bench.upsert.run() sets Django up itself; call measure() instead.")
    teardown, label = _setup(db, pg_url)
    try:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        details: list[dict[str, Any]] = []
        runs = []
        for n in range(repeat):
            details.append({})
            runs.append(measure(items, seed=f"run{n}", breakdown=details[-1] if breakdown else None))
    finally:
        teardown()
    return {
        "items": items,
        "db": db,
        "database": label,
        "create": [r["create"] for r in runs],
        "update": [r["update"] for r in runs],
        "breakdown": details if breakdown else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.upsert", description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--repeat", type=int, default=1, help="runs, each with new keys (default 1)")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
                        help="a PostgreSQL server to create the benchmark database on")
    parser.add_argument("--breakdown", action="store_true",
                        help="also print statement counts, database time and the slowest statements")
    args = parser.parse_args(argv)
    report = run(args.items, db=args.db, repeat=args.repeat, pg_url=args.pg_url, breakdown=args.breakdown)
    ok = True
    for phase in ("create", "update"):
        for n, seconds in enumerate(report[phase], 1):
            verdict = "ok" if seconds < GOAL_SECONDS else "SLOW"
            ok &= seconds < GOAL_SECONDS
            print(f"upsert {phase:6} {args.items} items on {args.db} (run {n}): {seconds:.3f} s "
                  f"({args.items / seconds:,.0f} items/s) goal < {GOAL_SECONDS:.0f} s: {verdict}")
            if report["breakdown"]:
                detail = report["breakdown"][n - 1][phase]
                print(f"    {detail['statements']} statements, {detail['db_seconds']:.3f} s in the database; slowest:")
                for took, sql in detail["slowest"]:
                    print(f"      {took:.3f} s  {sql}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.exit(main())
