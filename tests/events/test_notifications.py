"""Notifications to people are tasks: the request queues them, the worker sends them."""

import pytest
from django.core import mail
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from helpdesk import services

from .. import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def email_notifier(settings, default_statuses):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.HELPDESK = {"NOTIFIER": "helpdesk.notify.EmailNotifier", "TASK_RETRY_BACKOFF_SECONDS": 0}


def run_worker():
    call_command("db_worker", batch=True, startup_delay=False, reload=False, interval=0, verbosity=0)


def make(department, client_org, **kwargs):
    return services.ticket_create(subject="Printer on fire", message="help", department=department,
                                  client=client_org, **kwargs)


def test_the_mail_is_a_task_the_worker_sends_not_the_request(agent, department,
                                                              client_org):
    ticket = make(department, client_org, requester=factories.UserFactory(email="max@customer.example"))
    services.reply_post(ticket=ticket, author=agent, text="We fixed it.")
    assert mail.outbox == []  # the request only queued it
    # Only reply_posted: EmailNotifier sends nothing on ticket_created, so no task for it.
    assert DBTaskResult.objects.filter(status="READY").count() == 1
    run_worker()
    assert [m.to for m in mail.outbox] == [["max@customer.example"]]
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}


def test_a_notification_whose_reply_was_deleted_meanwhile_is_skipped(agent, department,
                                                                    client_org):
    ticket = make(department, client_org, requester=factories.UserFactory(email="max@customer.example"))
    reply = services.reply_post(ticket=ticket, author=agent, text="oops")
    services.reply_delete(reply=reply, by=agent)
    run_worker()
    assert mail.outbox == []


def test_the_null_notifier_queues_no_task(settings, agent, department, client_org):
    settings.HELPDESK = {}
    ticket = make(department, client_org)
    services.reply_post(ticket=ticket, author=agent, text="hello")
    assert not DBTaskResult.objects.exists()
