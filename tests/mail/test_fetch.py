"""``helpdesk_mail_fetch`` against a real Dovecot (IMAP and POP3): mail waiting in a
mailbox becomes tickets, is removed from the server once stored, and a dead server is
reported (on the command and on the mailbox) without losing anything."""

import secrets

import pytest
from django.core.management import CommandError, call_command

from helpdesk.models import Mailbox, QuarantinedMail, Ticket

from .conftest import corpus

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def mailbox(dovecot, support):
    user = dovecot.add_user(f"fetch-{secrets.token_hex(4)}")  # an empty mailbox per test
    return Mailbox.objects.create(
        name="support", protocol=Mailbox.Protocol.IMAP, host="127.0.0.1", port=dovecot.imap_port,
        security=Mailbox.Security.NONE, username=user, password="secret",
    )


def test_imap_mail_becomes_tickets_and_leaves_the_server(dovecot, mailbox, capsys):
    for name in ("plain.eml", "attachments.eml", "malformed.eml"):
        dovecot.deliver(mailbox.username, corpus(name))
    call_command("helpdesk_mail_fetch")
    assert "support: 1 quarantined, 2 ticket" in capsys.readouterr().out
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == [
        "Contract and logs", "Printer on 3rd floor is jammed"]
    assert bytes(QuarantinedMail.objects.get().raw) == corpus("malformed.eml").replace(b"\n", b"\r\n")  # IMAP: CRLF
    assert dovecot.messages(mailbox.username) == []  # stored, then removed
    mailbox.refresh_from_db()
    assert mailbox.last_fetched_at is not None and mailbox.last_error == ""
    call_command("helpdesk_mail_fetch")
    assert "nothing new" in capsys.readouterr().out


def test_pop3_mailbox(dovecot, support):
    if not dovecot.pop3:
        pytest.fail("Dovecot's POP3 server is not installed (apt-get install dovecot-pop3d)")
    user = dovecot.add_user(f"pop3-{secrets.token_hex(4)}")
    Mailbox.objects.create(name="pop", protocol=Mailbox.Protocol.POP3, host="127.0.0.1", port=dovecot.pop3_port,
                           security=Mailbox.Security.NONE, username=user, password="secret")
    dovecot.deliver(user, corpus("alternative.eml"))
    dovecot.deliver(user, corpus("alternative.eml"))  # the same mail twice
    call_command("helpdesk_mail_fetch", mailbox=["pop"])
    assert Ticket.objects.get().subject == "Cannot log in since the update"
    assert dovecot.messages(user) == []


def test_a_wrong_password_is_reported_and_kept_on_the_mailbox(dovecot, mailbox):
    Mailbox.objects.filter(pk=mailbox.pk).update(password="wrong")
    dovecot.deliver(mailbox.username, corpus("plain.eml"))
    with pytest.raises(CommandError, match="Could not fetch: support"):
        call_command("helpdesk_mail_fetch")
    mailbox.refresh_from_db()
    assert "auth" in mailbox.last_error.lower() or "login" in mailbox.last_error.lower()
    assert len(dovecot.messages(mailbox.username)) == 1  # still there for the next fetch
    Mailbox.objects.filter(pk=mailbox.pk).update(password="secret")
    call_command("helpdesk_mail_fetch")
    assert Ticket.objects.count() == 1


def test_an_unreachable_server_is_reported(support):
    from .servers import free_port

    Mailbox.objects.create(name="down", host="127.0.0.1", port=free_port(), security=Mailbox.Security.NONE,
                           username="x", password="y")
    with pytest.raises(CommandError, match="down"):
        call_command("helpdesk_mail_fetch")
    assert "ConnectionRefused" in Mailbox.objects.get().last_error


def test_stdin_ingest_command(support, monkeypatch, capsys):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(corpus("latin1.eml"))))
    call_command("helpdesk_mail_ingest")
    assert capsys.readouterr().out.startswith("ticket #")
    assert Ticket.objects.get().subject == "Grüße und eine Frage zur Rechnung"


def test_stdin_ingest_of_garbage_is_quarantined(support, tmp_path, capsys):
    path = tmp_path / "bad.eml"
    path.write_bytes(corpus("malformed.eml"))
    call_command("helpdesk_mail_ingest", file=str(path))
    assert "quarantined (unparseable)" in capsys.readouterr().out
    assert QuarantinedMail.objects.count() == 1
