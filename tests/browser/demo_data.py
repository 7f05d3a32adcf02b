"""Demo-like data for the browser tests and the README screenshots, written through the
services (so history, dates and counters are real), spread over the last 30 days."""

from __future__ import annotations

import datetime
import random

from django.utils import timezone

from helpdesk import services
from helpdesk.models import ReplyType, StatusChange, Ticket, TicketStatus
from tests import factories

SUBJECTS = [
    "Cannot log in after password reset", "Invoice shows the wrong VAT rate", "Export to CSV times out",
    "Two-factor codes are not arriving", "Please add a second admin to our account", "API returns 502 on large uploads",
    "Dashboard loads very slowly since Monday", "Refund for duplicate charge", "SSO with Okta stops working",
    "Feature request: dark mode for reports", "Webhook retries flood our endpoint", "Cannot change billing email",
    "Mobile app crashes when opening attachments", "Data import skipped 40 rows", "Upgrade to the annual plan",
    "Calendar sync shows events twice", "Password policy too strict for our team", "Where can I find the audit log?",
    "Search ignores accented characters", "Attachment limit of 10 MB is too small", "Trial extension request",
    "Permissions: viewers can edit projects", "E-mail notifications arrive in spam", "Cancel our subscription",
]
AGENT_REPLIES = [
    "Thanks for reaching out! Could you send us a screenshot of the error and the time it happened?",
    "Thanks, that helped: we found the cause and deployed a fix. Could you check whether it works for you now?",
    "Following up: is everything working for you now?",
]
CUSTOMER_REPLIES = [
    "Here is the screenshot you asked for. It happens every time I try.",
    "It works now, thank you for the quick help!",
    "All good on our side.",
]
NOTES = [
    "Reproduced on staging. Looks related to last week's release; asked the platform team.",
    "Customer is on the enterprise plan, SLA is 4 hours. Escalating.",
    "Billing confirmed the duplicate charge; refund issued.",
]


def build(*, tickets: int = 48, seed: int = 7) -> dict:
    """Create agents, clients, departments and ``tickets`` tickets with conversations."""
    rng = random.Random(seed)
    now = timezone.now()
    admin = factories.SuperuserFactory(username="admin", first_name="Alex", last_name="Morgan", email="alex@helpdesk.test")
    agents = [
        admin,
        factories.AgentFactory(username="sam", first_name="Sam", last_name="Rivera"),
        factories.AgentFactory(username="priya", first_name="Priya", last_name="Shah"),
    ]
    departments = [factories.DepartmentFactory(name=n) for n in ("Billing", "Technical support", "Sales", "Onboarding")]
    clients = [factories.ClientFactory(name=n) for n in (
        "Acme Inc", "Globex", "Initech", "Umbrella Health", "Stark Logistics", "Wayne Retail", "Hooli", "Soylent Foods",
    )]
    contacts = [
        factories.ContactFactory(
            client=c, user=factories.UserFactory(
                username=f"contact{i}", first_name=f, last_name=l,
                email=f"{f.lower()}@{c.name.split()[0].lower()}.example",
            ),
        )
        for i, (c, f, l) in enumerate(zip(
            clients, ["Maria", "Tom", "Lena", "Omar", "Julia", "Ken", "Ada", "Noah"],
            ["Lopez", "Becker", "Novak", "Haddad", "Kim", "Sato", "Okafor", "Berg"],
        ))
    ]
    statuses = {s.pk: s for s in TicketStatus.objects.all()}
    created = []
    for i in range(tickets):
        contact = contacts[i % len(contacts)]
        age = datetime.timedelta(days=rng.uniform(0, 29), hours=rng.uniform(0, 8))
        opened = now - age
        ticket = services.ticket_create(
            subject=SUBJECTS[i % len(SUBJECTS)], message=(
                "Hello,\n\nsince this morning we see the problem described in the subject. "
                "It affects several people on our team. Can you help?\n\nThanks"
            ),
            department=departments[i % len(departments)], client=contact.client, requester=contact.user,
            creator=contact.user, priority=rng.choice([1, 1, 1, 2, 2, 3]),
            tags=rng.sample(["billing", "login", "bug", "vip", "api", "mobile"], k=rng.randint(0, 2)),
            assignees=[rng.choice(agents)] if rng.random() < 0.7 else [], silent=True,
        )
        Ticket.objects.filter(pk=ticket.pk).update(created_at=opened, updated_at=opened, status_changed_at=opened)
        StatusChange.objects.filter(ticket=ticket).update(changed_at=opened)
        ticket.refresh_from_db()
        at = opened
        # Nothing happens "just now": the last event is minutes to hours ago.
        latest = max(opened, now - datetime.timedelta(minutes=rng.uniform(4, 300)))
        for n in range(rng.randint(0, 4)):
            at = min(at + datetime.timedelta(hours=rng.uniform(0.3, 20)), latest)
            agent_turn = n % 2 == 0
            if agent_turn and rng.random() < 0.3:
                services.reply_post(ticket=ticket, author=rng.choice(agents), text=rng.choice(NOTES),
                                    type=ReplyType.NOTE, at=at, silent=True)
            else:
                author, texts = (rng.choice(agents), AGENT_REPLIES) if agent_turn else (contact.user, CUSTOMER_REPLIES)
                services.reply_post(ticket=ticket, author=author, text=texts[min(n // 2, 2)], at=at, silent=True)
        target = rng.choice([1, 1, 2, 2, 3, 4, 4, 5])
        if target != ticket.status_id:
            at = min(at + datetime.timedelta(hours=rng.uniform(0.5, 30)), latest)
            services.ticket_change_status(ticket=ticket, status=statuses[target], by=rng.choice(agents), at=at, silent=True)
        created.append(ticket)
    return {"admin": admin, "agents": agents, "clients": clients, "departments": departments, "tickets": created}
