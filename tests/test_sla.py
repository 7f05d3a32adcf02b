"""SLA policies: business-hours arithmetic, which policy a ticket gets, and due times the
services keep true on create, priority change and a pause while waiting on the customer."""

import datetime
import zoneinfo

import pytest
from django.core.exceptions import ValidationError

from helpdesk import services, sla
from helpdesk.models import Priority, Ticket, TicketStatus
from tests import factories

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def berlin(*args):
    return datetime.datetime(*args, tzinfo=BERLIN)


@pytest.fixture
def office(db):
    """Mon-Fri 09:00-17:00 Berlin; Friday 25 Dec 2026 a holiday."""
    calendar = factories.BusinessCalendarFactory(time_zone="Europe/Berlin", working_days="12345")
    factories.HolidayFactory(calendar=calendar, date=datetime.date(2026, 12, 25), name="Christmas")
    return calendar


def status(pk):
    return TicketStatus.objects.get(pk=pk)


def test_adding_business_minutes_skips_nights_weekends_and_holidays(office):
    cal = sla.Calendar(office)
    # Thursday 24 Dec 16:00 + 2 h: one hour on Thursday, Friday is a holiday, the weekend
    # is off, so the second hour ends Monday 28 Dec 10:00.
    assert cal.add(berlin(2026, 12, 24, 16), 120) == berlin(2026, 12, 28, 10)
    # Before opening the clock starts at 09:00.
    assert cal.add(berlin(2026, 12, 22, 7, 30), 30) == berlin(2026, 12, 22, 9, 30)
    assert cal.minutes_between(berlin(2026, 12, 24, 16), berlin(2026, 12, 28, 10)) == 120
    assert cal.minutes_between(berlin(2026, 12, 28, 10), berlin(2026, 12, 24, 16)) == 0


def test_around_the_clock_without_a_calendar():
    start = datetime.datetime(2026, 12, 26, 23, 0, tzinfo=datetime.UTC)
    assert sla.Calendar(None).add(start, 90) == start + datetime.timedelta(minutes=90)


def test_calendar_rejects_bad_time_zones_days_and_hours(db):
    with pytest.raises(ValidationError) as exc:
        factories.BusinessCalendarFactory.build(time_zone="Mars/Olympus", working_days="189").full_clean()
    assert set(exc.value.message_dict) == {"time_zone", "working_days"}
    bad_hours = factories.BusinessCalendarFactory.build(opens_at=datetime.time(17), closes_at=datetime.time(9))
    with pytest.raises(ValidationError) as exc:
        bad_hours.full_clean()
    assert "closes_at" in exc.value.message_dict


def test_most_specific_policy_wins(db):
    dept = factories.DepartmentFactory()
    acme = factories.ClientFactory()
    factories.SLAPolicyFactory(name="any urgent", priority=Priority.URGENT, first_response_minutes=30)
    factories.SLAPolicyFactory(name="dept", department=dept, first_response_minutes=45)
    factories.SLAPolicyFactory(name="acme", client=acme, first_response_minutes=15)
    factories.SLAPolicyFactory(name="inactive", client=acme, priority=Priority.URGENT, is_active=False)
    urgent = services.ticket_create(subject="s", message="m", department=factories.DepartmentFactory(),
                                    client=factories.ClientFactory(), priority="urgent", silent=True)
    assert urgent.sla_policy.name == "any urgent"
    in_dept = services.ticket_create(subject="s", message="m", department=dept, client=factories.ClientFactory(),
                                     priority="urgent", silent=True)
    assert in_dept.sla_policy.name == "dept"
    for_acme = services.ticket_create(subject="s", message="m", department=dept, client=acme, priority="urgent",
                                      silent=True)
    assert for_acme.sla_policy.name == "acme"


def make_ticket(**kwargs):
    return services.ticket_create(subject="Printer", message="On fire", department=factories.DepartmentFactory(),
                                  client=factories.ClientFactory(), silent=True, **kwargs)


def test_due_times_are_stored_at_create_and_follow_priority(office, monkeypatch):
    factories.SLAPolicyFactory(priority=Priority.NORMAL, calendar=office, first_response_minutes=240,
                               resolution_minutes=960)
    factories.SLAPolicyFactory(priority=Priority.URGENT, calendar=office, first_response_minutes=60,
                               resolution_minutes=240)
    monkeypatch.setattr("django.utils.timezone.now", lambda: berlin(2026, 12, 22, 10))  # a Tuesday
    ticket = make_ticket()
    assert ticket.first_response_due_at == berlin(2026, 12, 22, 14)
    assert ticket.resolution_due_at == berlin(2026, 12, 24, 10)  # 16 working hours: 7 + 8 + 1
    services.ticket_update(ticket=ticket, priority="urgent")
    ticket.refresh_from_db()
    assert ticket.first_response_due_at == berlin(2026, 12, 22, 11)
    assert ticket.resolution_due_at == berlin(2026, 12, 22, 14)


def test_waiting_on_the_customer_pauses_the_clock(office, monkeypatch):
    factories.SLAPolicyFactory(calendar=office, first_response_minutes=None, resolution_minutes=480)
    clock = {"now": berlin(2026, 12, 21, 9)}  # Monday 09:00
    monkeypatch.setattr("django.utils.timezone.now", lambda: clock["now"])
    ticket = make_ticket()
    assert ticket.resolution_due_at == berlin(2026, 12, 21, 17)
    clock["now"] = berlin(2026, 12, 21, 11)
    services.ticket_change_status(ticket=ticket, status=status(TicketStatus.ANSWERED))  # waiting on the customer
    ticket.refresh_from_db()
    assert ticket.sla_paused_at == berlin(2026, 12, 21, 11)
    assert sla.sla_state(ticket, now=berlin(2026, 12, 22, 12)).state == "paused"  # never breaches while paused
    assert not Ticket.objects.filter(sla.breaching_q(berlin(2026, 12, 22, 12))).exists()
    clock["now"] = berlin(2026, 12, 22, 10)  # the customer answers next morning: 7 working hours paused
    services.ticket_change_status(ticket=ticket, status=status(TicketStatus.CUSTOMER_REPLIED))
    ticket.refresh_from_db()
    assert ticket.sla_paused_at is None and ticket.sla_paused_minutes == 7 * 60
    assert ticket.resolution_due_at == berlin(2026, 12, 22, 16)


def test_breaching_and_what_the_agent_reads(office, monkeypatch):
    factories.SLAPolicyFactory(calendar=None, first_response_minutes=60, resolution_minutes=600)
    start = datetime.datetime(2026, 12, 22, 8, tzinfo=datetime.UTC)
    monkeypatch.setattr("django.utils.timezone.now", lambda: start)
    ticket = make_ticket()
    assert sla.sla_state(ticket, now=start + datetime.timedelta(minutes=20)).text == "due in 40 min"
    late = start + datetime.timedelta(hours=4)
    state = sla.sla_state(ticket, now=late)
    assert (state.state, state.target, state.text) == ("breached", "first_response", "breached 3 h ago")
    assert list(Ticket.objects.filter(sla.breaching_q(late))) == [ticket]
    # An agent answers: the next target is the resolution.
    monkeypatch.setattr("django.utils.timezone.now", lambda: late)
    services.reply_post(ticket=ticket, author=factories.AgentFactory(), text="On it", silent=True)
    ticket.refresh_from_db()
    state = sla.sla_state(ticket, now=late)
    assert (state.state, state.target, state.text) == ("running", "resolution", "due in 6 h")
    assert not Ticket.objects.filter(sla.breaching_q(late)).exists()
    services.ticket_change_status(ticket=ticket, status=status(TicketStatus.CLOSED))
    ticket.refresh_from_db()
    assert sla.sla_state(ticket).state == "missed"  # the first response was late


def test_no_policy_no_due_times(db):
    ticket = make_ticket()
    assert (ticket.sla_policy, ticket.first_response_due_at, ticket.resolution_due_at) == (None, None, None)
    assert sla.sla_state(ticket).state == "none"
