"""A changed SLA policy, business calendar or holiday refreshes the stored due times of the
open tickets it affects: a task queued on commit (``helpdesk.sla_refresh``), run by the
database backend's worker, chunked by id, idempotent and retried."""

import datetime
import zoneinfo

import django
import pytest
from django.core.management import call_command
from django.db import OperationalError, transaction
from django_tasks_db.models import DBTaskResult

from helpdesk import services, sla, sla_refresh
from helpdesk.models import Priority, SLAPolicy, Ticket, TicketStatus
from tests import factories
from tests.events.test_tasks import run_worker

pytestmark = pytest.mark.django_db(transaction=True)

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
BUILTIN = "django.tasks.backends" if django.VERSION >= (6, 0) else "django_tasks.backends"
TASK = "helpdesk.sla_refresh.refresh_sla_task"


@pytest.fixture
def db_backend(settings, default_statuses):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.HELPDESK = {"TASK_RETRY_BACKOFF_SECONDS": 0}


def refresh_tasks():
    return [r for r in DBTaskResult.objects.order_by("enqueued_at") if r.task_path == TASK]


def ticket(**kwargs):
    kwargs.setdefault("department", factories.DepartmentFactory())
    return services.ticket_create(subject="Printer", message="On fire", client=factories.ClientFactory(),
                                  silent=True, **kwargs)


def due(t):
    t.refresh_from_db()
    return t.first_response_due_at - t.created_at if t.first_response_due_at else None


def test_a_changed_policy_refreshes_the_open_tickets_when_the_worker_runs(db_backend):
    policy = factories.SLAPolicyFactory(first_response_minutes=60)
    open_ticket, closed_ticket = ticket(), ticket()
    services.ticket_change_status(ticket=closed_ticket, status=TicketStatus.objects.get(pk=TicketStatus.CLOSED))
    run_worker()  # the policy's own creation queued a refresh too

    policy.first_response_minutes = 30
    policy.save()
    assert len(refresh_tasks()) == 2 and refresh_tasks()[-1].status == "READY"
    assert due(open_ticket) == datetime.timedelta(minutes=60)  # not inside the save
    run_worker()
    assert refresh_tasks()[-1].status == "SUCCESSFUL"
    assert refresh_tasks()[-1].return_value == {"looked_at": 1, "changed": 1}
    assert due(open_ticket) == datetime.timedelta(minutes=30)
    assert due(closed_ticket) == datetime.timedelta(minutes=60)  # closed: its record stands


def test_a_new_policy_applies_to_the_tickets_it_matches_and_a_deleted_one_lets_go(db_backend):
    vip = factories.DepartmentFactory(name="VIP")
    factories.SLAPolicyFactory(name="any", first_response_minutes=240)
    in_vip, elsewhere = ticket(department=vip), ticket()
    urgent = ticket(priority="urgent")
    run_worker()

    special = factories.SLAPolicyFactory(name="vip", department=vip, first_response_minutes=15)
    factories.SLAPolicyFactory(name="urgent", priority=Priority.URGENT, first_response_minutes=20)
    run_worker()
    assert [due(t) for t in (in_vip, elsewhere, urgent)] == [datetime.timedelta(minutes=m) for m in (15, 240, 20)]
    assert Ticket.objects.get(pk=in_vip.pk).sla_policy == special

    special.delete()  # the ticket's foreign key is cleared at once; the due times by the task
    run_worker()
    in_vip.refresh_from_db()
    assert in_vip.sla_policy.name == "any" and due(in_vip) == datetime.timedelta(minutes=240)

    SLAPolicy.objects.get(name="any").delete()
    SLAPolicy.objects.get(name="urgent").delete()
    run_worker()
    for t in (in_vip, elsewhere, urgent):
        t.refresh_from_db()
        assert (t.sla_policy, t.first_response_due_at, t.resolution_due_at) == (None, None, None)


def test_a_holiday_added_to_a_calendar_moves_the_due_times(db_backend):
    calendar = factories.BusinessCalendarFactory(time_zone="Europe/Berlin", working_days="12345")
    factories.SLAPolicyFactory(calendar=calendar, first_response_minutes=120, resolution_minutes=None)
    t = ticket()
    monday = datetime.datetime(2026, 12, 21, 16, tzinfo=BERLIN)
    Ticket.objects.filter(pk=t.pk).update(created_at=monday)
    call_command("helpdesk_sla_refresh", "--quiet", stdout=_null(), stderr=_null())
    t.refresh_from_db()
    assert t.first_response_due_at == datetime.datetime(2026, 12, 22, 10, tzinfo=BERLIN)
    run_worker()

    factories.HolidayFactory(calendar=calendar, date=datetime.date(2026, 12, 22))
    run_worker()
    t.refresh_from_db()
    assert t.first_response_due_at == datetime.datetime(2026, 12, 23, 10, tzinfo=BERLIN)

    calendar.working_days = "1245"  # Wednesdays off too
    calendar.save()
    run_worker()
    t.refresh_from_db()
    assert t.first_response_due_at == datetime.datetime(2026, 12, 24, 10, tzinfo=BERLIN)


def test_a_calendar_saved_with_its_holidays_queues_one_refresh(db_backend):
    calendar = factories.BusinessCalendarFactory()
    run_worker()
    with transaction.atomic():
        calendar.save()
        for day in (24, 25, 26):
            factories.HolidayFactory(calendar=calendar, date=datetime.date(2026, 12, day))
        assert not refresh_tasks()[1:]
    assert len(refresh_tasks()) == 2


def test_a_rolled_back_change_queues_nothing(db_backend):
    policy = factories.SLAPolicyFactory()
    run_worker()
    with pytest.raises(RuntimeError), transaction.atomic():
        policy.first_response_minutes = 5
        policy.save()
        raise RuntimeError("the admin form failed")
    assert len(refresh_tasks()) == 1


def test_the_work_goes_in_chunks_of_ids_each_task_queuing_the_rest(db_backend, monkeypatch):
    monkeypatch.setattr(sla_refresh, "CHUNK", 2)
    monkeypatch.setattr(sla_refresh, "CHUNKS_PER_TASK", 1)
    tickets = [ticket() for _ in range(5)]
    factories.SLAPolicyFactory(first_response_minutes=45)
    run_worker()
    tasks = refresh_tasks()
    assert [r.status for r in tasks] == ["SUCCESSFUL"] * 3
    assert [r.args_kwargs["args"][1:] for r in tasks] == [[], [tickets[1].pk], [tickets[3].pk]]
    assert [r.return_value["changed"] for r in tasks] == [2, 2, 1]
    assert all(due(t) == datetime.timedelta(minutes=45) for t in tickets)


def test_running_a_refresh_twice_changes_nothing_the_second_time(db_backend):
    factories.SLAPolicyFactory(first_response_minutes=45)
    ticket(), ticket()
    Ticket.objects.update(first_response_due_at=None, sla_policy=None)
    assert sla_refresh.refresh()[1:] == (2, 2)
    before = list(Ticket.objects.values())
    assert sla_refresh.refresh()[1:] == (2, 0)
    assert list(Ticket.objects.values()) == before


def test_a_failing_refresh_is_retried_and_the_failure_stays_visible(db_backend, monkeypatch):
    t = ticket()
    original = sla_refresh._write
    calls = []

    def flaky(changed):
        calls.append(len(changed))
        if len(calls) == 1:
            raise OperationalError("the database went away")
        original(changed)

    monkeypatch.setattr(sla_refresh, "_write", flaky)
    factories.SLAPolicyFactory(first_response_minutes=45)
    run_worker()
    assert [r.status for r in refresh_tasks()] == ["FAILED", "SUCCESSFUL"]
    assert "the database went away" in refresh_tasks()[0].traceback
    assert due(t) == datetime.timedelta(minutes=45)


def test_the_immediate_backend_refreshes_when_the_admin_saves_a_policy(settings, default_statuses, admin_client):
    settings.TASKS = {"default": {"BACKEND": f"{BUILTIN}.immediate.ImmediateBackend"}}
    policy = factories.SLAPolicyFactory(name="Normal", first_response_minutes=60, resolution_minutes=480)
    t = ticket()
    response = admin_client.post(f"/admin/helpdesk/slapolicy/{policy.pk}/change/", {
        "name": "Normal", "is_active": "on", "priority": "", "department": "", "client": "", "calendar": "",
        "first_response_minutes": "90", "resolution_minutes": "480",
    })
    assert response.status_code == 302, response.content[:2000]
    assert due(t) == datetime.timedelta(minutes=90)
    assert sla.sla_state(Ticket.objects.get(pk=t.pk)).state == "running"


def _null():
    import io

    return io.StringIO()
