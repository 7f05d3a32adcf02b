"""The corpus of real-world mail: each message ends as the right ticket or reply, or in
quarantine, and nothing is lost."""

import pytest

from helpdesk.mail.ingest import ingest_mail
from helpdesk.models import (
    Attachment, Channel, Client, MailDirection, MailMessage, QuarantinedMail, QuarantineReason, Reply, Ticket,
)
from tests import factories

from .conftest import CORPUS, corpus

pytestmark = pytest.mark.django_db


def test_plain_mail_opens_a_ticket_for_the_sender(support):
    result = ingest_mail(corpus("plain.eml"), source="test")
    assert result.outcome == "ticket"
    ticket = result.ticket
    assert ticket.subject == "Printer on 3rd floor is jammed"
    assert ticket.channel == Channel.EMAIL and ticket.department == support
    assert ticket.requester.email == "jane@acme.example"
    assert ticket.requester.get_full_name() == "Jane Doe"
    assert ticket.client.name == "acme.example"  # the client by the sender's domain, as the sync does
    assert "jams on every second page" in ticket.message
    assert MailMessage.objects.get(message_id="<CAplain.0001@mail.acme.example>").ticket == ticket


def test_html_only_mail_becomes_clean_text_and_sanitized_html(support):
    ticket = ingest_mail(corpus("html_only.eml")).ticket
    assert "the invoice 2026-113 lists 12 seats, we have 10." in ticket.message
    assert "- Seats: 10" in ticket.message and "alert(1)" not in ticket.message and "color: red" not in ticket.message
    assert "<https://globex.example/contract>" in ticket.message
    html = MailMessage.objects.get(ticket=ticket, direction=MailDirection.INBOUND).html
    assert "<b>2026-113</b>" in html
    assert "script" not in html and "onclick" not in html and "onerror" not in html and "steal" not in html


def test_multipart_alternative_uses_the_text_part(support):
    ticket = ingest_mail(corpus("alternative.eml")).ticket
    assert ticket.message == 'Since this morning\'s update the login page says "session expired" right away.'
    assert "<b>" in MailMessage.objects.get(ticket=ticket, direction=MailDirection.INBOUND).html


def test_inline_image_is_saved_with_its_content_id(support):
    ticket = ingest_mail(corpus("inline_image.eml")).ticket
    image = Attachment.objects.get(ticket=ticket)
    assert image.inline and image.content_id == "shot1@acme.example"
    assert image.content_type == "image/png" and image.filename == "image001.png"
    assert image.file.read().startswith(b"\x89PNG")
    assert 'src="cid:shot1@acme.example"' in MailMessage.objects.get(ticket=ticket, direction=MailDirection.INBOUND).html


def test_attachments_are_saved_with_sniffed_types_and_safe_names(support):
    ticket = ingest_mail(corpus("attachments.eml")).ticket
    files = {a.filename: a for a in ticket.attachments.all()}
    assert set(files) == {"contract.pdf", "server.log", "passwd"}
    assert files["contract.pdf"].content_type == "application/pdf"
    assert files["server.log"].content_type == "text/plain"
    assert files["server.log"].file.read() == b"2026-12-01 12:59:59 ERROR worker 3 died"
    assert all(not a.reply_id and not a.inline for a in files.values())
    assert ".." not in files["passwd"].file.name


def test_inbound_cc_goes_on_the_ticket_without_our_own_address(support):
    ticket = ingest_mail(corpus("attachments.eml")).ticket
    assert ticket.cc == ["frank@globex.example"]


@pytest.mark.parametrize("name, subject, needle", [
    ("latin1.eml", "Grüße und eine Frage zur Rechnung", "die Rechnung enthält einen Fehler: die Größe ist falsch."),
    ("iso2022jp.eml", "請求書について", "請求書の金額が違います"),
    ("encoded_subject.eml", "Ünïcödé 🎉 subject with emoji", "naïve café"),
])
def test_charsets_and_encoded_subjects(support, name, subject, needle):
    ticket = ingest_mail(corpus(name)).ticket
    assert ticket.subject == subject
    assert needle in ticket.message


def test_latin1_sender_name_is_decoded(support):
    ticket = ingest_mail(corpus("latin1.eml")).ticket
    assert ticket.requester.get_full_name() == "Jürgen Müller"


def test_gmail_reply_threads_by_in_reply_to_and_drops_the_quote(support):
    ticket = ingest_mail(corpus("plain.eml")).ticket
    result = ingest_mail(corpus("gmail_reply.eml"))
    assert result.outcome == "reply" and result.ticket == ticket
    assert result.reply.text == "It jams again, now on every page."
    assert result.reply.author == ticket.requester
    ticket.refresh_from_db()
    assert ticket.replies_count == 1


def test_outlook_html_reply_threads_and_drops_outlooks_quote(support):
    ticket = ingest_mail(corpus("alternative.eml")).ticket
    result = ingest_mail(corpus("outlook_reply.eml"))
    assert result.outcome == "reply" and result.ticket == ticket
    assert "Clearing the cookies fixed it, thank you!" in result.reply.text
    assert "Please clear your cookies" not in result.reply.text and "From: Support" not in result.reply.text


def test_signature_is_trimmed_from_replies_only(support):
    ticket = ingest_mail(corpus("plain.eml")).ticket
    assert "Office manager" in ticket.message  # a new ticket keeps everything
    raw = corpus("plain.eml").replace(b"<CAplain.0001@mail.acme.example>", b"<second@acme.example>").replace(
        b"Subject: Printer", b"Subject: [#%d] Printer" % ticket.pk)
    reply = ingest_mail(raw).reply
    assert reply is not None and "Office manager" not in reply.text and reply.text.endswith("Jane")


def test_subject_token_threads_a_mail_without_references(support):
    ticket = ingest_mail(corpus("plain.eml")).ticket
    raw = corpus("alternative.eml").replace(b"Subject: Cannot", b"Subject: Re: [#%d] Cannot" % ticket.pk)
    raw = raw.replace(b"carla@initech.example", b"jane@acme.example")
    result = ingest_mail(raw)
    assert result.outcome == "reply" and result.ticket == ticket


def test_subject_token_from_a_stranger_opens_a_new_ticket(support):
    ticket = ingest_mail(corpus("plain.eml")).ticket
    raw = corpus("alternative.eml").replace(b"Subject: Cannot", b"Subject: Re: [#%d] Cannot" % ticket.pk)
    result = ingest_mail(raw)  # carla@initech is not on Jane's ticket
    assert result.outcome == "ticket" and result.ticket != ticket


def test_auto_reply_never_opens_a_ticket_and_is_kept(support):
    result = ingest_mail(corpus("auto_reply.eml"))
    assert result.outcome == "quarantined"
    assert result.quarantined.reason == QuarantineReason.AUTO_REPLY
    assert bytes(result.quarantined.raw) == corpus("auto_reply.eml")
    assert not Ticket.objects.exists()


def test_bounce_never_opens_a_ticket(support):
    result = ingest_mail(corpus("bounce.eml"))
    assert result.outcome == "quarantined" and result.quarantined.reason == QuarantineReason.BOUNCE
    assert not Ticket.objects.exists()


def test_malformed_mail_is_quarantined_whole(support):
    result = ingest_mail(corpus("malformed.eml"), source="stdin")
    row = QuarantinedMail.objects.get()
    assert result.outcome == "quarantined" and row.reason == QuarantineReason.UNPARSEABLE
    assert bytes(row.raw) == corpus("malformed.eml") and row.source == "stdin"


def test_same_message_id_is_stored_once(support):
    first = ingest_mail(corpus("attachments.eml"))
    again = ingest_mail(corpus("attachments.eml"))
    assert again.outcome == "duplicate" and again.ticket == first.ticket
    assert Ticket.objects.count() == 1 and Attachment.objects.count() == 3


def test_blocked_sender_is_refused(support, settings):
    settings.HELPDESK = {"MAIL_BLOCKLIST": ["@globex.example"]}
    result = ingest_mail(corpus("html_only.eml"))
    assert result.outcome == "quarantined" and result.quarantined.reason == QuarantineReason.BLOCKED
    assert not Ticket.objects.exists()


def test_too_large_mail_is_quarantined(support, settings):
    settings.HELPDESK = {"MAIL_MAX_BYTES": 100}
    result = ingest_mail(corpus("plain.eml"))
    assert result.quarantined.reason == QuarantineReason.TOO_LARGE and not Ticket.objects.exists()


def test_no_department_is_quarantined_not_lost(db):
    result = ingest_mail(corpus("plain.eml"))
    assert result.outcome == "quarantined" and result.quarantined.reason == QuarantineReason.NO_DEPARTMENT
    assert not Ticket.objects.exists() and not MailMessage.objects.exists()  # rolled back whole


def test_free_mail_sender_gets_a_client_of_their_own(support):
    raw = corpus("plain.eml").replace(b"jane@acme.example", b"jane.doe@gmail.com")
    ticket = ingest_mail(raw).ticket
    assert ticket.client.name == "Jane Doe"
    assert not Client.objects.filter(name="gmail.com").exists()


def test_free_mail_sender_goes_to_the_configured_client(support, settings):
    home = factories.ClientFactory(name="Consumers")
    settings.HELPDESK = {"MAIL_DEFAULT_CLIENT_ID": home.pk}
    raw = corpus("plain.eml").replace(b"jane@acme.example", b"jane.doe@gmail.com")
    assert ingest_mail(raw).ticket.client == home


def test_mailbox_department_wins(support):
    sales = factories.DepartmentFactory(name="Sales")
    from helpdesk.models import Mailbox

    box = Mailbox.objects.create(name="sales", host="localhost", username="sales", department=sales)
    assert ingest_mail(corpus("plain.eml"), mailbox=box).ticket.department == sales


def test_an_error_while_ingesting_is_quarantined_with_the_traceback(support, monkeypatch):
    from helpdesk import services

    def broken(**kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(services, "ticket_create", broken)
    result = ingest_mail(corpus("plain.eml"))
    assert result.quarantined.reason == QuarantineReason.ERROR and "database on fire" in result.quarantined.detail
    assert not MailMessage.objects.exists()


def test_the_whole_corpus_loses_nothing(support):
    names = sorted(p.name for p in CORPUS.glob("*.eml"))
    # Originals first, so the replies find their threads.
    names.sort(key=lambda n: n.endswith("_reply.eml"))
    outcomes = {name: ingest_mail(corpus(name)).outcome for name in names}
    assert outcomes["gmail_reply.eml"] == "reply" and outcomes["outlook_reply.eml"] == "reply"
    assert outcomes["auto_reply.eml"] == outcomes["bounce.eml"] == outcomes["malformed.eml"] == "quarantined"
    stored = Ticket.objects.count() + Reply.objects.count() + QuarantinedMail.objects.count()
    assert stored == len(names)


def test_raw_8bit_headers_and_file_names_are_read_as_utf8(support):
    ticket = ingest_mail(corpus("raw_8bit_headers.eml")).ticket
    assert ticket.subject == "Grüße aus Köln (8-bit header, no encoding)"
    assert ticket.requester.get_full_name() == "Jürgen Müller"
    assert [a.filename for a in ticket.attachments.all()] == ["Übersicht.txt"]
