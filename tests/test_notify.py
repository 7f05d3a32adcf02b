"""Notifiers: the NOTIFIER setting, silent writes, and the email notifier's rules.

Notifications are tasks (helpdesk.events.notifications); most tests here run them with
the immediate backend, one with the database backend and its worker.
"""

import django
import pytest
from django.core import mail

from helpdesk import services
from helpdesk.models import ReplyType, TicketStatus
from helpdesk.notify import NullNotifier

from . import factories

pytestmark = pytest.mark.django_db

EVENTS = []

BUILTIN = "django.tasks.backends" if django.VERSION >= (6, 0) else "django_tasks.backends"


@pytest.fixture(autouse=True)
def immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": f"{BUILTIN}.immediate.ImmediateBackend"}}


class RecordingNotifier(NullNotifier):
    def ticket_created(self, ticket):
        EVENTS.append(("ticket_created", ticket.pk))

    def ticket_status_changed(self, ticket, change):
        EVENTS.append(("ticket_status_changed", change.to_status_id))

    def reply_posted(self, reply):
        EVENTS.append(("reply_posted", reply.pk))


@pytest.fixture
def recorder(settings):
    EVENTS.clear()
    settings.HELPDESK = {"NOTIFIER": "tests.test_notify.RecordingNotifier"}
    yield EVENTS
    EVENTS.clear()


@pytest.fixture
def email_notifier(settings):
    settings.HELPDESK = {"NOTIFIER": "helpdesk.notify.EmailNotifier"}


def make(department, client_org, **kwargs):
    return services.ticket_create(subject="Printer on fire", message="help", department=department,
                                  client=client_org, **kwargs)


def test_notifier_gets_every_event_after_commit(recorder, agent, department, client_org,
                                                django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = make(department, client_org)
        services.ticket_change_status(ticket=ticket, status=TicketStatus.objects.get(pk=2), by=agent)
        reply = services.reply_post(ticket=ticket, author=agent, text="done")
        assert recorder == []
    assert recorder == [("ticket_created", ticket.pk), ("ticket_status_changed", 2), ("reply_posted", reply.pk)]


def test_silent_writes_notify_nobody(recorder, agent, department, client_org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = make(department, client_org, silent=True)
        services.ticket_change_status(ticket=ticket, status=TicketStatus.objects.get(pk=2), silent=True)
        services.reply_post(ticket=ticket, author=agent, text="done", silent=True)
    assert recorder == []


def test_null_notifier_is_the_default(department, client_org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        make(department, client_org)
    assert mail.outbox == []


def test_email_notifier_mails_the_requester_on_an_agent_reply(email_notifier, agent, department, client_org,
                                                              django_capture_on_commit_callbacks):
    requester = factories.UserFactory(email="max@customer.example")
    with django_capture_on_commit_callbacks(execute=True):
        ticket = make(department, client_org, requester=requester)
        services.reply_post(ticket=ticket, author=agent, text="We fixed it.")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["max@customer.example"]
    assert message.subject == f"[Ticket #{ticket.pk}] Printer on fire"
    assert message.body == "We fixed it."


@pytest.mark.parametrize("case", ["note", "own reply", "no email", "no requester", "silent", "other contact"])
def test_email_notifier_stays_quiet(case, email_notifier, agent, department, client_org,
                                    django_capture_on_commit_callbacks):
    requester = factories.UserFactory(email="" if case == "no email" else "max@customer.example")
    factories.ContactFactory(user=requester, client=client_org)
    colleague = factories.ContactFactory(client=client_org).user
    ticket = make(department, client_org, requester=None if case == "no requester" else requester)
    author = {"own reply": requester, "other contact": colleague}.get(case, agent)
    with django_capture_on_commit_callbacks(execute=True):
        services.reply_post(ticket=ticket, author=author, text="x",
                            type=ReplyType.NOTE if case == "note" else ReplyType.REPLY, silent=case == "silent")
    assert mail.outbox == []


def test_a_failing_mail_server_does_not_break_the_reply(settings, agent, department, client_org, caplog,
                                                        django_capture_on_commit_callbacks):
    settings.HELPDESK = {"NOTIFIER": "helpdesk.notify.EmailNotifier"}
    if hasattr(settings, "MAILERS"):  # Django 6.1+
        settings.MAILERS = {"default": {"BACKEND": "tests.test_notify.BrokenBackend"}}
    else:
        settings.EMAIL_BACKEND = "tests.test_notify.BrokenBackend"
    ticket = make(department, client_org, requester=factories.UserFactory(email="a@b.example"))
    with django_capture_on_commit_callbacks(execute=True):
        reply = services.reply_post(ticket=ticket, author=agent, text="hello")
    ticket.refresh_from_db()
    assert ticket.replies_count == 1 and reply.pk
    assert "SMTP down" in caplog.text


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise OSError("SMTP down")


def test_email_notifier_sends_nothing_on_create_or_status_change(email_notifier, agent, department, client_org,
                                                                 django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = make(department, client_org, requester=factories.UserFactory(email="a@b.example"))
        services.ticket_change_status(ticket=ticket, status=TicketStatus.objects.get(pk=2), by=agent)
    assert mail.outbox == []

