"""``helpdesk_mail_fetch`` against a real Dovecot (IMAP and POP3): mail waiting in a
mailbox becomes tickets, is removed from the server once stored, and a dead server is
reported (on the command and on the mailbox) without losing anything."""

import secrets

import pytest
from django.core.management import CommandError, call_command

from helpdesk.models import Mailbox, QuarantinedMail, Ticket

from .conftest import NEW_KEY, OLD_KEY, corpus, stored_password

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def mailbox(dovecot, support):
    user = dovecot.add_user(f"fetch-{secrets.token_hex(4)}")  # an empty mailbox per test
    return Mailbox.objects.create(
        name="support", protocol=Mailbox.Protocol.IMAP, host="127.0.0.1", port=dovecot.imap_port,
        security=Mailbox.Security.NONE, username=user, password="secret",
    )


def test_imap_mail_becomes_tickets_and_leaves_the_server(dovecot, mailbox, capsys):
    assert "secret" not in stored_password(mailbox)  # encrypted at rest, decrypted to log in
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
    assert "secret" not in stored_password(Mailbox.objects.get(name="pop"))
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


def test_after_a_key_rotation_the_old_password_still_logs_in(dovecot, support, settings):
    settings.SECRET_KEY = OLD_KEY
    user = dovecot.add_user(f"rotate-{secrets.token_hex(4)}")
    box = Mailbox.objects.create(name="support", host="127.0.0.1", port=dovecot.imap_port,
                                 security=Mailbox.Security.NONE, username=user, password="secret")
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, [OLD_KEY]
    dovecot.deliver(user, corpus("plain.eml"))
    call_command("helpdesk_mail_fetch")
    assert Ticket.objects.count() == 1
    box.refresh_from_db()
    box.save()  # re-encrypted with the new key: the old one can go
    settings.SECRET_KEY_FALLBACKS = []
    dovecot.deliver(user, corpus("alternative.eml"))
    call_command("helpdesk_mail_fetch")
    assert Ticket.objects.count() == 2


def test_a_password_no_key_decrypts_is_reported_and_never_used(dovecot, support, settings, capsys):
    settings.SECRET_KEY = OLD_KEY
    user = dovecot.add_user(f"lost-{secrets.token_hex(4)}")
    box = Mailbox.objects.create(name="support", host="127.0.0.1", port=dovecot.imap_port,
                                 security=Mailbox.Security.NONE, username=user, password="secret")
    Mailbox.objects.create(name="other", host="127.0.0.1", port=dovecot.imap_port, security=Mailbox.Security.NONE,
                           username=dovecot.add_user(f"ok-{secrets.token_hex(4)}"), password="secret")
    dovecot.deliver(user, corpus("plain.eml"))
    settings.SECRET_KEY = NEW_KEY  # the old key is lost
    box.refresh_from_db()
    Mailbox.objects.filter(name="other").update(password="secret")  # entered again: with the new key
    with pytest.raises(CommandError, match="Could not fetch: support"):
        call_command("helpdesk_mail_fetch")
    output = capsys.readouterr()
    assert "support: DecryptionError: The password of mailbox 'support' cannot be decrypted" in output.err
    assert "SECRET_KEY and SECRET_KEY_FALLBACKS were tried" in output.err
    assert "other: nothing new" in output.out  # the other mailboxes are fetched all the same
    box.refresh_from_db()
    assert "cannot be decrypted" in box.last_error
    assert len(dovecot.messages(user)) == 1 and not Ticket.objects.exists()  # kept for later
    settings.SECRET_KEY_FALLBACKS = [OLD_KEY]  # the key is found again
    call_command("helpdesk_mail_fetch")
    assert Ticket.objects.count() == 1 and dovecot.messages(user) == []


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
