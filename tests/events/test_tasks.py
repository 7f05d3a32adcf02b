"""The task layer: tasks queued on commit, run by the database backend's worker, retried
with backoff, and the failures kept where an admin can see them."""

import datetime

import django
import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from helpdesk.events.tasks import ATTEMPT_KWARG, enqueue_on_commit, helpdesk_task, retry_delay
from helpdesk.models import Tag

pytestmark = pytest.mark.django_db(transaction=True)

DB_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Django 6's own backends, or the backport's on Django 5.2.
BUILTIN = "django.tasks.backends" if django.VERSION >= (6, 0) else "django_tasks.backends"
IMMEDIATE = {"default": {"BACKEND": f"{BUILTIN}.immediate.ImmediateBackend"}}


@helpdesk_task
def make_tag(name):
    Tag.objects.get_or_create(name=name)


@helpdesk_task
def flaky_make_tag(name, failures):
    """Fails ``failures`` times (counted in the database, as a worker restart would), then works."""
    tries = Tag.objects.filter(name__startswith=f"try-{name}-").count()
    Tag.objects.create(name=f"try-{name}-{tries}")
    if tries < failures:
        raise ConnectionError("the receiver is down")
    Tag.objects.create(name=name)


def run_worker():
    call_command("db_worker", batch=True, startup_delay=False, reload=False, interval=0, verbosity=0)


@pytest.fixture
def db_backend(settings):
    settings.TASKS = DB_BACKEND
    settings.HELPDESK = {"TASK_RETRY_BACKOFF_SECONDS": 0}


def test_a_task_is_queued_when_the_write_commits_and_run_by_the_worker(db_backend):
    with transaction.atomic():
        enqueue_on_commit(make_tag, "billing")
        assert not DBTaskResult.objects.exists()  # nothing before the commit
    assert DBTaskResult.objects.get().status == "READY"
    assert not Tag.objects.filter(name="billing").exists()  # not inside the request
    run_worker()
    assert Tag.objects.filter(name="billing").exists()
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


def test_a_rolled_back_write_queues_nothing(db_backend):
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_on_commit(make_tag, "never")
        raise RuntimeError("the write failed")
    assert not DBTaskResult.objects.exists()


def test_a_failing_task_is_retried_until_it_works_and_each_failure_stays_visible(db_backend):
    enqueue_on_commit(flaky_make_tag, "sent", 2)
    run_worker()
    assert Tag.objects.filter(name="sent").count() == 1
    results = list(DBTaskResult.objects.order_by("enqueued_at"))
    assert [r.status for r in results] == ["FAILED", "FAILED", "SUCCESSFUL"]
    assert "ConnectionError" in results[0].exception_class_path
    assert "the receiver is down" in results[0].traceback
    assert [r.args_kwargs["kwargs"].get(ATTEMPT_KWARG, 1) for r in results] == [1, 2, 3]


def test_a_task_that_keeps_failing_stops_after_the_configured_attempts(db_backend, settings):
    settings.HELPDESK = {"TASK_RETRY_BACKOFF_SECONDS": 0, "TASK_MAX_ATTEMPTS": 3}
    enqueue_on_commit(flaky_make_tag, "hopeless", 99)
    run_worker()
    assert list(DBTaskResult.objects.values_list("status", flat=True)) == ["FAILED"] * 3
    assert not Tag.objects.filter(name="hopeless").exists()


def test_a_retry_waits_for_its_backoff(settings):
    settings.TASKS = DB_BACKEND
    settings.HELPDESK = {"TASK_RETRY_BACKOFF_SECONDS": 30}
    enqueue_on_commit(flaky_make_tag, "later", 1)
    before = timezone.now()
    run_worker()  # the first attempt fails; its retry is not due yet
    retry = DBTaskResult.objects.get(status="READY")
    assert retry.run_after >= before + datetime.timedelta(seconds=29)
    assert not Tag.objects.filter(name="later").exists()


def test_the_backoff_doubles_and_is_capped(settings):
    settings.HELPDESK = {"TASK_RETRY_BACKOFF_SECONDS": 10, "TASK_RETRY_MAX_DELAY_SECONDS": 60}
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 60, 60]


def test_the_immediate_backend_runs_the_task_after_commit(settings):
    settings.TASKS = IMMEDIATE
    with transaction.atomic():
        enqueue_on_commit(make_tag, "now")
        assert not Tag.objects.filter(name="now").exists()
    assert Tag.objects.filter(name="now").exists()


def test_a_backend_that_refuses_the_task_never_fails_the_write(settings, caplog):
    settings.TASKS = {"default": {"BACKEND": f"{BUILTIN}.dummy.DummyBackend", "QUEUES": ["other"]}}
    with transaction.atomic():
        Tag.objects.create(name="kept")
        enqueue_on_commit(make_tag, "refused")
    assert Tag.objects.filter(name="kept").exists()
    assert "Could not queue task" in caplog.text
