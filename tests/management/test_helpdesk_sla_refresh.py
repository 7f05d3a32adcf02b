"""``manage.py helpdesk_sla_refresh``: recomputes the open tickets' due times inline, with a
progress bar (or none with ``--quiet``), a summary, and clear errors."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command

from helpdesk import services, sla_refresh
from helpdesk.models import Ticket, TicketStatus
from tests import factories

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("helpdesk_sla_refresh", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def make(n, **kwargs):
    return [services.ticket_create(subject=f"T{k}", message="m", department=factories.DepartmentFactory(),
                                   client=factories.ClientFactory(), silent=True, **kwargs) for k in range(n)]


def minutes(t):
    t.refresh_from_db()
    return (t.first_response_due_at - t.created_at) // datetime.timedelta(minutes=1) if t.first_response_due_at else None


def test_refreshes_every_open_ticket_in_chunks_with_progress_and_a_summary(monkeypatch):
    monkeypatch.setattr(sla_refresh, "CHUNK", 2)
    tickets = make(5)
    closed = tickets[-1]
    services.ticket_change_status(ticket=closed, status=TicketStatus.objects.get(pk=TicketStatus.CLOSED))
    policy = factories.SLAPolicyFactory(first_response_minutes=30)  # no task runs in this test's transaction

    out, err = run()

    assert out.startswith("Looked at 4 tickets, updated 4 in ")
    assert "SLA due times" in err and "4/4" in err and "100%" in err
    assert [minutes(t) for t in tickets] == [30, 30, 30, 30, None]
    assert Ticket.objects.filter(sla_policy=policy).count() == 4
    out, err = run("--quiet")
    assert out.startswith("Looked at 4 tickets, updated 0 in ") and err == ""

    out, _ = run("--include-closed", "--quiet")
    assert out.startswith("Looked at 5 tickets, updated 1 in ")
    assert minutes(closed) == 30


def test_a_policy_or_a_calendar_alone():
    calendar = factories.BusinessCalendarFactory(working_days="1234567", opens_at=datetime.time(0),
                                                 closes_at=datetime.time(23, 59))
    vip = factories.DepartmentFactory()
    policy = factories.SLAPolicyFactory(department=vip, calendar=calendar, first_response_minutes=20)
    factories.SLAPolicyFactory(first_response_minutes=40)
    mine = services.ticket_create(subject="s", message="m", department=vip, client=factories.ClientFactory(),
                                  silent=True)
    other = make(1)[0]
    Ticket.objects.update(first_response_due_at=None)

    out, _ = run("--policy", str(policy.pk), "--quiet")
    assert out.startswith("Looked at 1 tickets, updated 1")
    assert (minutes(mine), minutes(other)) == (20, None)
    Ticket.objects.update(first_response_due_at=None)
    out, _ = run("--calendar", str(calendar.pk), "--quiet")
    assert out.startswith("Looked at 1 tickets, updated 1")
    assert minutes(mine) is not None and minutes(other) is None


@pytest.mark.parametrize("args, message", [
    (["--policy", "999"], "No SLA policy has the id 999."),
    (["--calendar", "999"], "No business calendar has the id 999."),
    (["--policy", "1", "--calendar", "1"], "Give --policy or --calendar, not both."),
])
def test_errors_are_said_plainly(args, message):
    with pytest.raises(CommandError) as exc:
        run(*args)
    assert str(exc.value) == message


def test_nothing_to_do_without_tickets():
    out, _ = run("--quiet")
    assert out.startswith("Looked at 0 tickets, updated 0")
