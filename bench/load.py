"""``python -m bench.load``: the API under load behind a real WSGI server.

Builds (or reuses) the benchmark's database like ``python -m bench``, starts gunicorn
(workers = CPU cores, gthread), and drives it with wrk for a fixed time per concurrency
level, with the mix of the issue: list 40%, detail 20%, search 10%, replies list 10%,
reply 10%, create 5%, status change 5%. Reports requests/s, p50/p95/p99, errors (any
non-2xx answer or socket error; must be 0) and CPU per request (the app server's
processes, and the whole machine's, which includes PostgreSQL and wrk itself).

    python -m bench.load --tickets 100000 --db postgres --users 8,32,128 --duration 30
    python -m bench.load --smoke          # CI: 300 tickets, SQLite, 8 users, 5 s

See bench/README.md ("Load").
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

MIX = {"list": 40, "detail": 20, "search": 10, "replies": 10, "reply": 10, "create": 5, "status": 5}

# wrk's Lua: picks each request from the mix, counts answers per kind and status class in
# every thread, and prints one JSON line from done() (latencies are in microseconds).
LUA = r"""
local cfg = %(config)s
local kinds, cumulative, total = {}, {}, 0
for _, pair in ipairs(cfg.mix) do total = total + pair[2]; table.insert(kinds, pair[1]); table.insert(cumulative, total) end
local threads = {}
function setup(thread) table.insert(threads, thread) end
-- globals (not locals): done() reads them from each thread with thread:get()
counts, errors = {}, {}
local current
function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000) + #threads * 7919)
  counts, errors = {}, {}
  for _, k in ipairs(kinds) do counts[k] = 0; errors[k] = 0 end
end
local auth = {["Authorization"] = "Bearer " .. cfg.key, ["Accept"] = "application/json"}
local json_auth = {["Authorization"] = "Bearer " .. cfg.key, ["Accept"] = "application/json",
                   ["Content-Type"] = "application/json"}
local n = 0
local function ticket() return math.random(cfg.min_id, cfg.max_id) end
function request()
  local r = math.random() * total
  local kind = kinds[#kinds]
  for i, c in ipairs(cumulative) do if r < c then kind = kinds[i]; break end end
  current = kind
  n = n + 1
  local p = cfg.prefix
  if kind == "list" then return wrk.format("GET", p .. "/tickets", auth)
  elseif kind == "detail" then return wrk.format("GET", p .. "/tickets/" .. ticket(), auth)
  elseif kind == "search" then return wrk.format("GET", p .. "/tickets?search=" .. cfg.word, auth)
  elseif kind == "replies" then return wrk.format("GET", p .. "/tickets/" .. ticket() .. "/replies", auth)
  elseif kind == "reply" then
    return wrk.format("POST", p .. "/tickets/" .. ticket() .. "/replies", json_auth,
      '{"ticketreply_text": "Thanks, we are on it (' .. n .. ')", "ticketreply_type": "reply"}')
  elseif kind == "create" then
    return wrk.format("POST", p .. "/tickets", json_auth,
      '{"ticket_clientid": ' .. cfg.clients[math.random(#cfg.clients)] .. ', "ticket_categoryid": ' .. cfg.department ..
      ', "ticket_subject": "Load test ' .. n .. ': the export is empty", "ticket_message": "Could you look?",' ..
      ' "ticket_priority": "high", "tags": ["billing", "export"]}')
  else
    return wrk.format("PUT", p .. "/tickets/" .. ticket() .. "/status", json_auth,
      '{"status": ' .. cfg.statuses[math.random(#cfg.statuses)] .. '}')
  end
end
function response(status, headers, body)
  counts[current] = counts[current] + 1
  if status < 200 or status > 299 then errors[current] = errors[current] + 1 end
end
function done(summary, latency, requests)
  local c, e = {}, {}
  for _, k in ipairs(kinds) do c[k] = 0; e[k] = 0 end
  for _, t in ipairs(threads) do
    local tc, te = t:get("counts"), t:get("errors")
    for _, k in ipairs(kinds) do c[k] = c[k] + tc[k]; e[k] = e[k] + te[k] end
  end
  local parts = {}
  for _, k in ipairs(kinds) do table.insert(parts, string.format('"%%s": [%%d, %%d]', k, c[k], e[k])) end
  io.write(string.format('WRKJSON {"requests": %%d, "duration_us": %%d, "socket_errors": %%d, "non2xx": %%d, ' ..
    '"p50_us": %%d, "p95_us": %%d, "p99_us": %%d, "max_us": %%d, "mean_us": %%.1f, "kinds": {%%s}}\n',
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    latency.mean, table.concat(parts, ", ")))
end
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    p.add_argument("--tickets", type=int, default=100000)
    p.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    p.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    p.add_argument("--sqlite-path")
    p.add_argument("--reuse", action="store_true", help="keep an existing benchmark database with --tickets tickets")
    p.add_argument("--keep", action="store_true", help="keep the database afterwards")
    p.add_argument("--users", default="8,32,128", help="concurrent connections, comma-separated")
    p.add_argument("--duration", type=float, default=30.0, help="seconds per concurrency level")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gunicorn workers (default: cores)")
    p.add_argument("--threads", type=int, default=1,
                   help="threads per gunicorn worker (default 1: on a CPU-bound load more only contend for the GIL)")
    p.add_argument("--wrk-threads", type=int, default=2)
    p.add_argument("--json", help="results file (default bench/results/load-<db>-<n>.json)")
    p.add_argument("--smoke", action="store_true", help="CI: 300 tickets on SQLite, 8 users, 5 s")
    p.add_argument("--note", default="")
    args = p.parse_args(argv)
    if args.smoke:
        args.tickets, args.db, args.users, args.duration = min(args.tickets, 300), "sqlite", "8", 5.0
    args.repeat = args.write_repeat = args.upsert_repeat = 0
    return args


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) used so far by these processes."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rpartition(")")[2].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / tick


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def machine_cpu() -> float:
    """Busy CPU seconds of the whole machine so far."""
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0)
    return (sum(parts) - idle) / os.sysconf("SC_CLK_TCK")


def prepare(args: argparse.Namespace) -> tuple[str, Any, dict[str, Any]]:
    """Build or reuse the database; returns (DATABASE_URL, cleanup, what the Lua needs)."""
    from bench.__main__ import prepare_database

    url, cleanup = prepare_database(args)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from bench import seed
    from helpdesk import models as hd

    call_command("migrate", verbosity=0, interactive=False)
    if not (args.reuse and hd.Ticket.objects.count() >= args.tickets):
        if hd.Ticket.objects.exists():
            raise SystemExit("--reuse: the database holds another number of tickets; drop it or leave out --reuse")
        print(f"== seeding {args.tickets:,} tickets", flush=True)
        seed.seed(args.tickets, log=lambda m: print(m, flush=True))
    else:
        forget_earlier_runs(args.tickets)
    User = get_user_model()
    admin = User.objects.filter(username="bench-admin").first() or User.objects.create_superuser(
        "bench-admin", "bench-admin@helpdesk.example", None)
    _row, key = hd.APIKey.objects.create_key(user=admin, name="load")
    ids = hd.Ticket.objects.order_by("id").values_list("id", flat=True)
    config = {
        "key": key, "prefix": "/api", "word": seed.SEARCH_COMMON_WORD,
        "min_id": ids.first(), "max_id": min(ids.last(), ids.first() + args.tickets - 1),
        "clients": list(hd.Client.objects.order_by("id").values_list("id", flat=True)[:200]),
        "department": hd.Department.objects.order_by("id").values_list("id", flat=True).first(),
        "statuses": [hd.TicketStatus.ANSWERED, hd.TicketStatus.ON_HOLD, hd.TicketStatus.OPEN],
        "mix": [[k, v] for k, v in MIX.items()],
    }
    from django.db import connections

    connections.close_all()
    return url, cleanup, config


def forget_earlier_runs(tickets: int) -> None:
    """``--reuse``: delete the tickets earlier runs created (5% of every mix), so that each
    run measures the seeded database. Left there, they pile up at the head of the list,
    and the search for the common word walked past thousands of them (none has the word)
    to fill its page: 24 ms instead of 1."""
    from django.db import connection

    from helpdesk import models as hd

    first = hd.Ticket.objects.order_by("id").values_list("id", flat=True).first()
    created = hd.Ticket.objects.filter(pk__gt=first + tickets - 1)
    if created.exists():
        deleted, _by_model = created.delete()
        print(f"== deleted {deleted:,} rows earlier load runs created", flush=True)
        if connection.vendor == "postgresql":
            # VACUUM cannot run in a transaction (a test's); ANALYZE alone can.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE helpdesk_ticket" if connection.in_atomic_block else
                               "VACUUM (ANALYZE) helpdesk_ticket")


def lua_table(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {lua_table(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "{" + ", ".join(lua_table(v) for v in value) + "}"
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)


def start_gunicorn(args: argparse.Namespace, url: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "bench.settings", "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "--worker-class", "gthread", "--threads", str(args.threads),
         "--backlog", "2048", "--timeout", "120", "--keep-alive", "5", "--log-level", "warning", "--reuse-port"],
        cwd=ROOT, env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn did not start")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.2)
    return process


def wait_until_answering(port: int, key: str, seconds: float = 120) -> None:
    """Until every worker has booted far enough to answer an API request (a busy machine
    can take a while to import Django in each)."""
    import urllib.request

    deadline = time.monotonic() + seconds
    answered = 0
    while time.monotonic() < deadline and answered < 4:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/statuses",
                                         headers={"Authorization": f"Bearer {key}"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                answered += response.status == 200
        except OSError:
            time.sleep(0.5)


def run_level(args: argparse.Namespace, port: int, script: str, users: int, pids: list[int]) -> dict[str, Any]:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    app0, machine0 = process_cpu(pids), machine_cpu()
    out = subprocess.run(
        [wrk, "-t", str(min(args.wrk_threads, users)), "-c", str(users), "-d", f"{args.duration:g}s",
         "--timeout", "10s", "-s", script, f"http://127.0.0.1:{port}/api/tickets"],
        capture_output=True, text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"wrk failed: {out.stderr or out.stdout}")
    out = out.stdout
    app_cpu, machine = process_cpu(pids) - app0, machine_cpu() - machine0
    line = next(line for line in out.splitlines() if line.startswith("WRKJSON "))
    data = json.loads(line[len("WRKJSON "):])
    requests = data["requests"]
    seconds = data["duration_us"] / 1e6
    errors = data["socket_errors"] + sum(e for _c, e in data["kinds"].values())
    return {
        "users": users, "seconds": round(seconds, 1), "requests": requests,
        "rps": round(requests / seconds, 1) if seconds else 0.0,
        "p50_ms": round(data["p50_us"] / 1000, 1), "p95_ms": round(data["p95_us"] / 1000, 1),
        "p99_ms": round(data["p99_us"] / 1000, 1), "max_ms": round(data["max_us"] / 1000, 1),
        "errors": errors, "socket_errors": data["socket_errors"],
        "app_cpu_ms_per_request": round(app_cpu * 1000 / requests, 2) if requests else None,
        "machine_cpu_ms_per_request": round(machine * 1000 / requests, 2) if requests else None,
        "kinds": {k: {"requests": c, "errors": e} for k, (c, e) in data["kinds"].items()},
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))
    url, cleanup, config = prepare(args)
    tmp = tempfile.mkdtemp(prefix="hd_load_")
    script = os.path.join(tmp, "mix.lua")
    with open(script, "w") as f:
        f.write(LUA % {"config": lua_table(config)})
    port = free_port()
    server = start_gunicorn(args, url, port)
    results: list[dict[str, Any]] = []
    load_before = [round(x, 2) for x in os.getloadavg()]
    try:
        wait_until_answering(port, config["key"])
        pids = [server.pid, *children(server.pid)]
        # Warm-up: every worker connects and fills its caches (not measured).
        subprocess.run([shutil.which("wrk") or "wrk", "-t", "1", "-c", str(args.workers * 2), "-d", "2s", "-s", script,
                        f"http://127.0.0.1:{port}/api/tickets"], capture_output=True, check=False)
        for users in [int(u) for u in str(args.users).split(",") if u.strip()]:
            print(f"== {users} users, {args.duration:g} s", flush=True)
            result = run_level(args, port, script, users, pids)
            results.append(result)
            print(f"   {result['rps']} req/s, p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, "
                  f"p99 {result['p99_ms']} ms, errors {result['errors']}, app CPU "
                  f"{result['app_cpu_ms_per_request']} ms/req, machine CPU {result['machine_cpu_ms_per_request']} "
                  f"ms/req", flush=True)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(tmp, ignore_errors=True)
        if not args.keep and not args.reuse:
            cleanup()
    meta = {
        "db": args.db, "tickets": args.tickets, "workers": args.workers, "threads": args.threads,
        "duration_s": args.duration, "cpus": os.cpu_count(), "load_before": load_before,
        "load_after": [round(x, 2) for x in os.getloadavg()], "mix": MIX, "note": args.note,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if not args.smoke or args.json:
        path = Path(args.json or ROOT / "bench" / "results" / f"load-{args.db}-{args.tickets}.json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
        print(f"== results: {path}")
    print(json.dumps({"meta": meta, "results": results}))
    return 1 if any(r["errors"] for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
