"""``manage.py helpdesk_demo``: load realistic demo data and print how to log in.

Creates departments, clients with email domains, contacts, projects, custom fields, tags,
agents, a superuser and a few hundred tickets spread over the last 60 days, each with a
conversation, internal notes, assignees and a status history. Tickets are generated as a
timeline in Python and written in bulk (a few seconds), with the same dates, counters and
history the services would have written; ``tests/test_demo.py`` checks that they agree.

Running it again loads nothing twice (it prints a new API key); ``--flush`` reloads.
It refuses to run with ``DEBUG`` off unless told ``--force``: it makes a superuser with a
published password.
"""

from __future__ import annotations

import dataclasses
import datetime
import random
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Count
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils import timezone

from helpdesk.models import (
    ActiveState,
    APIKey,
    Channel,
    Client,
    ClientDomain,
    Contact,
    CustomField,
    Department,
    Priority,
    Project,
    Reply,
    ReplyType,
    StatusChange,
    Tag,
    Ticket,
    TicketStatus,
)
from helpdesk.progress import progress

#: Demo clients are recognised by this external id prefix (idempotency and --flush).
DEMO_PREFIX = "demo-"
ADMIN_USERNAME = "admin"
DEMO_PASSWORD = "helpdesk-demo"
API_KEY_NAME = "Demo key (helpdesk_demo)"
AGENT_GROUP = "Helpdesk agents"
DAYS = 60

#: id, name, description, default. Sales is 72, as in the API docs' examples (the CRM
#: seed's `curl ... -d ticket_categoryid=72`), so those examples run against the demo as
#: they are written.
DEPARTMENTS = [
    (70, "Support", "General product questions and problems.", True),
    (71, "Billing", "Invoices, payments, refunds and plan changes.", False),
    (72, "Sales", "Quotes, upgrades and new contracts.", False),
    (73, "Technical", "Outages, bugs, integrations and the API.", False),
    (74, "Onboarding", "Setting up new accounts and migrations.", False),
]

CLIENTS = [
    # name, domain, projects
    ("Acme Inc", "acme.example", ["Website relaunch", "Warehouse rollout"]),
    ("Globex", "globex.example", ["EU expansion"]),
    ("Initech", "initech.example", ["TPS reports", "Payroll integration"]),
    ("Umbrella Health", "umbrella-health.example", ["Patient portal"]),
    ("Stark Industries", "stark.example", ["Field service app", "Data migration", "SSO"]),
    ("Wayne Logistics", "wayne-logistics.example", ["Fleet tracking"]),
    ("Hooli", "hooli.example", ["Mobile app"]),
    ("Vandelay Imports", "vandelay.example", []),
    ("Soylent Foods", "soylent.example", ["Online shop"]),
    ("Tyrell Systems", "tyrell.example", ["Replicant inventory", "Support portal"]),
    ("Cyberdyne", "cyberdyne.example", []),
    ("Oceanic Airlines", "oceanic.example", ["Booking engine"]),
]

FIRST_NAMES = ["Max", "Anna", "Liam", "Sofia", "Noah", "Mia", "Lucas", "Emma", "Ben", "Lea", "Jonas", "Clara",
               "David", "Hannah", "Elias", "Nora", "Paul", "Ida", "Felix", "Laura", "Omar", "Yuki", "Priya", "Chen"]
LAST_NAMES = ["Miller", "Schmidt", "Garcia", "Kowalski", "Nguyen", "Okafor", "Rossi", "Larsen", "Silva", "Novak",
              "Dubois", "Tanaka", "Patel", "Cohen", "Brown", "Fischer", "Jensen", "Moreau", "Ivanova", "Khan"]

AGENTS = [("alice", "Alice", "Adams"), ("bob", "Bob", "Baker"), ("carla", "Carla", "Costa"),
          ("dmitri", "Dmitri", "Dvorak"), ("erin", "Erin", "Evans"), ("farid", "Farid", "Farouk")]

TAGS = ["billing", "login", "bug", "feature-request", "urgent-customer", "api", "invoice", "refund", "sso",
        "performance", "mobile", "data-export", "onboarding", "vip", "outage", "documentation"]

CUSTOM_FIELDS = [
    # key, label, type, choices, help text
    ("order_number", "Order number", CustomField.Type.TEXT, [], "The customer's order or invoice number."),
    ("environment", "Environment", CustomField.Type.CHOICE, ["production", "staging", "development"], ""),
    ("affected_users", "Affected users", CustomField.Type.INTEGER, [], "How many users are affected."),
    ("renewal_date", "Renewal date", CustomField.Type.DATE, [], ""),
    ("sla_breached", "SLA breached", CustomField.Type.BOOLEAN, [], ""),
]

# (department, subject, message, type, tags)
TOPICS = [
    ("Support", "Cannot log in after password reset", "I reset my password this morning and now the login page "
     "says my credentials are invalid. I tried two browsers.", "question", ["login"]),
    ("Support", "How do I add a colleague to our account?", "We hired a new team member. Where can I invite her "
     "and give her access to our projects?", "question", ["onboarding"]),
    ("Support", "Export of all tickets as CSV", "Is there a way to export all of our tickets including replies "
     "as a CSV file for our quarterly review?", "question", ["data-export"]),
    ("Support", "Notification emails land in spam", "Your notification emails are flagged as spam by our mail "
     "server since Monday.", "incident", []),
    ("Billing", "Invoice shows the wrong VAT number", "Our invoice for this month lists an old VAT number. "
     "Please correct it and send a new invoice.", "question", ["invoice", "billing"]),
    ("Billing", "Charged twice for the annual plan", "Our card was charged twice for the annual plan renewal. "
     "Please refund the duplicate payment.", "incident", ["refund", "billing"]),
    ("Billing", "Switch from monthly to yearly billing", "We would like to move to yearly billing from the next "
     "period. What discount applies?", "question", ["billing"]),
    ("Billing", "Payment failed with a valid card", "The payment page rejects our company card although it works "
     "everywhere else.", "bug", ["billing"]),
    ("Technical", "API returns 500 on ticket export", "Calling the export endpoint with more than 1000 rows "
     "returns an internal server error.", "bug", ["api", "bug"]),
    ("Technical", "Dashboard very slow since the update", "Loading the dashboard takes more than 20 seconds "
     "since yesterday's update.", "incident", ["performance"]),
    ("Technical", "SSO with Azure AD fails", "Users signing in through Azure AD get 'invalid audience'. "
     "Configuration screenshots attached.", "bug", ["sso", "login"]),
    ("Technical", "Webhook deliveries are delayed", "Webhooks arrive 10 to 15 minutes late, which breaks our "
     "order workflow.", "incident", ["api", "performance"]),
    ("Technical", "Mobile app crashes on start (Android 14)", "After updating to Android 14 the app closes "
     "immediately on start.", "bug", ["mobile", "bug"]),
    ("Technical", "Service unavailable for all users", "None of our users can reach the application. The status "
     "page shows everything green.", "incident", ["outage"]),
    ("Sales", "Quote for 50 additional seats", "We plan to roll out to another department. Could you send a "
     "quote for 50 more seats?", "question", []),
    ("Sales", "Enterprise plan: on-premise option?", "Does the enterprise plan include an on-premise "
     "installation, and what are the requirements?", "question", ["vip"]),
    ("Sales", "Feature request: custom ticket fields per project", "We would like to define different custom "
     "fields per project.", "feature request", ["feature-request"]),
    ("Onboarding", "Migrating 5 years of tickets from our old tool", "We want to import our history from our "
     "previous helpdesk. Which format do you need?", "question", ["onboarding", "data-export"]),
    ("Onboarding", "Training session for our support team", "Can we book a one-hour training session for eight "
     "agents next week?", "question", ["onboarding"]),
    ("Onboarding", "Where is the API documentation?", "Our developers are looking for the API reference and an "
     "example of the bulk import.", "question", ["api", "documentation"]),
]

AGENT_REPLIES = [
    "Thanks for reaching out! I'm looking into this now and will get back to you shortly.",
    "Could you send us a screenshot and the exact time this happened? That helps us find it in our logs.",
    "We found the cause and deployed a fix. Could you please check whether it works for you now?",
    "I've forwarded this to our engineering team; I'll update you as soon as I hear back.",
    "This is done on our side. Let us know if there is anything else we can help with.",
    "Thanks for your patience. The corrected document is attached to this reply.",
    "I've changed the setting for your account. It can take up to 15 minutes to apply.",
]
CONTACT_REPLIES = [
    "Thanks, here is the screenshot you asked for.",
    "Unfortunately it still does not work on our side.",
    "That fixed it, thank you very much!",
    "Any news on this? It is blocking our team.",
    "It happened again today at 9:40 for three of our users.",
    "Great, thanks for the quick help.",
]
NOTES = [
    "Customer is on the enterprise plan: keep them posted daily.",
    "Reproduced on staging. Linked to the release from last Tuesday.",
    "Checked the payment provider: the duplicate charge is pending reversal.",
    "Escalated to the on-call engineer.",
    "Same issue as last month with this client; see the earlier ticket.",
]
PRODUCTS = ["Web app", "Mobile app", "API", "Reporting", ""]
SEVERITIES = ["", "", "minor", "major", "critical"]


@dataclasses.dataclass
class Timeline:
    """One ticket's life, built event by event; turned into rows at the end."""

    ticket: Ticket
    replies: list[Reply] = dataclasses.field(default_factory=list)
    changes: list[StatusChange] = dataclasses.field(default_factory=list)


class Command(BaseCommand):
    help = "Load realistic demo data (idempotent) and print the admin login and a new API key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tickets", type=int, default=300, help="How many tickets to create (default 300).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed, for the same data every time.")
        parser.add_argument("--flush", action="store_true", help="Remove the demo data first, then load it again.")
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="Where the site is served, for the "
                            "printed links (default http://127.0.0.1:8000).")
        parser.add_argument("--quiet", action="store_true", help="No progress bars (the login and key are still "
                            "printed).")
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off (creates a superuser "
                            "with a published password: never on a real site).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["tickets"] < 0:
            raise CommandError("--tickets must be 0 or more.")
        if not settings.DEBUG and not options["force"]:
            raise CommandError("DEBUG is off: this looks like a real site. The demo creates a superuser with a "
                               "published password; pass --force if you really mean it.")
        self.quiet = options["quiet"] or options["verbosity"] == 0
        self.rnd = random.Random(options["seed"])
        self.external_number = 40000
        self.now = timezone.now().replace(microsecond=0)
        with transaction.atomic():
            if options["flush"]:
                self.flush()
            admin = self.ensure_admin()
            loaded = Client.objects.filter(external_id__startswith=DEMO_PREFIX).exists()
            if loaded:
                self.stdout.write("Demo data is already loaded; nothing added (use --flush to reload).")
            else:
                self.load(options["tickets"])
            APIKey.objects.filter(user=admin, name=API_KEY_NAME).delete()
            _, key = APIKey.objects.create_key(user=admin, name=API_KEY_NAME)
        self.report(admin, key, options["url"].rstrip("/"))

    # --- reference data ------------------------------------------------------------------

    def ensure_admin(self) -> Any:
        User = get_user_model()
        admin, created = User.objects.get_or_create(
            username=ADMIN_USERNAME, defaults={"email": "admin@helpdesk.example", "first_name": "Ada",
                                               "last_name": "Admin"})
        if created:
            admin.set_password(DEMO_PASSWORD)
        admin.is_staff = admin.is_superuser = admin.is_active = True
        admin.save()
        self.admin_created = created
        return admin

    def load(self, n_tickets: int) -> None:
        User = get_user_model()
        for pk, name, description, default in DEPARTMENTS:
            if Department.objects.filter(name=name).exists():
                continue
            # The documented id when it is free; any id otherwise (a site's own departments win).
            fixed = {} if Department.objects.filter(pk=pk).exists() else {"pk": pk}
            Department.objects.create(name=name, description=description, is_default=default, **fixed)
        # Rows inserted with explicit ids leave PostgreSQL's sequence behind them.
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [Department]):
                cursor.execute(sql)
        self.departments = {d.name: d for d in Department.objects.filter(name__in=[d[1] for d in DEPARTMENTS])}
        for order, (key, label, type_, choices, help_text) in enumerate(CUSTOM_FIELDS):
            CustomField.objects.get_or_create(key=key, defaults={"label": label, "type": type_, "choices": choices,
                                                                 "help_text": help_text, "order": order * 10})
        existing = {t.lower() for t in Tag.objects.values_list("name", flat=True)}
        Tag.objects.bulk_create([Tag(name=t) for t in TAGS if t not in existing])
        self.tags = {t.name.lower(): t for t in Tag.objects.all()}

        # One hash for every demo login: hashing is deliberately slow.
        password = make_password(DEMO_PASSWORD)
        group = Group.objects.filter(name=AGENT_GROUP).first()
        self.agents = []
        for username, first, last in AGENTS:
            agent, created = User.objects.get_or_create(
                username=username, defaults={"first_name": first, "last_name": last, "is_staff": True,
                                             "email": f"{username}@helpdesk.example", "password": password})
            if group is not None:
                agent.groups.add(group)
            self.agents.append(agent)

        self.clients = []
        names = [(f, l) for f in FIRST_NAMES for l in LAST_NAMES]
        self.rnd.shuffle(names)
        contact_users = []
        for name, domain, projects in CLIENTS:
            client = Client.objects.create(name=name, external_id=DEMO_PREFIX + domain.split(".")[0],
                                           notes=f"Demo client. Account manager: {self.rnd.choice(AGENTS)[1]}.")
            ClientDomain.objects.create(client=client, domain=domain)
            for project in projects:
                Project.objects.create(client=client, name=project)
            for _ in range(self.rnd.randint(2, 4)):
                first, last = names.pop()
                user = User(username=f"{first}.{last}@{domain}".lower(), email=f"{first}.{last}@{domain}".lower(),
                            first_name=first, last_name=last, password=password)
                contact_users.append((user, client))
            self.clients.append(client)
        User.objects.bulk_create([u for u, _ in contact_users])
        users = {u.username: u for u in User.objects.filter(username__in=[u.username for u, _ in contact_users])}
        Contact.objects.bulk_create([Contact(user=users[u.username], client=c) for u, c in contact_users])
        self.contacts: dict[int, list[Any]] = {}
        for user, client in contact_users:
            self.contacts.setdefault(client.pk, []).append(users[user.username])
        self.projects: dict[int, list[Project]] = {}
        for project in Project.objects.filter(client__in=self.clients):
            self.projects.setdefault(project.client_id, []).append(project)
        self.statuses = {s.pk: s for s in TicketStatus.objects.all()}
        self.load_tickets(n_tickets)
        self.load_workplace()

    def load_workplace(self) -> None:
        """SLA policies on office hours (and their due times on the demo tickets) and a few
        shared canned replies, so the list, the ticket page and the overview show them."""
        from ... import sla
        from ...models import BusinessCalendar, CannedReply, SLAPolicy

        calendar, _ = BusinessCalendar.objects.get_or_create(
            name="Office hours (demo)", defaults={"time_zone": "Europe/Berlin", "working_days": "12345",
                                                  "opens_at": datetime.time(8), "closes_at": datetime.time(18)})
        for name, priority, cal, first, resolution in (
            ("Normal (demo)", 1, calendar, 8 * 60, 5 * 10 * 60),
            ("High (demo)", 2, calendar, 2 * 60, 2 * 10 * 60),
            ("Urgent (demo)", 3, None, 60, 8 * 60),
        ):
            SLAPolicy.objects.get_or_create(name=name, defaults={
                "priority": priority, "calendar": cal, "first_response_minutes": first, "resolution_minutes": resolution})
        for title, body in (
            ("Ask for a screenshot", "Hi {{ requester.first_name }},\n\nthanks for reaching out. Could you send us a "
             "screenshot of the error and the time it happened?\n\n{{ agent.first_name }}"),
            ("Fixed, please confirm", "Hi {{ requester.first_name }},\n\nwe deployed a fix for #{{ ticket.id }}. "
             "Could you check whether it works for you now?\n\n{{ agent.first_name }}"),
        ):
            CannedReply.objects.get_or_create(title=title, owner=None, defaults={"body": body})
        tickets = list(Ticket.objects.filter(client__in=self.clients))
        rules = sla.Rules.load()  # the policies once, not a query per ticket
        for ticket in tickets:
            rules.apply(ticket, at=self.now)
        Ticket.objects.bulk_update(tickets, ["sla_policy", "first_response_due_at", "resolution_due_at",
                                             "sla_paused_at", "sla_paused_minutes"], batch_size=500)

    # --- tickets -------------------------------------------------------------------------

    def load_tickets(self, n: int) -> None:
        timelines = []
        with progress(total=n, desc="Demo tickets", unit="ticket", stream=self.stderr, quiet=self.quiet) as bar:
            for _ in range(n):
                timelines.append(self.timeline())
                bar.update()
        timelines.sort(key=lambda t: t.ticket.created_at)  # ids follow creation order, as in real life
        TicketTag, TicketAssignee = Ticket.tags.through, Ticket.assignees.through
        tickets = [t.ticket for t in timelines]
        replies = [r for t in timelines for r in t.replies]
        changes = [c for t in timelines for c in t.changes]
        total = len(tickets) + len(replies) + len(changes)
        with progress(total=total, desc="Saving", unit="row", stream=self.stderr, quiet=self.quiet,
                      unit_scale=True) as bar:
            self.save_rows(Ticket, tickets, 500, bar)
            for t in timelines:
                for row in (*t.replies, *t.changes):
                    row.ticket = t.ticket
            self.save_rows(Reply, replies, 1000, bar)
            self.save_rows(StatusChange, changes, 1000, bar)
        TicketTag.objects.bulk_create(
            [TicketTag(ticket_id=t.pk, tag_id=tag.pk) for t in tickets for tag in t._demo_tags], batch_size=1000)
        TicketAssignee.objects.bulk_create(
            [TicketAssignee(ticket_id=t.pk, user_id=u.pk) for t in tickets for u in t._demo_assignees],
            batch_size=1000)

    @staticmethod
    def save_rows(model: Any, rows: list[Any], size: int, bar: Any) -> None:
        for start in range(0, len(rows), size):
            chunk = rows[start:start + size]
            model.objects.bulk_create(chunk)
            bar.update(len(chunk))

    def gap(self, low_minutes: float, high_minutes: float) -> datetime.timedelta:
        # Log-uniform: most answers come fast, a few take days.
        low, high = max(low_minutes, 1), high_minutes
        return datetime.timedelta(minutes=round(low * (high / low) ** self.rnd.random()))

    def timeline(self) -> Timeline:
        rnd = self.rnd
        client = rnd.choice(self.clients)
        requester = rnd.choice(self.contacts[client.pk])
        department_name, subject, message, type_, topic_tags = rnd.choice(TOPICS)
        created = self.now - datetime.timedelta(seconds=round(DAYS * 86400 * rnd.random() ** 1.4))
        channel = rnd.choices([Channel.WEB, Channel.EMAIL, Channel.API], weights=[5, 4, 1])[0]
        assignees = rnd.sample(self.agents, k=rnd.choices([0, 1, 2], weights=[2, 7, 1])[0])
        ticket = Ticket(
            subject=subject, message=message, client=client, department=self.departments[department_name],
            project=rnd.choice(self.projects[client.pk]) if client.pk in self.projects and rnd.random() < 0.6 else None,
            priority=rnd.choices(list(Priority), weights=[14, 5, 1])[0], channel=channel, requester=requester,
            creator=requester if channel != Channel.API else None, type=type_,
            severity=rnd.choice(SEVERITIES) if type_ in ("bug", "incident") else "", product=rnd.choice(PRODUCTS),
            created_at=created, metadata={"demo": True},
        )
        if channel == Channel.API and rnd.random() < 0.7:
            ticket.external_source = "zendesk"
            # Rising with gaps, as another system's ids are: random ones would collide.
            self.external_number += rnd.randint(1, 40)
            ticket.external_id = str(self.external_number)
            ticket.external_url = f"https://support.example/tickets/{ticket.external_id}"
        ticket.custom_fields = self.custom_values(department_name)
        ticket._demo_tags = [self.tags[t] for t in sorted({*topic_tags, *rnd.sample(TAGS, k=rnd.choice([0, 0, 1]))})]
        ticket._demo_assignees = assignees

        life = Timeline(ticket)
        status = self.statuses[TicketStatus.OPEN]
        life.changes.append(
            StatusChange(from_status=None, to_status=status, changed_at=created, changed_by=ticket.creator)
        )
        ticket.status, ticket.status_changed_at, ticket.closed_at = status, created, None
        at, last = created, created
        agent = assignees[0] if assignees else rnd.choice(self.agents)
        minutes = Decimal(0)

        def move(to_id: int, when: datetime.datetime, by: Any) -> None:
            to = self.statuses[to_id]
            if to == ticket.status:
                return
            life.changes.append(StatusChange(from_status=ticket.status, to_status=to, changed_at=when, changed_by=by))
            if to.is_closed and not ticket.status.is_closed:
                ticket.closed_at = when
            elif not to.is_closed:
                ticket.closed_at = None
            ticket.status, ticket.status_changed_at = to, when

        def post(author: Any, text: str, when: datetime.datetime, kind: str = ReplyType.REPLY) -> None:
            life.replies.append(Reply(author=author, text=text, type=kind, created_at=when))

        rounds = rnd.choice([1, 1, 2, 2, 3, 4])
        if self.now - created < datetime.timedelta(days=3) and rnd.random() < 0.3:
            rounds = 0  # the queue: recent tickets nobody has answered yet
        for round_ in range(rounds):
            if rnd.random() < 0.2:
                at += self.gap(5, 240)
                if at > self.now:
                    break
                post(agent, rnd.choice(NOTES), at, ReplyType.NOTE)
                last = at
            at += self.gap(10, 60 * 36 if round_ == 0 else 60 * 24)
            if at > self.now:
                break
            post(agent, rnd.choice(AGENT_REPLIES), at)
            minutes += rnd.choice([5, 10, 15, 20, 30, 45])
            move(TicketStatus.ON_HOLD if rnd.random() < 0.1 else TicketStatus.ANSWERED, at, agent)
            last = at
            if round_ == rounds - 1:
                break
            at += self.gap(20, 60 * 48)
            if at > self.now:
                break
            post(requester, rnd.choice(CONTACT_REPLIES), at)
            move(TicketStatus.CUSTOMER_REPLIED, at, requester)
            last = at
        # Answered tickets that went quiet get closed; a few are reopened by the customer.
        close_at = last + self.gap(60, 60 * 72)
        if ticket.status.pk == TicketStatus.ANSWERED and close_at < self.now and rnd.random() < 0.8:
            move(TicketStatus.CLOSED, close_at, agent)
            last = close_at
            reopen_at = close_at + self.gap(60, 60 * 96)
            if rnd.random() < 0.08 and reopen_at < self.now:
                post(requester, "Sorry, the problem is back.", reopen_at)
                move(TicketStatus.CUSTOMER_REPLIED, reopen_at, requester)
                last = reopen_at
        if ticket.closed_at and self.now - ticket.closed_at > datetime.timedelta(days=30) and rnd.random() < 0.3:
            ticket.active_state = ActiveState.ARCHIVED
            last = ticket.closed_at + datetime.timedelta(days=rnd.randint(1, 20))

        public = [r for r in life.replies if r.type == ReplyType.REPLY]
        agent_replies = [r for r in public if r.author.is_staff]
        ticket.replies_count = len(public)
        ticket.notes_count = len(life.replies) - len(public)
        ticket.last_reply_at = public[-1].created_at if public else None
        ticket.first_response_at = agent_replies[0].created_at if agent_replies else None
        ticket.updated_at = min(last, self.now)
        ticket.time_spent = minutes
        return life

    def custom_values(self, department: str) -> dict[str, Any]:
        rnd, values = self.rnd, {}
        if department == "Billing":
            values["order_number"] = f"INV-{rnd.randint(2024000, 2026999)}"
        if department == "Technical":
            values["environment"] = rnd.choice(["production", "production", "staging", "development"])
            values["affected_users"] = rnd.choice([1, 3, 12, 40, 250])
        if department == "Sales" and rnd.random() < 0.7:
            values["renewal_date"] = (self.now + datetime.timedelta(days=rnd.randint(10, 300))).date().isoformat()
        if rnd.random() < 0.1:
            values["sla_breached"] = True
        return values

    # --- flush and report ----------------------------------------------------------------

    def flush(self) -> None:
        clients = Client.objects.filter(external_id__startswith=DEMO_PREFIX)
        Ticket.objects.filter(client__in=clients).delete()
        get_user_model().objects.filter(helpdesk_contact__client__in=clients).delete()
        clients.delete()
        # Reference data goes only where nothing else uses it.
        Department.objects.filter(name__in=[d[1] for d in DEPARTMENTS]).annotate(n=Count("tickets")).filter(
            n=0).delete()
        Tag.objects.filter(name__in=TAGS).annotate(n=Count("tickets")).filter(n=0).delete()
        # The agents and custom fields stay: they may have been put to real use since.
        self.stdout.write("Removed the demo data.")

    def report(self, admin: Any, key: str, base: str) -> None:
        try:
            admin_url = base + reverse("admin:index")
        except NoReverseMatch:
            admin_url = base + "/admin/"
        counts = (f"{Ticket.objects.count()} tickets, {Reply.objects.count()} replies and notes, "
                  f"{Client.objects.count()} clients, {Contact.objects.count()} contacts")
        password = DEMO_PASSWORD if self.admin_created else f"{DEMO_PASSWORD} (unless you changed it)"
        lines = [
            "",
            self.style.SUCCESS(f"Helpdesk demo ready: {counts}."),
            f"  Admin:    {admin_url}",
            f"  Login:    username {ADMIN_USERNAME}  password {password}",
            f"  Agents:   {', '.join(a[0] for a in AGENTS)} (same password)",
            f"  API key:  {key}",
            "            (shown once; stored hashed. Running helpdesk_demo again makes a new one.)",
        ]
        try:
            resolve("/api/tickets")
        except Resolver404:
            pass
        else:
            lines.append(f'  Try:      curl -H "Authorization: Bearer {key}" {base}/api/tickets')
        lines += [
            "  Mail in:  python manage.py helpdesk_mail_ingest < message.eml",
            "            (any RFC 5322 mail, e.g. tests/mail/corpus/attachments.eml; `make demo-mail` sends one),",
            "            or add an IMAP/POP3 mailbox in the admin (Mailboxes) and run",
            "            python manage.py helpdesk_mail_fetch --watch",
            "  Mail out: acknowledgements and agents' replies are sent by the task worker (printed",
            "            on its console in debug); see the admin's Mail messages.",
        ]
        self.stdout.write("\n".join(lines) + "\n")
