"""Outbound mail: who gets what, threaded, with files, from the department's address, sent
after commit by the task layer through a real SMTP server (aiosmtpd); failures retried
and recorded."""

import time
from email import message_from_bytes, policy

import pytest
from django.core.management import call_command
from django.db import transaction

from helpdesk import services
from helpdesk.attachments import IncomingFile, attachments_add
from helpdesk.mail.ingest import ingest_mail
from helpdesk.mail.outbound import send_mail_task
from helpdesk.models import MailMessage, MailStatus
from tests import factories

from .conftest import corpus

pytestmark = pytest.mark.django_db(transaction=True)


def parsed(raw):
    return message_from_bytes(raw, policy=policy.default)


def test_mail_in_sends_an_acknowledgement_to_the_sender(support, mail_notifier, smtp):
    ticket = ingest_mail(corpus("plain.eml")).ticket
    assert len(smtp.messages) == 1  # no assignee and no agents' address: the acknowledgement only
    sent = {tuple(rcpts): parsed(raw) for _from, rcpts, raw in smtp.messages}
    ack = sent[("jane@acme.example",)]
    assert ack["Subject"] == f"[#{ticket.pk}] Received: Printer on 3rd floor is jammed"
    assert ack["From"] == "support@helpdesk.example" and ack["Reply-To"] == "support@helpdesk.example"
    assert ack["In-Reply-To"] == "<CAplain.0001@mail.acme.example>"
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack.get_body(("plain",)).get_content().startswith("Thank you for your message")
    assert "<p>" in ack.get_body(("html",)).get_content()


def test_new_ticket_and_customer_reply_go_to_the_assignees(support, mail_notifier, smtp):
    agent = factories.AgentFactory(email="alice@helpdesk.example")
    ticket = ingest_mail(corpus("plain.eml")).ticket
    services.ticket_set_assignees(ticket=ticket, assignees=[agent])
    smtp.messages.clear()
    ingest_mail(corpus("gmail_reply.eml"))
    assert [rcpts for _f, rcpts, _r in smtp.messages] == [["alice@helpdesk.example"]]
    mail = parsed(smtp.messages[0][2])
    assert mail["Subject"] == f"Re: [#{ticket.pk}] Printer on 3rd floor is jammed"
    assert "It jams again, now on every page." in mail.get_body(("plain",)).get_content()
    assert "<CAgmail.reply.0009@mail.gmail.com>" in mail["References"]


def test_new_ticket_without_assignees_goes_to_the_departments_agents(support, mail_notifier, smtp):
    support.notify_email = "team@helpdesk.example"
    support.save()
    ingest_mail(corpus("plain.eml"))
    rcpts = sorted(tuple(r) for _f, r, _raw in smtp.messages)
    assert rcpts == [("jane@acme.example",), ("team@helpdesk.example",)]
    note = next(parsed(raw) for _f, r, raw in smtp.messages if r == ["team@helpdesk.example"])
    assert note["Auto-Submitted"] == "auto-generated" and "jams on every second page" in note.get_body(("plain",)).get_content()


def test_agent_reply_goes_to_requester_and_cc_threaded_with_files(support, mail_notifier, smtp):
    ticket = ingest_mail(corpus("attachments.eml")).ticket  # Cc: frank@globex.example
    agent = factories.AgentFactory(first_name="Alice", last_name="Agent")
    smtp.messages.clear()
    with transaction.atomic():
        reply = services.reply_post(ticket=ticket, author=agent, text="Thanks, the contract is fine.")
        attachments_add(ticket=ticket, reply=reply, files=[IncomingFile.from_bytes("answer.txt", b"signed")])
    assert len(smtp.messages) == 1
    _from, rcpts, raw = smtp.messages[0]
    assert sorted(rcpts) == ["erin@globex.example", "frank@globex.example"]
    mail = parsed(raw)
    assert mail["To"] == "erin@globex.example" and mail["Cc"] == "frank@globex.example"
    assert mail["In-Reply-To"] == "<attach.0005@globex.example>"
    assert mail["Auto-Submitted"] is None
    files = [(p.get_filename(), p.get_content()) for p in mail.iter_attachments()]
    assert files == [("answer.txt", "signed")]
    row = MailMessage.objects.get(reply=reply)
    assert row.status == MailStatus.SENT and row.message_id == mail["Message-ID"] and row.attempts == 1


def test_notes_and_api_writes_send_nothing(support, mail_notifier, smtp, agent):
    ticket = factories.TicketFactory(department=support, requester=factories.UserFactory(email="r@x.example"))
    services.reply_post(ticket=ticket, author=agent, text="internal", type="note")
    services.reply_post(ticket=ticket, author=agent, text="via the API", silent=True)
    assert smtp.messages == [] and not MailMessage.objects.exists()


def test_a_ticket_not_from_mail_threads_under_its_root_id(support, mail_notifier, smtp, agent):
    ticket = factories.TicketFactory(department=support, requester=factories.UserFactory(email="r@x.example"))
    services.reply_post(ticket=ticket, author=agent, text="first answer")
    mail = parsed(smtp.messages[0][2])
    assert mail["References"] == f"<helpdesk.ticket.{ticket.pk}@helpdesk.example>"
    # The customer's answer to it threads back by that reference.
    answer = (f"From: r@x.example\nTo: support@helpdesk.example\nSubject: Re: whatever\n"
              f"Message-ID: <answer@x.example>\nIn-Reply-To: {mail['Message-ID']}\n\nthanks").encode()
    assert ingest_mail(answer).ticket == ticket


def test_sender_is_the_departments_address_or_mail_from(db, mail_notifier, smtp, agent, settings):
    dept = factories.DepartmentFactory(name="Billing")  # no address of its own
    settings.HELPDESK = {**settings.HELPDESK, "MAIL_FROM": "help@example.org"}
    ticket = factories.TicketFactory(department=dept, requester=factories.UserFactory(email="r@x.example"))
    services.reply_post(ticket=ticket, author=agent, text="hi")
    assert parsed(smtp.messages[0][2])["From"] == "help@example.org"


def test_a_dead_smtp_server_is_retried_and_the_failure_recorded(support, settings, smtp, agent):
    from django_tasks_db.models import DBTaskResult

    from tests.events.test_tasks import run_worker

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.HELPDESK = {"NOTIFIER": "helpdesk.mail.outbound.MailNotifier", "TASK_RETRY_BACKOFF_SECONDS": 1}
    ticket = factories.TicketFactory(department=support, requester=factories.UserFactory(email="r@x.example"))
    smtp.refuse = True
    reply = services.reply_post(ticket=ticket, author=agent, text="answer")  # the request is not slowed or failed
    row = MailMessage.objects.get(reply=reply)  # recorded with the reply, visible in the admin at once
    assert row.status == MailStatus.PENDING and smtp.messages == []
    # One task for the mail, no notification task that would queue it later.
    assert [t.task_path for t in DBTaskResult.objects.all()] == ["helpdesk.mail.outbound.send_mail_task"]
    run_worker()  # the first attempt fails; its retry is queued
    row.refresh_from_db()
    assert row.status == MailStatus.FAILED and row.attempts == 1 and "451" in row.error
    smtp.refuse = False
    time.sleep(1.2)  # the retry's backoff
    run_worker()
    row.refresh_from_db()
    assert row.status == MailStatus.SENT and len(smtp.messages) == 1


def test_the_task_is_safe_to_run_twice(support, mail_notifier, smtp, agent):
    ticket = factories.TicketFactory(department=support, requester=factories.UserFactory(email="r@x.example"))
    reply = services.reply_post(ticket=ticket, author=agent, text="once")
    row = MailMessage.objects.get(reply=reply)
    send_mail_task.call(row.pk)
    assert len(smtp.messages) == 1


def test_templates_are_the_sites_to_override(support, mail_notifier, smtp, agent, settings, tmp_path):
    (tmp_path / "helpdesk" / "mail").mkdir(parents=True)
    (tmp_path / "helpdesk" / "mail" / "agent_reply.txt").write_text("Custom: {{ reply.text }}")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    ticket = factories.TicketFactory(department=support, requester=factories.UserFactory(email="r@x.example"))
    services.reply_post(ticket=ticket, author=agent, text="hello")
    assert parsed(smtp.messages[0][2]).get_body(("plain",)).get_content().strip() == "Custom: hello"


def test_the_admins_mail_log_shows_failures(support, mail_notifier, smtp, agent, client):
    from django.urls import reverse

    smtp.refuse = True
    ticket = factories.TicketFactory(department=support, requester=factories.UserFactory(email="r@x.example"))
    services.reply_post(ticket=ticket, author=agent, text="answer")
    su = factories.SuperuserFactory()
    client.force_login(su)
    page = client.get(reverse("admin:helpdesk_mailmessage_changelist") + "?status=failed")
    assert page.status_code == 200 and "451" in page.content.decode()
    smtp.refuse = False
    row = MailMessage.objects.get()
    client.post(reverse("admin:helpdesk_mailmessage_changelist"),
                {"action": "send_again", "_selected_action": [row.pk]})
    row.refresh_from_db()
    assert row.status == MailStatus.SENT


def test_send_mail_task_for_a_deleted_ticket_does_nothing(support, mail_notifier):
    assert send_mail_task.call(12345) == "gone"
    call_command("check")
