"""Long work as tasks: ``helpdesk_import --background`` and ``helpdesk_search_rebuild
--background``, run by the database backend's real worker."""

import io
import json

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection
from django_tasks_db.models import DBTaskResult

from helpdesk.models import Ticket
from helpdesk.search import search_tickets

from .. import factories
from ..test_sync_command import items

pytestmark = pytest.mark.django_db(transaction=True)


def run_worker():
    call_command("db_worker", batch=True, startup_delay=False, reload=False, interval=0, verbosity=0)


@pytest.fixture
def db_backend(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.HELPDESK = {"TASK_RETRY_BACKOFF_SECONDS": 0}


@pytest.fixture
def setup(default_statuses, db_backend):
    factories.DepartmentFactory(is_default=True)
    factories.ClientDomainFactory(domain="acme.com")
    return factories.AgentFactory(username="importer")


def background_import(path, *args):
    out = io.StringIO()
    call_command("helpdesk_import", str(path), "--background", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def stored_imports():
    try:
        return default_storage.listdir("helpdesk/imports")[1]
    except FileNotFoundError:
        return []


def test_a_background_import_is_kept_in_the_storage_and_run_by_the_worker(setup, tmp_path):
    path = tmp_path / "tickets.json"
    path.write_text(json.dumps(items(7)))

    out = background_import(path, "--user", "importer", "--chunk-size", "3")

    task = DBTaskResult.objects.get()
    assert f"Queued import task {task.id}" in out
    assert task.status == "READY" and Ticket.objects.count() == 0  # nothing inside the command
    assert len(stored_imports()) == 1
    path.unlink()  # the task reads the stored copy, not the caller's file
    run_worker()
    task.refresh_from_db()
    assert task.status == "SUCCESSFUL"
    assert task.return_value == {"created": 7, "updated": 0, "failed": 0, "items": 7}
    assert set(Ticket.objects.values_list("creator__username", flat=True)) == {"importer"}
    assert stored_imports() == []  # deleted once it ran


def test_running_the_import_task_twice_changes_nothing_more(setup, tmp_path):
    path = tmp_path / "tickets.json"
    path.write_text(json.dumps(items(3)))
    background_import(path)
    background_import(path)
    run_worker()
    assert sorted(DBTaskResult.objects.values_list("return_value", flat=True), key=lambda v: v["created"]) == [
        {"created": 0, "updated": 3, "failed": 0, "items": 3},
        {"created": 3, "updated": 0, "failed": 0, "items": 3},
    ]
    assert Ticket.objects.count() == 3


def test_a_broken_file_fails_the_task_visibly_and_saves_nothing(setup, tmp_path):
    path = tmp_path / "tickets.json"
    text = json.dumps(items(3))
    path.write_text(text[:-30] + ",," + text[-30:])  # broken JSON in the last item

    background_import(path)
    run_worker()

    task = DBTaskResult.objects.get()  # failed for good at once: no retries queued
    assert task.status == "FAILED"
    assert task.exception_class_path == "helpdesk.events.tasks.PermanentFailure"
    assert "Invalid JSON in item 2" in task.traceback and "Nothing was saved." in task.traceback
    assert Ticket.objects.count() == 0
    assert stored_imports() == []


def test_failed_items_fail_the_task_with_the_summary_and_the_others_are_saved(setup, tmp_path):
    path = tmp_path / "tickets.json"
    bad = [{"source": "csv", "sourceId": "x", "email": "p@acme.com", "title": "T", "priority": "extreme"}]
    path.write_text(json.dumps(items(2) + bad))

    background_import(path)
    run_worker()

    task = DBTaskResult.objects.get()
    assert task.status == "FAILED"
    assert "Created 2, updated 0, failed 1 of 3 items; the others were saved." in task.traceback
    assert "item 2 (sourceId x)" in task.traceback
    assert Ticket.objects.count() == 2
    errors_file = [name for name in stored_imports() if name.endswith(".errors.json")]
    assert len(errors_file) == 1 and errors_file[0] in task.traceback
    with default_storage.open(f"helpdesk/imports/{errors_file[0]}") as stored:
        assert [e["sourceId"] for e in json.load(stored)] == ["x"]


def test_an_importer_who_lost_the_agent_role_fails_the_task(setup, tmp_path):
    path = tmp_path / "tickets.json"
    path.write_text(json.dumps(items(2)))
    background_import(path, "--user", "importer")
    setup.groups.clear()
    run_worker()
    task = DBTaskResult.objects.get()
    assert task.status == "FAILED" and "is not an active agent" in task.traceback
    assert Ticket.objects.count() == 0


def test_background_refuses_the_inline_only_options(setup, tmp_path):
    path = tmp_path / "tickets.json"
    path.write_text("[]")
    for extra in (["--dry-run"], ["--errors", str(tmp_path / "e.json")]):
        with pytest.raises(CommandError, match="run inline"):
            background_import(path, *extra)
    assert not DBTaskResult.objects.exists() and stored_imports() == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="search documents are PostgreSQL only")
def test_a_background_search_rebuild_runs_as_idempotent_range_tasks(setup):
    agent = setup
    tickets = [factories.TicketFactory(subject=f"Loaded {n}") for n in range(3)]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM helpdesk_ticket_search")  # e.g. loaded with the triggers off

    def found():
        return sorted(search_tickets(Ticket.objects.all(), "loaded", user=agent).values_list("pk", flat=True))

    assert found() == []
    out = io.StringIO()
    call_command("helpdesk_search_rebuild", "--background", "--batch", "2", stdout=out)
    top = max(t.pk for t in tickets)
    assert f"Queued {top // 2 + 1} tasks" in out.getvalue()
    assert DBTaskResult.objects.filter(status="READY").count() == top // 2 + 1
    assert found() == []  # nothing inside the command
    run_worker()
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}
    assert sum(r["written"] for r in DBTaskResult.objects.values_list("return_value", flat=True)) == 3
    assert found() == sorted(t.pk for t in tickets)
    # Again: every task finds every document already right.
    call_command("helpdesk_search_rebuild", "--background", "--batch", "2", stdout=io.StringIO())
    run_worker()
    assert sum(r["written"] for r in DBTaskResult.objects.values_list("return_value", flat=True)) == 3
    assert found() == sorted(t.pk for t in tickets)
