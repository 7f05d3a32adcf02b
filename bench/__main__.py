"""``python -m bench --tickets 100000 --db postgres|sqlite``: build, seed, measure, report.

See bench/README.md. The database is the benchmark's own: a fresh ``hd_bench_<n>``
PostgreSQL database (dropped first if it exists) or a SQLite file in a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/postgres"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--tickets", type=int, default=10000, help="tickets to seed (default 10000)")
    p.add_argument("--db", choices=["postgres", "sqlite"], default="sqlite")
    p.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG),
                   help="a PostgreSQL URL whose server and credentials to use; the database part is "
                        "replaced by hd_bench_<n> (default: $BENCH_PG_URL or %(default)s)")
    p.add_argument("--sqlite-path", help="SQLite file to use (default: a file in a new temporary directory)")
    p.add_argument("--repeat", type=int, default=50, help="timed requests per read scenario (default 50)")
    p.add_argument("--write-repeat", type=int, default=30, help="timed requests per write scenario (default 30)")
    p.add_argument("--upsert-repeat", type=int, default=3, help="timed 5000-item upserts (default 3)")
    p.add_argument("--upsert-size", type=int, default=5000, help="items per upsert request (default 5000)")
    p.add_argument("--warmup", type=int, default=5, help="untimed requests before each scenario (default 5)")
    p.add_argument("--budget", type=float, default=60.0,
                   help="seconds of timed requests per scenario before it stops early (at least 3 requests; "
                        "default 60)")
    p.add_argument("--statement-timeout", type=float, default=30.0,
                   help="abort any SQL statement after this many seconds; the scenario is reported as not "
                        "answering (default 30)")
    p.add_argument("--only", help="comma-separated scenario keys to run (default: all)")
    p.add_argument("--reuse", action="store_true",
                   help="keep an existing benchmark database that already holds --tickets tickets "
                        "(skips building and seeding)")
    p.add_argument("--keep", action="store_true", help="keep the database afterwards (default: drop it)")
    p.add_argument("--json", help="where to write the results (default bench/results/<db>-<n>.json)")
    p.add_argument("--profile", metavar="DIR",
                   help="also profile 10 requests of each scenario with pyinstrument; text reports go to DIR")
    p.add_argument("--merge", action="store_true",
                   help="update the scenarios run now in an existing results file and keep the others "
                        "(each result records when and at which commit it was measured)")
    p.add_argument("--note", default="", help="free text stored with the results (e.g. machine load)")
    p.add_argument("--settings", default="bench.settings", help="Django settings module (default %(default)s)")
    return p.parse_args(argv)


def _pg_admin_url(base: str) -> tuple[str, str]:
    """(URL of the maintenance database, URL prefix to which a database name is appended)."""
    head, _, _ = base.rpartition("/")
    return base, head + "/"


def prepare_database(args: argparse.Namespace) -> tuple[str, Any]:
    """Create the benchmark's database; returns (DATABASE_URL, cleanup callable)."""
    if args.db == "postgres":
        import psycopg

        admin_url, prefix = _pg_admin_url(args.pg_url)
        name = f"hd_bench_{args.tickets}"
        url = prefix + name
        with psycopg.connect(admin_url, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if exists and not args.reuse:
                conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
                exists = None
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')

        def cleanup() -> None:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        return url, cleanup
    if args.sqlite_path:
        path = Path(args.sqlite_path).resolve()
        if path.exists() and not args.reuse:
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        tmpdir = None
    else:
        tmpdir = tempfile.mkdtemp(prefix="hd_bench_")
        path = Path(tmpdir) / f"hd_bench_{args.tickets}.sqlite3"

    def cleanup() -> None:
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)

    return f"sqlite:///{path}", cleanup


def cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            parts = [int(x) for x in f.readline().split()[1:]]
    except OSError:
        return 0, 0
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0)
    return sum(parts) - idle, sum(parts)


def git_commit() -> str:
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except Exception:
        return "unknown"


def print_table(results: list[dict], meta: dict) -> None:
    print()
    print(f"helpdesk benchmark: {meta['db']} ({meta['db_version']}), {meta['tickets']:,} tickets, "
          f"{meta['seed']['replies']:,} replies; in-process Django test client; commit {meta['commit']}")
    head = f"{'scenario':<44}{'p50 ms':>9}{'p95 ms':>9}{'queries':>8}{'SQL p50':>9}{'API/SQL':>8}{'goal':>7}  n"
    print(head)
    print("-" * len(head))
    for r in results:
        if r["status"] != "ok":
            print(f"{r['label']:<44}  {r['status']}: {r['note'][:110]}")
            continue
        goal = ""
        if r["goal_ms"] is not None:
            goal = f"{'ok' if r['goal_met'] else 'MISS'} {r['goal_ms']:g}"
        sql = f"{r['sql_p50_ms']:.2f}" if r["sql_p50_ms"] is not None else ""
        ratio = f"{r['ratio']:.1f}" if r["ratio"] is not None else ""
        print(f"{r['label']:<44}{r['p50_ms']:>9.2f}{r['p95_ms']:>9.2f}{r['queries']:>8}{sql:>9}{ratio:>8}"
              f"{goal:>10}  {r['n']}")
    print(f"machine: {meta['cpus']} CPUs, load average {meta['load_before']} before, {meta['load_after']} after; "
          f"whole-machine CPU busy during measurement {meta['cpu_busy_pct']}%")


def ensure_sla(info: Any, log: Any) -> None:
    """A reused database seeded before the SLA (no policy yet) gets the seed's policies and
    every ticket's due times from ``helpdesk_sla_refresh --include-closed``: itself a
    benchmark of the refresh over every ticket, timed into the seed's phases; then an
    open-tickets-only refresh (what a policy change costs; nothing left to change) is timed too."""
    from django.core.management import call_command
    from django.db import connection

    from helpdesk.models import SLAPolicy

    from . import seed

    if SLAPolicy.objects.exists():
        return
    log("== no SLA policy in the reused database: adding the seed's, then helpdesk_sla_refresh --include-closed")
    seed.create_sla_policies()
    for phase, extra in (("sla refresh, every ticket", ["--include-closed"]), ("sla refresh, open tickets", [])):
        started = time.perf_counter()
        call_command("helpdesk_sla_refresh", *extra)
        info.phases[phase] = round(time.perf_counter() - started, 1)
        log(f"   {phase}: {info.phases[phase]} s")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) helpdesk_ticket")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))
    url, cleanup = prepare_database(args)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = args.settings

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from helpdesk.models import Ticket

    from . import measure, seed

    def log(msg: str) -> None:
        print(msg, flush=True)

    try:
        log(f"== database {url} ({connection.vendor})")
        call_command("migrate", verbosity=0, interactive=False)
        existing = Ticket.objects.count() if args.reuse else 0
        if args.reuse and existing >= args.tickets:
            log(f"== reusing {existing:,} tickets")
            # The seeded count, not what earlier runs' write scenarios added to it.
            info = seed.SeedInfo(tickets=args.tickets)
            info = seed.describe(info)
            ensure_sla(info, log)
        else:
            if existing:
                raise SystemExit(f"--reuse: the database holds {existing} tickets, not {args.tickets}; "
                                 "drop it or run without --reuse")
            log(f"== seeding {args.tickets:,} tickets")
            info = seed.seed(args.tickets, log=log)
            log(f"== seeded in {info.seconds:.1f}s: {info.tickets:,} tickets, {info.replies:,} replies "
                f"({info.notes:,} notes), {info.status_changes:,} status changes, {info.clients:,} clients, "
                f"{info.contacts:,} contacts")
            info = seed.describe(info)

        measure.install_statement_timeout(args.statement_timeout)
        harness = measure.Harness(info, repeat=args.repeat, warmup=args.warmup, write_repeat=args.write_repeat,
                                  upsert_repeat=args.upsert_repeat, upsert_size=args.upsert_size,
                                  profile_dir=args.profile, budget=args.budget, log=log)
        scenarios = harness.scenarios()
        if args.only:
            wanted = {k.strip() for k in args.only.split(",")}
            scenarios = [s for s in scenarios if s.key in wanted]
        load_before = [round(x, 2) for x in os.getloadavg()]
        busy0, total0 = cpu_times()
        t_start = time.time()
        results = []
        commit = git_commit()
        for sc in scenarios:
            log(f"== {sc.label}")
            r = measure.to_dict(harness.run(sc))
            if r["status"] == "ok":
                log(f"   p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, {r['queries']} queries"
                    + (f", SQL p50 {r['sql_p50_ms']} ms, ratio {r['ratio']}" if r["ratio"] is not None else ""))
            else:
                log(f"   {r['status']}: {r['note']}")
            r["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            r["commit"] = commit
            r["load_average"] = round(os.getloadavg()[0], 2)
            results.append(r)
        busy1, total1 = cpu_times()
        with connection.cursor() as cur:
            cur.execute("SELECT version()" if connection.vendor == "postgresql" else "SELECT sqlite_version()")
            db_version = cur.fetchone()[0].split(" on ")[0]
        meta = {
            "db": args.db,
            "db_version": db_version,
            "tickets": info.tickets,
            "seed": {k: v for k, v in info.__dict__.items()
                     if k in ("tickets", "replies", "notes", "status_changes", "clients", "contacts", "agents",
                              "seconds", "phases")},
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t_start)),
            "measure_seconds": round(time.time() - t_start, 1),
            "repeat": args.repeat, "write_repeat": args.write_repeat, "upsert_repeat": args.upsert_repeat,
            "warmup": args.warmup,
            "method": "in-process: django.test.Client through the WSGI handler, all middleware, the real "
                      "URLconf; API requests authenticated by an 'Authorization: Bearer' API key, admin "
                      "pages by a logged-in superuser's session",
            "cpus": os.cpu_count(),
            "load_before": load_before,
            "load_after": [round(x, 2) for x in os.getloadavg()],
            "cpu_busy_pct": round(100 * (busy1 - busy0) / (total1 - total0), 1) if total1 > total0 else None,
            "python": platform.python_version(),
            "django": django.get_version(),
            "commit": git_commit(),
            "note": args.note,
        }
        out = Path(args.json) if args.json else ROOT / "bench" / "results" / f"{args.db}-{args.tickets}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        if args.merge and out.exists():
            old = json.loads(out.read_text())
            fresh = {r["key"]: r for r in results}
            order = [s.key for s in harness.scenarios()]
            kept = {r["key"]: r for r in old["results"] if r["key"] not in fresh}
            merged = {**kept, **fresh}
            results = [merged[k] for k in order if k in merged]
            meta["merged_runs"] = old["meta"].get("merged_runs", [old["meta"]["measured_at"]]) + [meta["measured_at"]]
            meta["seed"] = old["meta"]["seed"] if not meta["seed"].get("seconds") else meta["seed"]
        print_table(results, meta)
        tmp = out.with_suffix(".json.tmp")
        tmp.write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
        tmp.replace(out)
        log(f"== results written to {out}")
    finally:
        if not args.keep:
            cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
