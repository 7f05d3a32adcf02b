"""Tickets written by the bulk upsert (``helpdesk.sync``: ``PUT /tickets``, the Planhat
dialect, ``helpdesk_import``) get their SLA policy, due times and pause by the rules the
services use, in bulk: the statements per request do not grow with the items, and with no
active policy no SLA statement runs at all."""

import copy
import datetime
import io
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpdesk import services, sla
from helpdesk.models import Priority, Ticket, TicketStatus
from helpdesk.sync import ticket_bulk_upsert

from . import factories

# The sync tests' department and client, and the SLA tests' calendar (fixtures).
from .test_sla import berlin, office  # noqa: E402,F401
from .test_sync import acme, department, item  # noqa: E402,F401


@pytest.fixture
def policies(office):
    normal = factories.SLAPolicyFactory(name="normal", priority=Priority.NORMAL, calendar=office,
                                        first_response_minutes=240, resolution_minutes=960)
    urgent = factories.SLAPolicyFactory(name="urgent", priority=Priority.URGENT, calendar=office,
                                        first_response_minutes=60, resolution_minutes=240)
    return normal, urgent


def upsert(items, by=None):
    result = ticket_bulk_upsert(items=copy.deepcopy(items), by=by)
    assert result.ok, result.errors
    return result


def test_a_synced_ticket_gets_the_due_times_the_services_would_give_it(department, acme, policies):
    normal, urgent = policies
    # Tuesday 22 Dec 2026 10:00 Berlin: 4 working hours to respond, 16 to resolve.
    upsert([item(1, createdAt="2026-12-22T09:00:00Z", status="open"),
            item(2, createdAt="2026-12-22T09:00:00Z", status="open", priority="urgent")])

    first, second = Ticket.objects.order_by("external_id")
    assert first.sla_policy == normal
    assert (first.first_response_due_at, first.resolution_due_at) == (berlin(2026, 12, 22, 14), berlin(2026, 12, 24, 10))
    assert second.sla_policy == urgent
    assert (second.first_response_due_at, second.resolution_due_at) == (berlin(2026, 12, 22, 11), berlin(2026, 12, 22, 14))
    # Exactly what the services' rule computes for the same ticket.
    for ticket in (first, second):
        expected = sla.ticket_sla_fields(ticket, at=ticket.status_changed_at)
        assert {f: getattr(ticket, f) for f in sla.FIELDS} == expected


def test_an_imported_history_pauses_the_clock_while_it_waited_on_the_customer(department, acme, policies):
    # Open Monday 09:00, answered (waiting on the customer) at 11:00, the customer replied
    # Tuesday 10:00: 7 working hours paused, so resolution (16 h) moves by 7 h.
    history = [{"status": "Open", "time": "2026-11-23T08:00:00Z"},
               {"status": "Answered", "time": "2026-11-23T10:00:00Z"},
               {"status": "Customer Replied", "time": "2026-11-24T09:00:00Z"}]
    upsert([item(1, history=history), item(2, history=history[:2])])

    replied, waiting = Ticket.objects.order_by("external_id")
    assert (replied.sla_paused_at, replied.sla_paused_minutes) == (None, 7 * 60)
    # 16 + 7 working hours from Monday 09:00: Mon 8, Tue 8, Wed 7 -> Wednesday 16:00.
    assert replied.resolution_due_at == berlin(2026, 11, 25, 16)
    assert waiting.sla_paused_at == berlin(2026, 11, 23, 11) and waiting.sla_paused_minutes == 0
    assert sla.sla_state(waiting, now=berlin(2026, 12, 30, 12)).state == "paused"


def test_updates_through_the_sync_keep_the_due_times_true(department, acme, policies, monkeypatch):
    upsert([item(1, createdAt="2026-12-22T09:00:00Z", status="open")])
    ticket = Ticket.objects.get()
    assert ticket.first_response_due_at == berlin(2026, 12, 22, 14)

    upsert([item(1, priority="urgent")])  # priority: the urgent policy's targets
    ticket.refresh_from_db()
    assert ticket.sla_policy.name == "urgent"
    assert ticket.first_response_due_at == berlin(2026, 12, 22, 11)

    # Waiting on the customer from Tuesday 12:00 until the customer replies Wednesday 10:00.
    upsert([item(1, status="Answered", updatedAt="2026-12-22T11:00:00Z")])
    ticket.refresh_from_db()
    assert ticket.sla_paused_at == berlin(2026, 12, 22, 12)
    upsert([item(1, status="Customer Replied", updatedAt="2026-12-23T09:00:00Z")])
    ticket.refresh_from_db()
    assert (ticket.sla_paused_at, ticket.sla_paused_minutes) == (None, 6 * 60)
    assert ticket.resolution_due_at == berlin(2026, 12, 23, 12)  # 4 h + 6 h paused from Tue 10:00

    # Re-sending the same item changes nothing, not even "last updated".
    before = Ticket.objects.values().get()
    upsert([item(1, status="Customer Replied", updatedAt="2026-12-23T09:00:00Z")])
    assert Ticket.objects.values().get() == before

    # A department of its own with a policy of its own: moving the ticket there applies it.
    vip = factories.DepartmentFactory(name="VIP")
    factories.SLAPolicyFactory(name="vip", department=vip, calendar=None, first_response_minutes=30,
                               resolution_minutes=120)
    upsert([item(1, departmentId=vip.pk)])
    ticket.refresh_from_db()
    assert ticket.sla_policy.name == "vip"
    assert ticket.first_response_due_at == ticket.created_at + datetime.timedelta(minutes=30 + 6 * 60)

    # Closing settles nothing open: the state reads "met" or "missed", never "breached".
    upsert([item(1, status="Closed", updatedAt="2026-12-23T10:00:00Z")])
    ticket.refresh_from_db()
    assert ticket.closed_at is not None and sla.sla_state(ticket).state == "missed"


def test_an_sla_only_change_rewrites_the_row_but_is_no_update(department, acme, policies):
    upsert([item(1, createdAt="2026-12-22T09:00:00Z", updatedAt="2026-12-22T09:00:00Z")])
    normal, _urgent = policies
    # Changed under the sync (a queryset update sends no signal, so no refresh task runs).
    type(normal).objects.filter(pk=normal.pk).update(first_response_minutes=120)
    ticket = Ticket.objects.get()
    upsert([item(1)])
    fresh = Ticket.objects.get()
    assert fresh.first_response_due_at == berlin(2026, 12, 22, 12)
    assert fresh.updated_at == ticket.updated_at


def _statements(items, by):
    by = type(by).objects.get(pk=by.pk)
    with CaptureQueriesContext(connection) as ctx:
        upsert(items, by=by)
    return [q["sql"] for q in ctx.captured_queries
            if not (connection.vendor == "sqlite" and q["sql"].startswith("INSERT"))]


def full_item(n, agent, **extra):
    return item(
        n, email=f"person{n}@co{n}.example", domains=[f"co{n}.example"], agentEmail=agent.email,
        tags=[f"tag{n}", "common"], status="Answered" if n % 3 == 0 else ("closed" if n % 2 else "open"),
        history=[{"status": "open", "time": f"2026-01-{1 + n % 28:02d}T00:00:00Z"}],
        createdAt="2026-01-01T00:00:00Z", priority=["normal", "high", "urgent"][n % 3], **extra,
    )


def test_sla_statements_do_not_grow_with_the_items(department, agent, policies):
    _statements([full_item(1000, agent)], agent)  # fills the reference cache first
    small_create = _statements([full_item(n, agent) for n in range(10)], agent)
    big_create = _statements([full_item(n, agent) for n in range(100, 300)], agent)
    small_update = _statements([full_item(n, agent, title="again") for n in range(10)], agent)
    big_update = _statements([full_item(n, agent, title="again") for n in range(100, 300)], agent)

    assert len(big_create) == len(small_create)
    assert len(big_update) == len(small_update)
    # The rules are read once per request: the policies (with calendars) and the holidays.
    assert sum("helpdesk_slapolicy" in sql for sql in big_create) == 1
    assert sum("helpdesk_holiday" in sql for sql in big_create) == 1
    # Normal and urgent tickets have a policy; high ones none (the fixture has no such policy).
    assert not Ticket.objects.exclude(priority=Priority.HIGH).filter(first_response_due_at__isnull=True).exists()
    assert not Ticket.objects.filter(priority=Priority.HIGH, sla_policy__isnull=False).exists()


def test_without_an_active_policy_no_sla_statement_runs(department, agent, office):
    factories.SLAPolicyFactory(is_active=False, calendar=office)
    _statements([full_item(1000, agent)], agent)  # fills the reference cache first
    create = _statements([full_item(n, agent) for n in range(20)], agent)
    update = _statements([full_item(n, agent, title="again") for n in range(20)], agent)

    for sql in create + update:
        assert "helpdesk_slapolicy" not in sql and "helpdesk_holiday" not in sql
    assert not Ticket.objects.filter(sla_policy__isnull=False).exists()
    assert not Ticket.objects.filter(first_response_due_at__isnull=False).exists()
    # The pause is kept all the same (as the services keep it): ready for a policy later.
    assert Ticket.objects.filter(status_id=TicketStatus.ANSWERED, sla_paused_at__isnull=False).count() == 7


def test_the_native_put_and_the_import_command_give_synced_tickets_an_sla(department, acme, policies, agent,
                                                                          tmp_path):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(agent)
    response = api.put("/api/tickets", [item(1, createdAt="2026-12-22T09:00:00Z")], format="json")
    assert response.status_code == 200, response.content
    ticket_id = response.json()["insertsKeys"][0]["_id"]
    data = api.get(f"/api/tickets/{ticket_id}").json()["data"]
    assert data["sla"]["policy_id"] == policies[0].pk
    assert data["sla"]["first_response_due"] == "2026-12-22T13:00:00Z"

    path = tmp_path / "tickets.json"
    path.write_text(json.dumps([item(2, createdAt="2026-12-22T09:00:00Z", priority="urgent")]))
    call_command("helpdesk_import", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    imported = Ticket.objects.get(external_id="2")
    assert imported.sla_policy == policies[1]
    assert imported.first_response_due_at == berlin(2026, 12, 22, 11)


def test_the_service_and_the_sync_agree_on_a_ticket_the_service_made(department, acme, policies, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: berlin(2026, 12, 22, 10))
    ticket = services.ticket_create(subject="Printer", message="On fire", department=department, client=acme,
                                    silent=True, priority="urgent")
    ticket.external_source, ticket.external_id = "zendesk", "9"
    ticket.save(update_fields=["external_source", "external_id"])
    before = {f: getattr(ticket, f) for f in sla.FIELDS}
    upsert([item(9, title="Printer (synced)")])
    ticket.refresh_from_db()
    assert {f: getattr(ticket, f) for f in sla.FIELDS} == before
