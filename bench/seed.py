"""Seed a migrated database with N tickets of realistic shape, fast.

Everything is generated in Python from a fixed random seed (the same N gives the same
data) and written with the database's bulk path: ``COPY ... FROM STDIN`` (psycopg 3's
``cursor.copy``) on PostgreSQL, ``executemany`` in one transaction on SQLite. Secondary
indexes of the big tables are dropped before the load and rebuilt after it (one sorted
build is far cheaper than millions of incremental inserts), foreign-key triggers are off
during the load on PostgreSQL (the generator only writes ids it has created), and the
denormalised ticket fields (counters, reply/response/close dates, status dates) are
computed from the very rows written, so they agree with what the services would produce.

The columns written are matched against the models at run time: a column added by a later
migration is filled from its field default, and a column without one stops the seed with
a clear message instead of loading wrong data.
"""

from __future__ import annotations

import datetime
import math
import random
import time
import types as pytypes
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.color import no_style
from django.db import connection, transaction

from helpdesk import models as hd
from helpdesk import refcache, sla

DAY = 86400
YEARS = 4
CHUNK = 5000  # tickets per COPY round

FIRST = ["Anna", "Ben", "Chloe", "David", "Emma", "Felix", "Grace", "Hugo", "Ines", "Jonas", "Kara", "Liam",
         "Mia", "Noah", "Olga", "Paul", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera", "Will", "Yara", "Zoe"]
LAST = ["Smith", "Meyer", "Garcia", "Rossi", "Dubois", "Novak", "Kowalski", "Jensen", "Silva", "Nagy", "Berg",
        "Costa", "Fischer", "Moreau", "Larsen", "Horvat", "Ivanova", "Okafor", "Tanaka", "Wright"]
ADJ = ["Blue", "Rapid", "North", "Silver", "Green", "Bright", "Prime", "Solid", "Urban", "Clear", "Golden", "Nova"]
NOUN = ["Widgets", "Logistics", "Foods", "Systems", "Media", "Health", "Energy", "Retail", "Labs", "Travel",
        "Finance", "Motors", "Textiles", "Robotics", "Pharma", "Studios"]
SUFFIX = ["Inc", "GmbH", "Ltd", "SA", "BV", "AB", "LLC", "Group"]
DEPARTMENTS = ["Support", "Billing", "Sales", "Technical", "Onboarding", "Returns", "Shipping", "Accounts",
               "Integrations", "Security", "Mobile", "Enterprise"]
TAGS = ["billing", "login", "bug", "urgent-customer", "vip", "refund", "export", "import", "mobile", "api",
        "password", "invoice", "shipping", "printer", "sso", "webhook", "report", "dashboard", "upgrade",
        "downgrade", "cancellation", "feature-request", "performance", "outage", "security", "gdpr", "csv",
        "pdf", "email", "sms", "calendar", "sync", "integration", "onboarding", "training", "migration",
        "pricing", "contract", "renewal", "trial"] + [f"topic-{i}" for i in range(110)]
PROBLEMS = ["Cannot log in to", "Error when exporting", "Slow loading of", "Question about", "Refund request for",
            "Invoice missing for", "Password reset fails on", "Sync broken for", "Printer not working with",
            "Feature request for", "Wrong totals in", "Timeout while opening", "Cannot upload files to",
            "Duplicate charges on", "Access denied on", "Blank page in"]
OBJECTS = ["the dashboard", "the monthly report", "the billing page", "the mobile app", "the customer portal",
           "the API integration", "the CSV export", "user settings", "the invoice PDF", "shipping labels",
           "the calendar sync", "single sign-on", "the webhook endpoint", "team permissions", "order history",
           "the checkout", "email notifications", "the import wizard"]
SENTENCES = [
    "Since this morning every attempt ends with an error message.",
    "We checked the browser cache and tried another computer without luck.",
    "The problem started after the last update of your service.",
    "Our accounting team needs this resolved before the end of the month.",
    "Please find the steps to reproduce below.",
    "The invoice shows an amount that does not match our contract.",
    "We would like a refund for the duplicate payment.",
    "Several colleagues in our office see the same behaviour.",
    "The export finishes but the file is empty.",
    "We use the latest version of the mobile app on Android and iOS.",
    "Could you tell us whether this is a known issue?",
    "The printer driver was reinstalled twice already.",
    "Our integration receives a timeout after thirty seconds.",
    "The password reset email never arrives in the inbox.",
    "It works for administrators but not for regular users.",
    "We need an answer quickly because customers are waiting.",
    "Attached is a screenshot of the error dialog.",
    "The totals in the report differ from the totals in the dashboard.",
    "This blocks our onboarding of new staff next week.",
    "Is there a workaround we can use in the meantime?",
]
REPLY_SENTENCES = [
    "Thank you for reaching out, we are looking into it.",
    "Could you send us the exact time when the error happened?",
    "We have forwarded this to our engineering team.",
    "The fix has been deployed, please try again.",
    "I can confirm the refund was issued to your card.",
    "Please clear the cache and log in again.",
    "We updated the invoice, you will find the new PDF in the portal.",
    "The export issue is caused by a filter on archived orders.",
    "Thanks, that solved it for us.",
    "Unfortunately the problem is still there.",
    "I have attached the log file you asked for.",
    "Our team will call you tomorrow morning.",
    "This is expected behaviour for accounts on the basic plan.",
    "We reproduced the issue and are working on a patch.",
    "Could you check whether the printer firmware is up to date?",
    "The password reset link is valid for one hour.",
    "Customer is on the enterprise contract, handle with priority.",
    "Escalated to second level, waiting for feedback.",
    "Closing this ticket as the customer confirmed the fix.",
    "Please reopen the ticket if the problem comes back.",
]
# A word that the generated text never contains: the "no hit" search.
NO_HIT_WORD = "xylophonequartz"
# Search words with a realistic spread: "checkout" is in ~5% of the subjects (and in no
# other text), "duplicate checkout" in ~0.35%; "invoice" is everywhere (subjects, messages
# and ~65% of conversations), the worst case of a common word.
SEARCH_ONE_WORD = "checkout"
SEARCH_TWO_WORDS = "duplicate checkout"
SEARCH_COMMON_WORD = "invoice"


# SLA policies of a typical support desk (see ``create_sla_policies``): name, priority,
# department name, on office hours?, first response and resolution in minutes.
SLA_POLICIES = [
    ("Normal", 1, None, True, 8 * 60, 5 * 8 * 60),
    ("High", 2, None, True, 2 * 60, 2 * 8 * 60),
    ("Urgent", 3, None, False, 60, 8 * 60),
    ("Enterprise", None, "Enterprise", False, 60, 24 * 60),
]


def create_sla_policies() -> sla.Rules:
    """An office-hours calendar (Mon-Fri 09:00-17:00 Berlin, with public holidays) and the
    ``SLA_POLICIES``, unless the database has policies already; returns their rules.

    Written with ``bulk_create``: no refresh task is queued (the seed computes every
    ticket's SLA itself, a reused database is refreshed by ``helpdesk_sla_refresh``)."""
    if not hd.SLAPolicy.objects.exists():
        calendar = hd.BusinessCalendar.objects.bulk_create([hd.BusinessCalendar(
            name="Office hours (bench)", time_zone="Europe/Berlin", working_days="12345",
            opens_at=datetime.time(9), closes_at=datetime.time(17))])[0]
        year = datetime.date.today().year
        hd.Holiday.objects.bulk_create([
            hd.Holiday(calendar=calendar, date=datetime.date(y, m, d), name=name)
            for y in range(year - YEARS - 1, year + 2)
            for m, d, name in ((1, 1, "New Year"), (5, 1, "Labour Day"), (10, 3, "Unity Day"),
                               (12, 25, "Christmas"), (12, 26, "Boxing Day"))
        ])
        departments = {d.name: d for d in hd.Department.objects.all()}
        hd.SLAPolicy.objects.bulk_create([
            hd.SLAPolicy(name=f"{name} (bench)", priority=priority, department=departments.get(dept),
                         calendar=calendar if office else None, first_response_minutes=first,
                         resolution_minutes=resolution)
            for name, priority, dept, office, first, resolution in SLA_POLICIES
            if dept is None or dept in departments
        ])
    refcache.drop("sla_policies")
    return sla.Rules.load()


def _utc(seconds: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC)


@dataclass
class SeedInfo:
    """What the measurement needs to know about the seeded data."""

    tickets: int = 0
    replies: int = 0
    notes: int = 0
    status_changes: int = 0
    clients: int = 0
    contacts: int = 0
    agents: int = 0
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    department_ids: list[int] = field(default_factory=list)
    agent_ids: list[int] = field(default_factory=list)
    contact_emails: list[str] = field(default_factory=list)
    client_ids: list[int] = field(default_factory=list)
    external_keys: list[tuple[str, str]] = field(default_factory=list)


# --------------------------------------------------------------------------- writers


class _Table:
    """The rows we write to one table, completed with the defaults of columns we do not know."""

    def __init__(self, model: Any, columns: Sequence[str]) -> None:
        self.model = model
        self.name = model._meta.db_table
        known = set(columns)
        extra_cols: list[str] = []
        extra_vals: list[Any] = []
        for f in model._meta.local_concrete_fields:
            if getattr(f, "generated", False) or f.column in known:
                continue
            default = f.get_default()
            if default is None and not f.null:
                raise RuntimeError(
                    f"bench.seed does not know how to fill {self.name}.{f.column} (no default): "
                    "teach bench/seed.py about the new column."
                )
            extra_cols.append(f.column)
            extra_vals.append(f.get_db_prep_save(default, connection))
        missing = known - {f.column for f in model._meta.local_concrete_fields}
        if missing:
            raise RuntimeError(f"bench.seed writes unknown columns {sorted(missing)} of {self.name}")
        self.columns = list(columns) + extra_cols
        self.extra = tuple(extra_vals)


class _Writer:
    """Backend-specific bulk loading: prepare, write rows, finish (indexes, sequences, stats)."""

    big_tables: list[str] = []

    #: What follows a timestamp's time of day: the UTC offset where the database reads one.
    suffix = ""

    def __init__(self) -> None:
        self.dropped: list[tuple[str, str]] = []
        self._days: dict[int, str] = {}

    def ts(self, seconds: int) -> str:
        """Epoch seconds as the database's timestamp text (the day part cached: millions of rows)."""
        day, rem = divmod(seconds, DAY)
        d = self._days.get(day)
        if d is None:
            d = self._days[day] = time.strftime("%Y-%m-%d", time.gmtime(day * DAY))
        return f"{d} {rem // 3600:02d}:{rem // 60 % 60:02d}:{rem % 60:02d}{self.suffix}"

    def session(self) -> None:
        """Session settings for the load, made before its transaction starts."""

    def write(self, table: _Table, rows: Iterable[tuple]) -> None:
        raise NotImplementedError


class _PostgresWriter(_Writer):
    suffix = "+00"

    def prepare(self, tables: list[str]) -> None:
        with connection.cursor() as cur:
            # The search documents (migration 0006) are kept by triggers, which the load
            # turns off: they are built in one statement after it, before their index.
            cur.execute("SELECT to_regclass('helpdesk_ticket_search') IS NOT NULL")
            self.documents = bool(cur.fetchone()[0])
            if self.documents:
                tables = [*tables, "helpdesk_ticket_search"]
            cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            self.superuser = bool(cur.fetchone()[0])
            if self.superuser:
                # Off for this session only: the generator writes consistent ids, and
                # per-row FK triggers would double the load time. (Needs a superuser;
                # without one the checks stay on and the load is just slower.)
                cur.execute("SET session_replication_role = replica")
            cur.execute("SET synchronous_commit = off")
            cur.execute(
                """
                SELECT i.indexname, i.indexdef FROM pg_indexes i
                WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
                """,
                [tables],
            )
            self.dropped = cur.fetchall()
            for name, _ in self.dropped:
                cur.execute(f'DROP INDEX "{name}"')

    def write(self, table: _Table, rows: Iterable[tuple]) -> None:
        cols = ", ".join(f'"{c}"' for c in table.columns)
        extra = table.extra
        raw = connection.connection
        with raw.cursor() as cur:
            with cur.copy(f'COPY "{table.name}" ({cols}) FROM STDIN') as copy:
                write_row = copy.write_row
                if extra:
                    for row in rows:
                        write_row(row + extra)
                else:
                    for row in rows:
                        write_row(row)

    def finish(self, all_tables: list[str], log: Callable[[str], None]) -> None:
        with connection.cursor() as cur:
            cur.execute("SET maintenance_work_mem = '256MB'")
            if self.documents:
                # The rebuild groups every reply by ticket: a sort that spills to disk
                # with the default 4 MB.
                cur.execute("SET work_mem = '256MB'")
                t = time.perf_counter()
                cur.execute("SELECT helpdesk_search_rebuild(NULL)")
                log(f"  search documents: {time.perf_counter() - t:.1f}s")
            for name, sql in self.dropped:
                t = time.perf_counter()
                cur.execute(sql)
                log(f"  index {name}: {time.perf_counter() - t:.1f}s")
            if self.superuser:
                cur.execute("RESET session_replication_role")

    def analyze(self, all_tables: list[str]) -> None:
        # The search documents too: without their statistics the planner cannot tell a
        # common word from a rare one (helpdesk.search asks it).
        extra = ["helpdesk_ticket_search"] if getattr(self, "documents", False) else []
        with connection.cursor() as cur:
            for t in [*all_tables, *extra]:
                cur.execute(f'VACUUM (ANALYZE) "{t}"')


class _SQLiteWriter(_Writer):
    # Django stores aware datetimes on SQLite as naive UTC text, "YYYY-MM-DD HH:MM:SS".
    suffix = ""

    def session(self) -> None:
        # Outside the load's transaction: SQLite refuses these pragmas inside one.
        connection.ensure_connection()
        raw = connection.connection
        raw.execute("PRAGMA foreign_keys = OFF")
        raw.execute("PRAGMA synchronous = OFF")
        raw.execute("PRAGMA cache_size = -200000")

    def prepare(self, tables: list[str]) -> None:
        raw = connection.connection
        marks = ",".join("?" * len(tables))
        self.dropped = raw.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks})",
            tables,
        ).fetchall()
        for name, _ in self.dropped:
            raw.execute(f'DROP INDEX "{name}"')

    def write(self, table: _Table, rows: Iterable[tuple]) -> None:
        cols = ", ".join(f'"{c}"' for c in table.columns)
        marks = ", ".join("?" * len(table.columns))
        extra = table.extra
        if extra:
            rows = (row + extra for row in rows)
        connection.connection.executemany(f'INSERT INTO "{table.name}" ({cols}) VALUES ({marks})', rows)

    def finish(self, all_tables: list[str], log: Callable[[str], None]) -> None:
        raw = connection.connection
        for name, sql in self.dropped:
            t = time.perf_counter()
            raw.execute(sql)
            log(f"  index {name}: {time.perf_counter() - t:.1f}s")

    def analyze(self, all_tables: list[str]) -> None:
        raw = connection.connection
        raw.execute("ANALYZE")
        raw.execute("PRAGMA foreign_keys = ON")
        raw.execute("PRAGMA synchronous = NORMAL")


# --------------------------------------------------------------------------- generator


def _pick_skewed(rng_random: Callable[[], float], items: Sequence[Any], power: float = 2.0) -> Any:
    return items[int(len(items) * rng_random() ** power)]


def seed(n_tickets: int, *, random_seed: int = 20261123, log: Callable[[str], None] = print) -> SeedInfo:
    """Fill the (migrated, empty) default database with ``n_tickets`` tickets and everything around them."""
    started = time.perf_counter()
    phase_start = started
    info = SeedInfo()
    User = get_user_model()
    vendor = connection.vendor
    writer: _Writer = _PostgresWriter() if vendor == "postgresql" else _SQLiteWriter()
    rng = random.Random(random_seed)
    rnd = rng.random
    now = (int(time.time()) // 60) * 60
    span = YEARS * 365 * DAY
    ts = writer.ts

    def mark(name: str) -> None:
        nonlocal phase_start
        t = time.perf_counter()
        info.phases[name] = round(t - phase_start, 2)
        phase_start = t
        log(f"  {name}: {info.phases[name]:.1f}s")

    T = hd.Ticket
    user_t = _Table(User, ["id", "password", "is_superuser", "username", "first_name", "last_name", "email",
                           "is_staff", "is_active", "date_joined"])
    client_t = _Table(hd.Client, ["id", "name", "external_id", "notes", "created_at"])
    domain_t = _Table(hd.ClientDomain, ["id", "client_id", "domain"])
    contact_t = _Table(hd.Contact, ["id", "user_id", "client_id", "phone"])
    project_t = _Table(hd.Project, ["id", "client_id", "name"])
    dept_t = _Table(hd.Department, ["id", "name", "description", "is_default"])
    tag_t = _Table(hd.Tag, ["id", "name"])
    ticket_t = _Table(T, [
        "id", "subject", "message", "status_id", "priority", "channel", "active_state", "department_id",
        "client_id", "project_id", "creator_id", "requester_id", "type", "severity", "product", "time_spent",
        "external_source", "external_id", "external_url", "created_at", "updated_at", "status_changed_at",
        "first_response_at", "last_reply_at", "closed_at", "replies_count", "notes_count",
        "sla_policy_id", "first_response_due_at", "resolution_due_at", "sla_paused_at", "sla_paused_minutes",
    ])
    reply_t = _Table(hd.Reply, ["id", "ticket_id", "author_id", "text", "type", "created_at"])
    change_t = _Table(hd.StatusChange, ["id", "ticket_id", "from_status_id", "to_status_id", "changed_at",
                                        "changed_by_id"])
    tags_through = T.tags.through
    assignees_through = T.assignees.through
    tt_t = _Table(tags_through, ["id", tags_through._meta.get_field("ticket").column,
                                 tags_through._meta.get_field("tag").column])
    ta_t = _Table(assignees_through, ["id", assignees_through._meta.get_field("ticket").column,
                                      assignees_through._meta.get_field("user").column])
    big = [ticket_t.name, reply_t.name, change_t.name, tt_t.name, ta_t.name]
    all_tables = [t.name for t in (user_t, client_t, domain_t, contact_t, project_t, dept_t, tag_t)] + big

    statuses = {s.pk: s for s in hd.TicketStatus.objects.all()}
    closed_ids = [pk for pk, s in statuses.items() if s.is_closed] or [2]
    CLOSED = hd.TicketStatus.CLOSED if hd.TicketStatus.CLOSED in statuses else closed_ids[0]
    OPEN, ANSWERED, CUST, HOLD = (hd.TicketStatus.OPEN, hd.TicketStatus.ANSWERED,
                                  hd.TicketStatus.CUSTOMER_REPLIED, hd.TicketStatus.ON_HOLD)

    writer.session()
    with transaction.atomic():
        writer.prepare(big)

        # -- reference data and people
        n_agents = max(5, min(200, n_tickets // 5000))
        n_clients = max(5, n_tickets // 50)
        user_id = (User.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        date0 = ts(now - span - 30 * DAY)
        users: list[tuple] = []
        agent_ids: list[int] = []
        for i in range(n_agents):
            f, last = FIRST[i % len(FIRST)], LAST[(i * 7) % len(LAST)]
            users.append((user_id, "!bench", False, f"agent{i}", f, last, f"agent{i}@helpdesk.example",
                          True, True, date0))
            agent_ids.append(user_id)
            user_id += 1
        dept_rows = [(i + 1, name, f"{name} questions", i == 0) for i, name in enumerate(DEPARTMENTS)]
        dept_ids = [r[0] for r in dept_rows]
        tag_rows = [(i + 1, name) for i, name in enumerate(TAGS)]
        tag_ids = [r[0] for r in tag_rows]

        clients: list[tuple] = []
        domains: list[tuple] = []
        contacts: list[tuple] = []
        projects: list[tuple] = []
        client_contacts: list[list[int]] = []
        client_projects: list[list[int]] = []
        contact_emails: list[str] = []
        domain_id = contact_id = project_id = 1
        for c in range(1, n_clients + 1):
            name = f"{ADJ[c % len(ADJ)]} {NOUN[(c // len(ADJ)) % len(NOUN)]} {SUFFIX[c % len(SUFFIX)]} {c}"
            clients.append((c, name, f"crm-{c}" if rnd() < 0.5 else None, "", ts(now - span - 60 * DAY)))
            domains.append((domain_id, c, f"client{c}.example"))
            domain_id += 1
            if rnd() < 0.3:
                domains.append((domain_id, c, f"mail.client{c}.example"))
                domain_id += 1
            mine = []
            for _ in range(1 + int(rnd() * 5)):
                f, last = FIRST[int(rnd() * len(FIRST))], LAST[int(rnd() * len(LAST))]
                email = f"{f.lower()}.{last.lower()}{contact_id}@client{c}.example"
                users.append((user_id, "!bench", False, f"contact{contact_id}", f, last, email,
                              False, True, date0))
                contacts.append((contact_id, user_id, c, ""))
                contact_emails.append(email)
                mine.append(user_id)
                contact_id += 1
                user_id += 1
            client_contacts.append(mine)
            mine_p = []
            if rnd() < 0.3:
                for k in range(1 + int(rnd() * 3)):
                    projects.append((project_id, c, f"Project {k + 1}"))
                    mine_p.append(project_id)
                    project_id += 1
            client_projects.append(mine_p)

        writer.write(user_t, users)
        writer.write(dept_t, dept_rows)
        writer.write(tag_t, tag_rows)
        writer.write(client_t, clients)
        writer.write(domain_t, domains)
        writer.write(contact_t, contacts)
        writer.write(project_t, projects)
        # The SLA: each ticket's policy, due times and pause, by the rules of helpdesk.sla
        # applied to the status history written below.
        rules = create_sla_policies()
        waiting_ids = rules.waiting_ids
        sla_ticket = pytypes.SimpleNamespace(sla_paused_at=None, sla_paused_minutes=0)
        info.agents, info.clients, info.contacts = n_agents, n_clients, len(contacts)
        info.department_ids, info.agent_ids = dept_ids, agent_ids
        info.client_ids = [r[0] for r in clients[:200]]
        info.contact_emails = contact_emails[:2000]
        del users, clients, domains, contacts, projects
        mark("people and reference data")

        # -- tickets, oldest first so that ids grow with time as in a real helpdesk
        created_all = sorted(now - int(span * (1.0 - math.sqrt(rnd()))) for _ in range(n_tickets))
        subjects = [f"{p} {o}" for p in PROBLEMS for o in OBJECTS]
        messages = [" ".join(rng.sample(SENTENCES, 2 + int(rnd() * 3))) for _ in range(2000)]
        reply_texts = [" ".join(rng.sample(REPLY_SENTENCES, 1 + int(rnd() * 3))) for _ in range(3000)]
        n_subj, n_msg, n_txt = len(subjects), len(messages), len(reply_texts)
        n_agent = len(agent_ids)
        types = ["question", "question", "bug", "incident", "feature", ""]
        severities = ["", "", "low", "medium", "high"]
        products = ["", "Portal", "Mobile", "API", "Billing"]
        channels = ["email", "email", "web", "web", "web", "api"]
        reply_id = change_id = tt_id = ta_id = 1
        external_keys: list[tuple[str, str]] = []
        month30 = 30 * DAY

        for start in range(0, n_tickets, CHUNK):
            t_rows: list[tuple] = []
            r_rows: list[tuple] = []
            c_rows: list[tuple] = []
            tt_rows: list[tuple] = []
            ta_rows: list[tuple] = []
            for i in range(start, min(start + CHUNK, n_tickets)):
                tid = i + 1
                created = created_all[i]
                client_idx = int(n_clients * rnd() ** 2)
                client = client_idx + 1
                cc = client_contacts[client_idx]
                requester = cc[int(rnd() * len(cc))]
                agent_first = agent_ids[int(n_agent * rnd() ** 1.5)]
                r = rnd()
                priority = 1 if r < 0.7 else (2 if r < 0.92 else 3)
                channel = channels[int(rnd() * 6)]
                creator = agent_first if (channel == "web" and rnd() < 0.3) else requester
                cp = client_projects[client_idx]
                project = cp[int(rnd() * len(cp))] if cp and rnd() < 0.5 else None

                # The conversation: 0-20 messages, agents and the requester in turn, some notes.
                t = created
                first_response = last_reply = None
                last_activity = created
                n_rep = n_note = 0
                last_public_by_agent = None
                for _ in range(int(rnd() * 21)):
                    t += 120 + int(rnd() ** 3 * 3 * DAY)
                    if t > now:
                        t = now
                    x = rnd()
                    if x < 0.15:
                        r_rows.append((reply_id, tid, agent_first, reply_texts[int(rnd() * n_txt)], "note", ts(t)))
                        n_note += 1
                    else:
                        by_agent = x < 0.6
                        author = agent_first if by_agent else requester
                        r_rows.append((reply_id, tid, author, reply_texts[int(rnd() * n_txt)], "reply", ts(t)))
                        n_rep += 1
                        last_reply = t
                        last_public_by_agent = by_agent
                        if by_agent and first_response is None:
                            first_response = t
                    reply_id += 1
                    last_activity = t

                # Status history consistent with the conversation and the ticket's age.
                age = now - created
                history = [(OPEN, created)]
                c_rows.append((change_id, tid, None, OPEN, ts(created), creator))
                change_id += 1
                current, changed_at = OPEN, created
                if first_response is not None:
                    c_rows.append((change_id, tid, OPEN, ANSWERED, ts(first_response), agent_first))
                    history.append((ANSWERED, first_response))
                    change_id += 1
                    current, changed_at = ANSWERED, first_response
                closed = rnd() < (0.93 if age > month30 else 0.2)
                if closed:
                    final = CLOSED
                    final_at = min(now, last_activity + 600 + int(rnd() * 2 * DAY))
                elif rnd() < 0.1:
                    final, final_at = HOLD, min(now, last_activity + 60)
                elif last_public_by_agent is None:
                    final, final_at = (current, changed_at)
                else:
                    final, final_at = (ANSWERED if last_public_by_agent else CUST), last_activity
                if final != current:
                    c_rows.append((change_id, tid, current, final, ts(final_at), agent_first))
                    history.append((final, final_at))
                    change_id += 1
                    current, changed_at = final, final_at
                updated = max(last_activity, changed_at)
                archived = closed and age > 365 * DAY and rnd() < 0.5

                if rnd() < 0.2:
                    ext_source, ext_id = "zendesk", str(500000 + tid)
                    ext_url = f"https://acme.zendesk.example/agent/tickets/{ext_id}"
                    if len(external_keys) < 20000:
                        external_keys.append((ext_source, ext_id))
                else:
                    ext_source = ext_id = None
                    ext_url = ""
                row = (
                    tid, subjects[int(rnd() * n_subj)], messages[int(rnd() * n_msg)], current, priority, channel,
                    "archived" if archived else "active", dept_ids[int(len(dept_ids) * rnd() ** 1.5)], client,
                    project, creator, requester, types[int(rnd() * 6)], severities[int(rnd() * 5)],
                    products[int(rnd() * 5)], f"{int(rnd() * 240)}.{int(rnd() * 4) * 25:02d}",
                    ext_source, ext_id, ext_url, ts(created), ts(updated), ts(changed_at),
                    ts(first_response) if first_response is not None else None,
                    ts(last_reply) if last_reply is not None else None,
                    ts(changed_at) if current == CLOSED else None, n_rep, n_note,
                )
                sla_ticket.priority, sla_ticket.department_id, sla_ticket.client_id = priority, row[7], client
                sla_ticket.status_id, sla_ticket.created_at = current, _utc(created)
                sla_ticket.closed_at = _utc(changed_at) if current == CLOSED else None
                fields = rules.fields(sla_ticket, at=_utc(changed_at), transitions=[
                    (s in waiting_ids and s != CLOSED, _utc(at)) for s, at in history])
                policy, paused_at = fields["sla_policy"], fields["sla_paused_at"]
                first_due, resolution_due = fields["first_response_due_at"], fields["resolution_due_at"]
                t_rows.append(row + (
                    policy.pk if policy is not None else None,
                    ts(int(first_due.timestamp())) if first_due is not None else None,
                    ts(int(resolution_due.timestamp())) if resolution_due is not None else None,
                    ts(int(paused_at.timestamp())) if paused_at is not None else None,
                    fields["sla_paused_minutes"],
                ))
                x = rnd()
                if x < 0.9:
                    ta_rows.append((ta_id, tid, agent_first))
                    ta_id += 1
                    if x < 0.05:
                        other = agent_ids[int(rnd() * n_agent)]
                        if other != agent_first:
                            ta_rows.append((ta_id, tid, other))
                            ta_id += 1
                n_tags = (0, 0, 0, 0, 1, 1, 1, 2, 2, 3)[int(rnd() * 10)]
                if n_tags:
                    for tag in {tag_ids[int(len(tag_ids) * rnd() ** 2.5)] for _ in range(n_tags)}:
                        tt_rows.append((tt_id, tid, tag))
                        tt_id += 1
                info.notes += n_note
            writer.write(ticket_t, t_rows)
            writer.write(reply_t, r_rows)
            writer.write(change_t, c_rows)
            writer.write(tt_t, tt_rows)
            writer.write(ta_t, ta_rows)
            done = min(start + CHUNK, n_tickets)
            if done % (CHUNK * 20) == 0 or done == n_tickets:
                log(f"  {done:,} tickets, {reply_id - 1:,} replies ({time.perf_counter() - started:.0f}s)")
        info.tickets = n_tickets
        info.replies = reply_id - 1
        info.status_changes = change_id - 1
        info.external_keys = external_keys
        mark("tickets, replies, history")

        writer.finish(all_tables, log)
        # Explicit ids leave the id sequences behind; move each past its table's max id.
        seq_models = [User, hd.Client, hd.ClientDomain, hd.Contact, hd.Project, hd.Department, hd.Tag, T,
                      hd.Reply, hd.StatusChange, tags_through, assignees_through]
        with connection.cursor() as cur:
            for sql in connection.ops.sequence_reset_sql(no_style(), seq_models):
                cur.execute(sql)
        mark("indexes")
    writer.analyze(all_tables)
    mark("vacuum/analyze")
    info.seconds = round(time.perf_counter() - started, 1)
    return info


def describe(info: SeedInfo) -> SeedInfo:
    """Fill in what the measurement needs from the database itself (works on a reused database too)."""
    User = get_user_model()
    info.department_ids = list(hd.Department.objects.order_by("id").values_list("id", flat=True))
    info.agent_ids = list(User.objects.filter(is_staff=True).order_by("id").values_list("id", flat=True)[:200])
    info.client_ids = list(hd.Client.objects.order_by("id").values_list("id", flat=True)[:200])
    info.contact_emails = list(
        hd.Contact.objects.order_by("id").values_list("user__email", flat=True)[:2000]
    )
    if not info.replies:
        info.replies = hd.Reply.objects.count()
        info.status_changes = hd.StatusChange.objects.count()
        info.clients = hd.Client.objects.count()
        info.contacts = hd.Contact.objects.count()
        info.agents = User.objects.filter(is_staff=True).count()
    return info
