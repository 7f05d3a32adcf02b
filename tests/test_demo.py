"""``manage.py helpdesk_demo``: realistic, consistent, idempotent demo data and a working login."""

import io
import re

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Max, Min
from django.utils import timezone

from helpdesk.models import (
    APIKey,
    Client,
    ClientDomain,
    Contact,
    CustomField,
    Department,
    Reply,
    ReplyType,
    StatusChange,
    Tag,
    Ticket,
)

pytestmark = pytest.mark.django_db


def demo(*args, **kwargs):
    out = io.StringIO()
    call_command("helpdesk_demo", *args, force=True, stdout=out, **kwargs)
    return out.getvalue()


@pytest.fixture
def loaded():
    return demo("--tickets", "120")


def test_prints_a_working_login_and_api_key(loaded):
    assert "http://127.0.0.1:8000/admin/" in loaded
    username, password = re.search(r"username (\S+)\s+password (\S+)", loaded).groups()
    user = authenticate(username=username, password=password)
    assert user is not None and user.is_superuser and user.is_staff
    key = re.search(r"API key:\s+(\S+)", loaded).group(1)
    assert APIKey.objects.get_from_key(key).user == user


def test_loads_realistic_reference_data(loaded):
    assert Ticket.objects.count() == 120
    assert list(Department.objects.filter(is_default=True).values_list("name", flat=True)) == ["Support"]
    assert Department.objects.count() >= 5 and CustomField.objects.count() >= 5 and Tag.objects.count() >= 10
    assert Client.objects.count() >= 10
    for client in Client.objects.all():
        assert ClientDomain.objects.filter(client=client).exists()
        assert Contact.objects.filter(client=client).count() >= 2
    agents = get_user_model().objects.filter(is_staff=True, is_superuser=False)
    assert agents.count() >= 5 and all(a.groups.filter(name="Helpdesk agents").exists() for a in agents)


def test_tickets_have_everything_the_admin_and_api_show(loaded):
    tickets = Ticket.objects.all()
    assert Reply.objects.filter(type=ReplyType.NOTE).exists()
    assert tickets.filter(tags__isnull=False).distinct().count() > 60
    assert tickets.filter(assignees__isnull=False).distinct().count() > 60
    assert tickets.exclude(custom_fields={}).exists() and tickets.exclude(external_id=None).exists()
    assert tickets.filter(active_state="archived").exists()
    assert set(tickets.values_list("status_id", flat=True)) == {1, 2, 3, 4, 5}
    assert set(tickets.values_list("priority", flat=True)) == {1, 2, 3}
    now = timezone.now()
    spread = tickets.aggregate(first=Min("created_at"), last=Max("created_at"))
    assert (now - spread["first"]).days >= 40 and (now - spread["last"]).days <= 5
    assert tickets.filter(created_at__lte=now - timezone.timedelta(days=60)).count() == 0


def test_every_ticket_is_consistent_with_what_the_services_write(loaded):
    """Counters, dates and history obey the same rules as ``helpdesk.services``."""
    now = timezone.now()
    for ticket in Ticket.objects.prefetch_related("replies__author", "status_changes__to_status",
                                                  "status_changes__from_status").select_related("status"):
        replies = sorted(ticket.replies.all(), key=lambda r: (r.created_at, r.pk))
        public = [r for r in replies if r.type == ReplyType.REPLY]
        notes = [r for r in replies if r.type == ReplyType.NOTE]
        agent_public = [r for r in public if r.author.is_staff]
        assert ticket.replies_count == len(public) and ticket.notes_count == len(notes), ticket
        assert ticket.last_reply_at == (public[-1].created_at if public else None), ticket
        assert ticket.first_response_at == (agent_public[0].created_at if agent_public else None), ticket
        assert all(r.author.is_staff for r in notes)
        assert all(r.author.is_staff or r.author.helpdesk_contact.client_id == ticket.client_id for r in public)

        changes = sorted(ticket.status_changes.all(), key=lambda c: (c.changed_at, c.pk))
        assert changes[0].from_status is None and changes[0].changed_at == ticket.created_at
        for before, after in zip(changes, changes[1:]):
            assert after.from_status == before.to_status and after.from_status != after.to_status
        assert changes[-1].to_status == ticket.status
        assert ticket.status_changed_at == changes[-1].changed_at
        if ticket.status.is_closed:
            entered = [c for c in changes if c.to_status.is_closed and not (c.from_status and c.from_status.is_closed)]
            assert ticket.closed_at == entered[-1].changed_at
        else:
            assert ticket.closed_at is None
        events = [ticket.created_at] + [r.created_at for r in replies] + [c.changed_at for c in changes]
        assert ticket.created_at == min(events) and max(events) <= ticket.updated_at <= now, ticket
        if ticket.project_id:
            assert ticket.project.client_id == ticket.client_id
        assert ticket.requester.helpdesk_contact.client_id == ticket.client_id


def test_running_again_adds_nothing_but_a_new_key(loaded):
    counts = [m.objects.count() for m in (Ticket, Reply, StatusChange, Client, Contact, Department, Tag, CustomField)]
    users = get_user_model().objects.count()
    again = demo("--tickets", "120")
    assert "already loaded" in again
    assert [m.objects.count() for m in (Ticket, Reply, StatusChange, Client, Contact, Department, Tag,
                                        CustomField)] == counts
    assert get_user_model().objects.count() == users
    old_key = re.search(r"API key:\s+(\S+)", loaded).group(1)
    new_key = re.search(r"API key:\s+(\S+)", again).group(1)
    assert new_key != old_key and APIKey.objects.get_from_key(new_key) is not None
    assert APIKey.objects.count() == 1  # the previous demo key is replaced, not piled up


def test_a_changed_admin_password_is_kept(loaded):
    admin = get_user_model().objects.get(username="admin")
    admin.set_password("mine")
    admin.save()
    out = demo()
    assert authenticate(username="admin", password="mine") is not None
    assert "unless you changed it" in out


def test_flush_reloads_with_the_new_size(loaded):
    clients, contacts, users = Client.objects.count(), Contact.objects.count(), get_user_model().objects.count()
    out = demo("--flush", "--tickets", "30")
    assert "Removed the demo data" in out
    assert Ticket.objects.count() == 30
    assert (Client.objects.count(), Contact.objects.count(), get_user_model().objects.count()) == (
        clients, contacts, users)


def test_flush_keeps_data_that_is_not_the_demos(loaded, agent):
    from helpdesk import services

    own_client = Client.objects.create(name="Real customer")
    support = Department.objects.get(name="Support")
    mine = services.ticket_create(subject="real", message="m", department=support, client=own_client, tags=["vip"])
    demo("--flush", "--tickets", "5")
    assert Ticket.objects.filter(pk=mine.pk).exists()
    assert Department.objects.filter(name="Support").exists() and Tag.objects.filter(name="vip").exists()


def test_same_seed_same_data():
    demo("--tickets", "40", "--seed", "7")
    first = list(Ticket.objects.order_by("created_at").values_list("subject", "client__name", "priority",
                                                                   "replies_count"))
    demo("--flush", "--tickets", "40", "--seed", "7")
    assert list(Ticket.objects.order_by("created_at").values_list("subject", "client__name", "priority",
                                                                  "replies_count")) == first


def test_refuses_to_run_with_debug_off_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("helpdesk_demo", stdout=io.StringIO())
    assert not get_user_model().objects.filter(username="admin").exists()


def test_runs_with_debug_on(settings):
    settings.DEBUG = True
    call_command("helpdesk_demo", "--tickets", "3", stdout=io.StringIO())
    assert Ticket.objects.count() == 3


def test_negative_ticket_count_is_an_error():
    with pytest.raises(CommandError, match="--tickets"):
        demo("--tickets", "-1")


def test_the_api_docs_examples_run_against_the_demo(loaded, client):
    """The CRM seed's curl examples name department 72 and client 1 ("Acme Inc"); the demo
    has them, so the examples in docs/api.md work on the demo as written."""
    sales = Department.objects.get(pk=72)
    assert sales.name == "Sales"
    acme = Client.objects.get(name="Acme Inc")
    key = re.search(r"API key:\s+(\S+)", loaded).group(1)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    body = {"ticket_clientid": acme.pk, "ticket_categoryid": 72, "ticket_subject": "Cannot log in",
            "ticket_message": "I get an error", "ticket_priority": "high"}
    r = client.post("/api/tickets", body, **auth)  # form-encoded, like curl -d
    assert r.status_code == 201, r.content
    assert r.json()["data"]["department"] == {"id": 72, "name": "Sales"}
    ticket = r.json()["data"]["id"]
    r = client.put(f"/api/tickets/{ticket}/status", "status=2", content_type="application/x-www-form-urlencoded", **auth)
    assert r.status_code == 200 and r.json()["data"]["status"] == {"id": 2, "title": "Closed"}
    r = client.post(f"/api/tickets/{ticket}/replies", {"ticketreply_text": "We are looking into this for you."}, **auth)
    assert r.status_code == 201


def test_new_departments_after_the_demo_get_fresh_ids(loaded):
    # The demo's fixed ids must not leave the id sequence behind them (PostgreSQL).
    assert Department.objects.create(name="Escalations").pk > 74
