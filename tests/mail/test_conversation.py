"""The whole conversation on real servers: a customer mails in (Dovecot, fetched over
IMAP) → a ticket; an agent replies in the admin with a file → our mail goes out over SMTP
(aiosmtpd) and lands, threaded, in the customer's Dovecot mailbox; the customer answers it
→ a reply on the same ticket."""

from email.message import EmailMessage

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from helpdesk.models import Mailbox, MailMessage, MailStatus, Reply, Ticket
from tests import factories

from .servers import SMTPInbox, start_smtp

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def servers(dovecot, settings, support, mail_notifier):
    from .conftest import use_smtp

    dovecot.add_user("support")
    dovecot.add_user("carol")
    handler = SMTPInbox(dovecot=dovecot, domain="customer.example")
    controller = start_smtp(handler)
    use_smtp(settings, controller.port)
    Mailbox.objects.create(name="support", host="127.0.0.1", port=dovecot.imap_port,
                           security=Mailbox.Security.NONE, username="support", password="secret")
    yield dovecot, handler
    controller.stop()


def test_mail_in_agent_reply_in_the_admin_customer_answers(servers, client):
    dovecot, smtp = servers
    # 1. The customer writes in.
    first = EmailMessage()
    first["From"] = "Carol Customer <carol@customer.example>"
    first["To"] = "support@helpdesk.example"
    first["Subject"] = "The export button does nothing"
    first["Message-ID"] = "<first.carol@customer.example>"
    first.set_content("Hello, clicking Export does nothing. Can you help?")
    dovecot.deliver("support", first.as_bytes())
    call_command("helpdesk_mail_fetch")
    ticket = Ticket.objects.get()
    assert ticket.requester.email == "carol@customer.example" and ticket.channel == "email"
    acknowledgement = dovecot.messages("carol")
    assert len(acknowledgement) == 1 and f"[#{ticket.pk}]" in acknowledgement[0]["Subject"]

    # 2. An agent replies on the ticket page, with a file.
    agent = factories.SuperuserFactory(first_name="Alice", email="alice@helpdesk.example")
    client.force_login(agent)
    page = client.get(reverse("admin:helpdesk_ticket_change", args=[ticket.pk]))
    assert "Hello, clicking Export does nothing." in page.content.decode()
    response = client.post(reverse("admin:helpdesk_ticket_reply", args=[ticket.pk]), {
        "type": "reply", "text": "Please try again with this workaround.",
        "files": [SimpleUploadedFile("workaround.txt", b"Use CSV instead.", content_type="text/plain")],
    })
    assert response.status_code == 302
    agent_reply = Reply.objects.get(author=agent)
    assert [a.filename for a in agent_reply.attachments.all()] == ["workaround.txt"]
    inbox = dovecot.messages("carol")
    assert len(inbox) == 2
    mail = inbox[1]
    assert mail["Subject"] == f"Re: [#{ticket.pk}] The export button does nothing"
    assert mail["In-Reply-To"] == "<first.carol@customer.example>"
    assert "<first.carol@customer.example>" in mail["References"]
    assert mail["Reply-To"] == "support@helpdesk.example"
    assert "Please try again with this workaround." in mail.get_body(("plain",)).get_content()
    files = [(p.get_filename(), p.get_content()) for p in mail.iter_attachments()]
    assert files == [("workaround.txt", "Use CSV instead.")]
    assert MailMessage.objects.get(reply=agent_reply).status == MailStatus.SENT

    # 3. The customer answers that mail (quoting it, as mail clients do).
    answer = EmailMessage()
    answer["From"] = "Carol Customer <carol@customer.example>"
    answer["To"] = mail["Reply-To"]
    answer["Subject"] = "Re: " + mail["Subject"]
    answer["Message-ID"] = "<answer.carol@customer.example>"
    answer["In-Reply-To"] = mail["Message-ID"]
    answer["References"] = f"{mail['References']} {mail['Message-ID']}"
    answer.set_content("That worked, thanks!\n\nOn Tue, Dec 1, 2026, Support wrote:\n> Please try again with this workaround.\n")
    dovecot.deliver("support", answer.as_bytes())
    call_command("helpdesk_mail_fetch")
    customer_reply = Reply.objects.exclude(author=agent).get()
    assert customer_reply.ticket_id == ticket.pk and customer_reply.text == "That worked, thanks!"
    assert Ticket.objects.count() == 1
    page = client.get(reverse("admin:helpdesk_ticket_change", args=[ticket.pk]))
    html = page.content.decode()
    assert "That worked, thanks!" in html and "workaround.txt" in html
    # The agent downloads the file from the conversation.
    link = reverse("admin:helpdesk_ticket_attachment", args=[ticket.pk, agent_reply.attachments.get().pk])
    download = client.get(link)
    assert b"".join(download.streaming_content) == b"Use CSV instead."
    assert download["Content-Disposition"].startswith("attachment")
