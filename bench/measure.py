"""Time requests through the whole Django stack, in-process, and the bare SQL behind them.

Every request goes through ``django.test.Client``: the real WSGI handler, the site's
middleware and URLconf, DRF's authentication (a real ``Authorization: Bearer`` API key),
permissions and throttling, the serializers and the JSON renderer; admin pages are
rendered for a logged-in superuser. Only the network is left out, and the test client
keeps one database connection open, as a deployment with persistent connections does.

An endpoint that the site does not route (yet) is reported as "not available", never
timed against something else.
"""

from __future__ import annotations

import gc
import json
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import OperationalError, connection, transaction
from django.db.backends.signals import connection_created
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve

from helpdesk import models as hd

from . import seed as seedmod

# p50 goals in ms on the 2-core box, PostgreSQL, 1M tickets (issue 6).
GOALS_MS = {
    "list": 20, "search_one": 60, "search_two": 60, "search_none": 60, "detail": 10,
    "create": 15, "reply": 15, "upsert_new": 2000, "upsert_existing": 2000,
    "admin_list": 150, "admin_page": 100,
    # The SLA lists are lists (issue 15: "benchmarks keep the list's speed at 1M tickets").
    "list_sla_breached": 20, "list_sla_soon": 20, "admin_breaching": 150, "admin_sla_soon": 150,
}
# API time / bare SQL time goals.
RATIO_GOALS = {"list": 3.0, "detail": 3.0}

API_PREFIX = "/api"
MIN_SAMPLES = 3


class RequestFailed(Exception):
    """A request raised instead of answering (e.g. it hit the statement timeout)."""


def install_statement_timeout(seconds: float) -> None:
    """Abort any single SQL statement after ``seconds``, on every connection Django opens.

    A search that scans millions of rows can run for minutes; like a production server
    behind a proxy timeout, the benchmark gives up on it and reports it.
    """
    ms = int(seconds * 1000)
    deadline = [0.0]  # SQLite: when the running statement must stop; 0 = no statement running

    def on_connect(sender: Any, connection: Any, **kwargs: Any) -> None:
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute(f"SET statement_timeout = {ms}")
        elif connection.vendor == "sqlite":
            # Called every 10k virtual-machine steps; a true return interrupts the statement.
            connection.connection.set_progress_handler(
                lambda: bool(deadline[0]) and time.perf_counter() > deadline[0], 10000
            )

    def timed_execute(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        deadline[0] = time.perf_counter() + seconds
        try:
            return execute(sql, params, many, context)
        finally:
            deadline[0] = 0.0

    connection_created.connect(on_connect, weak=False)
    if connection.vendor == "sqlite":
        connection.execute_wrappers.append(timed_execute)
    if connection.connection is not None:
        on_connect(None, connection)


@dataclass
class Result:
    key: str
    label: str
    method: str
    path: str
    status: str = "ok"  # ok | not available | error
    note: str = ""
    n: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    mean_ms: float | None = None
    min_ms: float | None = None
    max_ms: float | None = None
    queries: int | None = None
    queries_detail: list[str] = field(default_factory=list)
    sql_p50_ms: float | None = None
    sql_p95_ms: float | None = None
    ratio: float | None = None
    goal_ms: float | None = None
    goal_met: bool | None = None
    ratio_goal: float | None = None
    # Per statement of the replayed SQL: p50 ms and the start of the statement.
    sql_breakdown: list[dict[str, Any]] = field(default_factory=list)
    # The query plan of the slowest replayed statement (EXPLAIN ANALYZE on PostgreSQL).
    slowest_plan: str = ""
    profile: str = ""


@dataclass
class Request:
    method: str
    path: str
    body: Any = None  # JSON-encoded when not None


@dataclass
class Scenario:
    key: str
    label: str
    make: Callable[[int], Request]
    expect: tuple[int, ...] = (200,)
    client: str = "agent"  # agent | contact | admin
    repeat: int | None = None
    warmup: int | None = None
    replay_sql: bool = False


def _pct(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


class Harness:
    """Builds the clients and scenarios, runs them, and collects ``Result`` rows."""

    def __init__(self, info: seedmod.SeedInfo, *, repeat: int, warmup: int, write_repeat: int,
                 upsert_repeat: int, upsert_size: int = 5000, profile_dir: str | None = None,
                 budget: float = 60.0,
                 log: Callable[[str], None] = print) -> None:
        self.info = info
        self.repeat = repeat
        self.warmup = warmup
        self.write_repeat = write_repeat
        self.upsert_repeat = upsert_repeat
        self.upsert_size = upsert_size
        self.profile_dir = profile_dir
        # Seconds of timed requests per scenario: a slow one (a search over millions of
        # rows) stops early, after at least MIN_SAMPLES requests, and says so in ``n``.
        self.budget = budget
        self.log = log
        self.rng = random.Random(7)
        self.max_ticket_id = hd.Ticket.objects.order_by("-id").values_list("id", flat=True).first() or 1
        self._setup_users()

    # ------------------------------------------------------------------ set-up

    def _setup_users(self) -> None:
        User = get_user_model()
        admin = User.objects.filter(username="bench-admin").first()
        if admin is None:
            admin = User.objects.create_superuser("bench-admin", "bench-admin@helpdesk.example", None)
        _, agent_key = hd.APIKey.objects.create_key(user=admin, name="benchmark")
        self.clients = {
            "agent": Client(HTTP_AUTHORIZATION=f"Bearer {agent_key}"),
            "admin": Client(),
        }
        self.clients["admin"].force_login(admin)
        contact = hd.Contact.objects.select_related("user").order_by("id").first()
        if contact is not None:
            _, contact_key = hd.APIKey.objects.create_key(user=contact.user, name="benchmark")
            self.clients["contact"] = Client(HTTP_AUTHORIZATION=f"Bearer {contact_key}")
        self.admin = admin

    def random_ticket(self) -> int:
        return self.rng.randint(1, self.max_ticket_id)

    # ------------------------------------------------------------------ scenarios

    def scenarios(self) -> list[Scenario]:
        api = API_PREFIX
        dept = self.info.department_ids[0] if self.info.department_ids else 1
        rng = self.rng
        run = int(time.time())
        statuses = [hd.TicketStatus.ANSWERED, hd.TicketStatus.ON_HOLD, hd.TicketStatus.OPEN]
        s: list[Scenario] = [
            Scenario("list", "API list (default)", lambda i: Request("GET", f"{api}/tickets"), replay_sql=True),
            Scenario("list_limit100", "API list, limit=100",
                     lambda i: Request("GET", f"{api}/tickets?limit=100"), replay_sql=True),
            Scenario("list_filtered", "API list, status+department",
                     lambda i: Request("GET", f"{api}/tickets?status=1&category_id={dept}"), replay_sql=True),
            Scenario("list_sorted", "API list, sort=priority",
                     lambda i: Request("GET", f"{api}/tickets?sort=ticket_priority"), replay_sql=True),
            Scenario("list_contact", "API list as a client contact",
                     lambda i: Request("GET", f"{api}/tickets"), client="contact", replay_sql=True),
            Scenario("search_one", f"API search, one word ({seedmod.SEARCH_ONE_WORD})",
                     lambda i: Request("GET", f"{api}/tickets?search={seedmod.SEARCH_ONE_WORD}"), replay_sql=True),
            Scenario("search_two", f"API search, two words ({seedmod.SEARCH_TWO_WORDS})",
                     lambda i: Request("GET", f"{api}/tickets?search={seedmod.SEARCH_TWO_WORDS.replace(' ', '+')}"),
                     replay_sql=True),
            Scenario("search_common", f"API search, common word ({seedmod.SEARCH_COMMON_WORD})",
                     lambda i: Request("GET", f"{api}/tickets?search={seedmod.SEARCH_COMMON_WORD}"), replay_sql=True),
            Scenario("search_none", "API search, no hit",
                     lambda i: Request("GET", f"{api}/tickets?search={seedmod.NO_HIT_WORD}"), replay_sql=True),
            Scenario("detail", "API detail", lambda i: Request("GET", f"{api}/tickets/{self.random_ticket()}"),
                     replay_sql=True),
            Scenario("create", "API create", lambda i: Request("POST", f"{api}/tickets", {
                "ticket_clientid": self.info.client_ids[i % len(self.info.client_ids)] if self.info.client_ids else 1,
                "ticket_categoryid": dept,
                "ticket_subject": f"Benchmark ticket {run}-{i}: cannot export the invoice PDF",
                "ticket_message": "The export finishes but the file is empty. Could you have a look?",
                "ticket_priority": "high",
                "tags": ["billing", "export"],
            }), expect=(201,)),
            Scenario("reply", "API reply", lambda i: Request("POST", f"{api}/tickets/{self.random_ticket()}/replies", {
                "ticketreply_text": f"Thank you, we are looking into it ({run}-{i}).",
                "ticketreply_type": "reply",
            }), expect=(201,)),
            Scenario("status", "API status change",
                     lambda i: Request("PUT", f"{api}/tickets/{self.random_ticket()}/status",
                                       {"status": statuses[i % len(statuses)]})),
            Scenario("tags", "API tags replace",
                     lambda i: Request("PUT", f"{api}/tickets/{self.random_ticket()}/tags",
                                       {"tags": ["billing", "vip", rng.choice(seedmod.TAGS)]})),
            Scenario("upsert_new", f"API upsert, {self.upsert_size} new items",
                     lambda i: Request("PUT", f"{api}/tickets", self.upsert_payload(f"{run}-{i}", size=self.upsert_size)),
                     expect=(200,), repeat=self.upsert_repeat, warmup=1),
            Scenario("upsert_existing", f"API upsert, {self.upsert_size} existing items",
                     lambda i: Request("PUT", f"{api}/tickets", self.upsert_payload(f"{run}-{i}", again=True, size=self.upsert_size)),
                     expect=(200,), repeat=self.upsert_repeat, warmup=1),
            Scenario("upsert_service_new", f"sync service, {self.upsert_size} new items", lambda i: Request("CALL", "-")),
            Scenario("upsert_service_existing", f"sync service, {self.upsert_size} existing items",
                     lambda i: Request("CALL", "-")),
            Scenario("admin_list", "admin ticket list", lambda i: Request("GET", "/admin/helpdesk/ticket/"),
                     client="admin"),
            Scenario("admin_page", "admin ticket page",
                     lambda i: Request("GET", f"/admin/helpdesk/ticket/{self.random_ticket()}/change/"),
                     client="admin"),
            Scenario("admin_overview", "admin overview", lambda i: Request("GET", self.overview_path() or "-"),
                     client="admin"),
            # SLA: the "Breaching SLA" queue and the due-soon filter, in the API and the admin,
            # and the overview's figures (SLA compliance among them) computed afresh.
            Scenario("list_sla_breached", "API list, sla=breached",
                     lambda i: Request("GET", f"{api}/tickets?sla=breached"), replay_sql=True),
            Scenario("list_sla_soon", "API list, sla=soon (due within 2 h)",
                     lambda i: Request("GET", f"{api}/tickets?sla=soon"), replay_sql=True),
            Scenario("admin_breaching", "admin list, Breaching SLA view",
                     lambda i: Request("GET", "/admin/helpdesk/ticket/?view=breaching"), client="admin",
                     replay_sql=True),
            Scenario("admin_sla_soon", "admin list, SLA due within 2 h",
                     lambda i: Request("GET", "/admin/helpdesk/ticket/?sla=soon"), client="admin", replay_sql=True),
            Scenario("admin_overview_fresh", "admin overview, uncached (SLA compliance)",
                     lambda i: Request("GET", (self.overview_path() or "-") + "?refresh=1"), client="admin",
                     replay_sql=True),
        ]
        return s

    def overview_path(self) -> str | None:
        """The admin overview's URL, whatever the admin names it (None until it exists)."""
        from django.urls import NoReverseMatch, reverse

        for name in ("admin:helpdesk_overview", "admin:helpdesk-overview", "helpdesk_admin:overview",
                     "admin:helpdesk_ticket_overview", "admin:helpdesk_ticketoverview_changelist", "admin:overview"):
            try:
                return reverse(name)
            except NoReverseMatch:
                continue
        for path in ("/admin/helpdesk/overview/", "/admin/helpdesk/ticket/overview/", "/admin/overview/"):
            try:
                resolve(path)
                return path
            except Resolver404:
                continue
        return None

    def upsert_payload(self, batch: str, *, again: bool = False, size: int = 5000) -> list[dict]:
        """5000 Planhat-dialect items; ``again`` re-sends batch ``batch`` of a previous new-items run
        (same keys, changed fields), so every item updates."""
        emails = self.info.contact_emails or ["someone@client1.example"]
        clients = self.info.client_ids or [1]
        items = []
        for k in range(size):
            created = f"2025-0{1 + k % 9}-1{k % 10}T0{k % 10}:15:00Z"
            email = emails[k % len(emails)] if k % 5 else f"new.person{batch}-{k}@client{clients[k % len(clients)]}.example"
            items.append({
                "sourceId": f"bench-{batch}-{k}",
                "source": "benchsync",
                "email": email,
                "name": f"Person {k}",
                "companyId": clients[k % len(clients)],
                "title": f"{'Updated: ' if again else ''}Synced ticket {k}: {seedmod.PROBLEMS[k % 16]} the dashboard",
                "description": "Imported from the other helpdesk. " + seedmod.SENTENCES[k % 20],
                "tags": ["sync", seedmod.TAGS[k % 40]],
                "type": "question",
                "priority": ["normal", "high", "urgent"][k % 3],
                "status": "Closed" if again and k % 2 else "Open",
                "history": [{"status": "Open", "time": created}],
                "createdAt": created,
                "updatedAt": created,
            })
        return items

    # ------------------------------------------------------------------ running

    def _send(self, scenario: Scenario, req: Request) -> Any:
        client = self.clients.get(scenario.client)
        try:
            if req.body is None:
                return client.generic(req.method, req.path)
            return client.generic(req.method, req.path, req.body, content_type="application/json")
        except OperationalError as exc:
            # The statement timeout (see ``install_statement_timeout``) or a real failure:
            # either way the request did not answer, which the run reports.
            if connection.vendor == "postgresql" and not connection.in_atomic_block:
                connection.close()
            raise RequestFailed(f"{req.method} {req.path}: {' '.join(str(exc).split())[:200]}") from exc

    def _make(self, scenario: Scenario, i: int) -> Request:
        """The i-th request, its body already JSON-encoded: building it is not what we time."""
        req = scenario.make(i)
        if req.body is not None:
            req.body = json.dumps(req.body)
        return req

    def _availability(self, scenario: Scenario, req: Request) -> str | None:
        """None if the site routes the request, else why not."""
        if scenario.client not in self.clients:
            return "no client contact in the data"
        path = req.path.split("?")[0]
        if path == "-":
            return "no such page on this site"
        try:
            resolve(path)
        except Resolver404:
            return "no route for " + path
        return None

    def run_upsert_service(self, scenario: Scenario) -> Result:
        """The sync engineer's ``bench.upsert.measure``: ``ticket_bulk_upsert`` called directly,
        without HTTP, on this (big) database. One call times a new batch, then the same batch
        as updates; both scenarios come from the same calls."""
        res = Result(scenario.key, scenario.label, "CALL", "helpdesk.sync.ticket_bulk_upsert")
        res.goal_ms = GOALS_MS.get(scenario.key.replace("service_", ""))
        try:
            from . import upsert
        except ImportError:
            res.status, res.note = "not available", "bench/upsert.py (the sync's benchmark) is not on this branch"
            return res
        cached = getattr(self, "_service_runs", None)
        if cached is None:
            runs = []
            try:
                upsert.measure(self.upsert_size, seed=f"warm{int(time.time())}")
                for k in range(self.upsert_repeat):
                    seed = f"svc{int(time.time())}-{k}"
                    if k == self.upsert_repeat - 1:
                        with CaptureQueriesContext(connection) as ctx:
                            runs.append(upsert.measure(self.upsert_size, seed=seed))
                        self._service_queries = len(ctx.captured_queries)
                    else:
                        runs.append(upsert.measure(self.upsert_size, seed=seed))
            except (Exception, SystemExit) as exc:
                res.status, res.note = "error", f"bench.upsert.measure failed: {exc!r}"[:300]
                return res
            cached = self._service_runs = runs
        phase = "create" if scenario.key.endswith("_new") else "update"
        times = [r[phase] for r in cached]
        res.n = len(times)
        res.p50_ms, res.p95_ms = _ms(_pct(times, 50)), _ms(_pct(times, 95))
        res.mean_ms, res.min_ms, res.max_ms = _ms(statistics.fmean(times)), _ms(min(times)), _ms(max(times))
        res.queries = getattr(self, "_service_queries", None)
        res.note = "queries: the last create and update together" if res.queries is not None else ""
        if res.goal_ms is not None:
            res.goal_met = res.p50_ms <= res.goal_ms
        return res

    def run(self, scenario: Scenario) -> Result:
        if scenario.key.startswith("upsert_service"):
            return self.run_upsert_service(scenario)
        try:
            return self._run(scenario)
        except RequestFailed as exc:
            first = scenario.make(0)
            res = Result(scenario.key, scenario.label, first.method, first.path)
            res.goal_ms = GOALS_MS.get(scenario.key)
            res.status, res.note = "error", f"did not answer: {exc}"
            if res.goal_ms is not None:
                res.goal_met = False
            return res

    def _run(self, scenario: Scenario) -> Result:
        first = scenario.make(0)
        res = Result(scenario.key, scenario.label, first.method, first.path.split("?")[0] + (
            "?" + first.path.split("?")[1] if "?" in first.path else ""))
        res.goal_ms = GOALS_MS.get(scenario.key)
        res.ratio_goal = RATIO_GOALS.get(scenario.key)
        why = self._availability(scenario, first)
        if why:
            res.status, res.note = "not available", why
            return res
        warmup = scenario.warmup if scenario.warmup is not None else self.warmup
        repeat = scenario.repeat if scenario.repeat is not None else (
            self.write_repeat if first.method != "GET" else self.repeat)
        i = 0
        # Warm-up, and the check that the endpoint really answers what it should
        # (a slow scenario warms up for a quarter of its time budget at most).
        warm_deadline = time.perf_counter() + self.budget / 4
        for k in range(max(1, warmup)):
            if k and time.perf_counter() > warm_deadline:
                break
            req = self._make(scenario, i)
            i += 1
            response = self._send(scenario, req)
            if response.status_code not in scenario.expect:
                # Every ticket the scenarios address exists, so a 404 (or 405) means the
                # site has no such endpoint (yet): DRF routers and the admin's catch-all
                # answer unknown paths with 404.
                if response.status_code in (404, 405, 501):
                    res.status = "not available"
                else:
                    res.status = "error"
                res.note = f"HTTP {response.status_code} for {req.method} {req.path}: {_body(response)}"
                return res
        times: list[float] = []
        gc.collect()
        deadline = time.perf_counter() + self.budget
        for k in range(repeat):
            if k >= MIN_SAMPLES and time.perf_counter() > deadline:
                res.note = f"stopped after {k} of {repeat} requests (time budget {self.budget:g} s)"
                break
            req = self._make(scenario, i)
            i += 1
            t0 = time.perf_counter()
            response = self._send(scenario, req)
            times.append(time.perf_counter() - t0)
            if response.status_code not in scenario.expect:
                res.status = "error"
                res.note = f"HTTP {response.status_code} for {req.method} {req.path}: {_body(response)}"
                return res
        res.n = len(times)
        res.p50_ms, res.p95_ms = _ms(_pct(times, 50)), _ms(_pct(times, 95))
        res.mean_ms, res.min_ms, res.max_ms = _ms(statistics.fmean(times)), _ms(min(times)), _ms(max(times))
        if res.goal_ms is not None:
            res.goal_met = res.p50_ms <= res.goal_ms

        # One more request with the queries captured (capturing slows queries a little,
        # so it is never one of the timed requests).
        req = self._make(scenario, i)
        with CaptureQueriesContext(connection) as ctx:
            response = self._send(scenario, req)
        res.queries = len(ctx.captured_queries)
        res.queries_detail = [q["sql"][:300] for q in ctx.captured_queries]
        if scenario.replay_sql and response.status_code in scenario.expect:
            statements = [q["sql"] for q in ctx.captured_queries]
            try:
                sql_times, per_statement = self._replay(statements, repeat)
            except Exception as exc:  # e.g. the statement timeout: the request passed, the replay did not
                res.note = f"SQL replay failed: {' '.join(str(exc).split())[:200]}"
                return res
            res.sql_p50_ms, res.sql_p95_ms = _ms(_pct(sql_times, 50)), _ms(_pct(sql_times, 95))
            if res.sql_p50_ms:
                res.ratio = round(res.p50_ms / res.sql_p50_ms, 2)
            res.sql_breakdown = [
                {"p50_ms": _ms(_pct(t, 50)), "sql": sql[:160]} for sql, t in zip(statements, per_statement)
            ]
            slowest = max(range(len(statements)), key=lambda k: statistics.median(per_statement[k]))
            res.slowest_plan = self._explain(statements[slowest])
        if self.profile_dir:
            res.profile = self._profile(scenario, i + 1)
        return res

    def _explain(self, sql: str) -> str:
        if not sql.lstrip().upper().startswith("SELECT"):
            return ""
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
        try:
            cur = connection.connection.cursor()
            try:
                cur.execute(prefix + sql)
                return "\n".join(" | ".join(str(c) for c in row) for row in cur.fetchall())
            finally:
                cur.close()
        except Exception as exc:  # a plan is a diagnostic, never a reason to fail the run
            return f"(no plan: {exc})"

    def _profile(self, scenario: Scenario, i: int, count: int = 10) -> str:
        """Profile ``count`` requests with pyinstrument; returns the text report's path."""
        from pathlib import Path

        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        reqs = [self._make(scenario, i + k) for k in range(count)]
        profiler.start()
        for req in reqs:
            self._send(scenario, req)
        profiler.stop()
        out = Path(self.profile_dir) / f"{connection.vendor}-{self.max_ticket_id}-{scenario.key}.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
        return str(out)

    def _replay(self, statements: list[str], repeat: int) -> tuple[list[float], list[list[float]]]:
        """Run exactly the statements a request ran, on the raw DB-API connection, and time them
        (the whole set, and each statement)."""
        connection.ensure_connection()
        raw = connection.connection
        needs_tx = any(s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")) for s in statements)

        per_statement: list[list[float]] = [[] for _ in statements]
        perf = time.perf_counter

        def once() -> None:
            cur = raw.cursor()
            try:
                for k, sql in enumerate(statements):
                    t0 = perf()
                    cur.execute(sql)
                    if cur.description is not None:
                        cur.fetchall()
                    per_statement[k].append(perf() - t0)
            finally:
                cur.close()

        def run() -> None:
            if needs_tx:
                with transaction.atomic():
                    once()
            else:
                once()

        warm_deadline = time.perf_counter() + self.budget / 4
        for k in range(max(1, self.warmup)):
            if k and time.perf_counter() > warm_deadline:
                break
            run()
        for timings in per_statement:
            timings.clear()
        times: list[float] = []
        deadline = time.perf_counter() + self.budget
        for k in range(repeat):
            if k >= MIN_SAMPLES and time.perf_counter() > deadline:
                break
            t0 = time.perf_counter()
            run()
            times.append(time.perf_counter() - t0)
        return times, per_statement


def _body(response: Any) -> str:
    if "json" not in response.get("Content-Type", ""):
        return f"({response.get('Content-Type', 'no content type')})"
    try:
        text = response.content.decode("utf-8", "replace")
    except Exception:  # streaming responses
        return "(streaming)"
    return " ".join(text.split())[:300]


def to_dict(result: Result) -> dict[str, Any]:
    return asdict(result)
