"""The admin's side of attachments and mail: files on the ticket page, uploads with the
reply form (limits refused with a message, nothing half-written), the CC field, the mail
log, the quarantine (download, ingest again) and mailboxes."""

import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from helpdesk import services
from helpdesk.attachments import IncomingFile, attachments_add
from helpdesk.models import Mailbox, QuarantinedMail, Reply, Ticket
from tests import factories
from tests.mail.conftest import corpus


def test_reply_box_uploads_files_and_the_page_lists_them(su_client, make_ticket):
    """An agent attaches files in the one-form reply box (form="ticket_form", multipart) and
    the ticket page lists them with download links."""
    from tests.admin.test_ticket_page import form_data

    ticket = make_ticket()
    attachments_add(ticket=ticket, files=[IncomingFile.from_bytes("original.txt", b"o")])
    url = reverse("admin:helpdesk_ticket_change", args=[ticket.pk])
    page = su_client.get(url).content.decode()
    assert re.search(r'<form[^>]*enctype="multipart/form-data"[^>]*id="ticket_form"', page)
    assert re.search(r'<input type="file" name="reply_files"[^>]*multiple[^>]*form="ticket_form"', page)
    version = su_client.get(url).context["adminform"].form["version"].value()
    r = su_client.post(url, form_data(
        ticket, version=version, reply_type="note", reply_text="see file", _reply="1",
        reply_files=[SimpleUploadedFile("a.txt", b"aa"), SimpleUploadedFile("b.txt", b"b")]))
    assert r.status_code == 302
    reply = Reply.objects.get(ticket=ticket)
    assert reply.is_note and sorted(a.filename for a in reply.attachments.all()) == ["a.txt", "b.txt"]
    page = su_client.get(url).content.decode()
    for name in ("original.txt", "a.txt", "b.txt"):
        assert name in page
    file = reply.attachments.get(filename="a.txt")
    link = reverse("admin:helpdesk_ticket_attachment", args=[ticket.pk, file.pk])
    assert link in page
    download = su_client.get(link)
    assert b"".join(download.streaming_content) == b"aa" and download["X-Content-Type-Options"] == "nosniff"


def test_reply_box_refuses_a_file_over_the_limit_and_saves_nothing(su_client, make_ticket, settings):
    from tests.admin.test_ticket_page import form_data

    settings.HELPDESK = {"ATTACHMENT_MAX_BYTES": 3}
    ticket = make_ticket()
    url = reverse("admin:helpdesk_ticket_change", args=[ticket.pk])
    r = su_client.post(url, form_data(ticket, subject="Edited", reply_text="too big", _reply="1",
                                      reply_files=[SimpleUploadedFile("big.txt", b"abcdef")]))
    assert r.status_code == 200 and "big.txt is 6 bytes; the limit is 3." in r.content.decode()
    assert not Reply.objects.filter(ticket=ticket).exists()
    assert Ticket.objects.get(pk=ticket.pk).subject == ticket.subject


def test_reply_view_uploads_files(client, make_ticket):
    """The reply view (the separate form for those who may reply but not edit) takes ``files``."""
    ticket = make_ticket()
    user = factories.SuperuserFactory()
    client.force_login(user)
    r = client.post(reverse("admin:helpdesk_ticket_reply", args=[ticket.pk]), {
        "type": "note", "text": "see file", "files": [SimpleUploadedFile("a.txt", b"aa"), SimpleUploadedFile("b.txt", b"b")],
    })
    assert r.status_code == 302
    reply = Reply.objects.get(ticket=ticket)
    assert sorted(a.filename for a in reply.attachments.all()) == ["a.txt", "b.txt"]


def test_an_attachment_of_another_ticket_is_not_served_under_this_one(su_client, make_ticket):
    one, other = make_ticket(), make_ticket()
    file = attachments_add(ticket=other, files=[IncomingFile.from_bytes("x.txt", b"x")])[0]
    r = su_client.get(reverse("admin:helpdesk_ticket_attachment", args=[one.pk, file.pk]))
    assert r.status_code == 302 and not hasattr(r, "streaming_content")


def test_a_file_over_the_limit_is_refused_and_the_reply_not_posted(su_client, make_ticket, settings):
    settings.HELPDESK = {"ATTACHMENT_MAX_BYTES": 3}
    ticket = make_ticket()
    r = su_client.post(reverse("admin:helpdesk_ticket_reply", args=[ticket.pk]), {
        "type": "reply", "text": "too big", "files": [SimpleUploadedFile("big.txt", b"abcdef")],
    }, follow=True)
    assert "big.txt is 6 bytes; the limit is 3." in r.content.decode()
    assert not Reply.objects.filter(ticket=ticket).exists()


def test_cc_field_on_the_ticket_form(su_client, make_ticket):
    ticket = make_ticket()
    url = reverse("admin:helpdesk_ticket_change", args=[ticket.pk])
    form = su_client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update({
        "subject": ticket.subject, "message": ticket.message, "status": ticket.status_id, "priority": ticket.priority,
        "department": ticket.department_id, "client": ticket.client_id, "time_spent": "0",
        "custom_fields": "{}", "metadata": "{}", "cc_addresses": "a@x.example, B@x.example, a@x.example",
    })
    data.pop("tags", None), data.pop("assignees", None), data.pop("requester", None), data.pop("project", None)
    r = su_client.post(url, data)
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r
    ticket.refresh_from_db()
    assert ticket.cc == ["a@x.example", "B@x.example"]
    data["cc_addresses"] = "not-an-address"
    r = su_client.post(url, data)
    assert r.status_code == 200 and "cc_addresses" in r.context["adminform"].form.errors


def test_quarantine_download_and_ingest_again(su_client, db):
    factories.DepartmentFactory(name="Support", is_default=True)
    row = QuarantinedMail.objects.create(reason="no_department", raw=corpus("plain.eml"))
    raw = su_client.get(reverse("admin:helpdesk_quarantinedmail_raw", args=[row.pk]))
    assert raw.content == corpus("plain.eml") and raw["Content-Type"] == "message/rfc822"
    su_client.post(reverse("admin:helpdesk_quarantinedmail_changelist"),
                   {"action": "ingest_again", "_selected_action": [row.pk]})
    assert Ticket.objects.get().subject == "Printer on 3rd floor is jammed"
    assert not QuarantinedMail.objects.exists()


def test_quarantine_that_still_fails_stays_once(su_client, db):
    row = QuarantinedMail.objects.create(reason="unparseable", raw=corpus("malformed.eml"))
    su_client.post(reverse("admin:helpdesk_quarantinedmail_changelist"),
                   {"action": "ingest_again", "_selected_action": [row.pk]})
    assert list(QuarantinedMail.objects.values_list("pk", flat=True)) == [row.pk]


def test_mailbox_admin_fetch_now_reports_a_dead_server(su_client, db):
    from tests.mail.servers import free_port

    box = Mailbox.objects.create(name="down", host="127.0.0.1", port=free_port(), security="none", username="u")
    r = su_client.post(reverse("admin:helpdesk_mailbox_changelist"),
                       {"action": "fetch_now", "_selected_action": [box.pk]}, follow=True)
    assert "ConnectionRefused" in r.content.decode()
    assert su_client.get(reverse("admin:helpdesk_mailbox_add")).status_code == 200


def test_group_agents_see_the_mail_log_and_quarantine(agent_client):
    assert agent_client.get(reverse("admin:helpdesk_mailmessage_changelist")).status_code == 200
    assert agent_client.get(reverse("admin:helpdesk_quarantinedmail_changelist")).status_code == 200
    assert agent_client.get(reverse("admin:helpdesk_mailbox_add")).status_code == 403


def test_deleting_a_ticket_in_the_admin_removes_its_files(su_client, make_ticket, django_capture_on_commit_callbacks):
    from django.core.files.storage import default_storage

    ticket = make_ticket()
    reply = services.reply_post(ticket=ticket, author=None, text="x", silent=True)
    file = attachments_add(ticket=ticket, reply=reply, files=[IncomingFile.from_bytes("x.txt", b"x")])[0]
    with django_capture_on_commit_callbacks(execute=True):
        r = su_client.post(reverse("admin:helpdesk_ticket_delete", args=[ticket.pk]), {"post": "yes"})
    assert r.status_code == 302
    assert not default_storage.exists(file.file.name)


def test_the_ticket_page_shows_the_mails_html_safely_with_inline_images(su_client, db):
    from helpdesk.mail.ingest import ingest_mail

    factories.DepartmentFactory(name="Support", is_default=True)
    ticket = ingest_mail(corpus("inline_image.eml")).ticket
    html_only = ingest_mail(corpus("html_only.eml")).ticket
    page = su_client.get(reverse("admin:helpdesk_ticket_change", args=[ticket.pk])).content.decode()
    image = ticket.attachments.get()
    assert f'src="{reverse("admin:helpdesk_ticket_attachment", args=[ticket.pk, image.pk])}"' in page
    page = su_client.get(reverse("admin:helpdesk_ticket_change", args=[html_only.pk])).content.decode()
    assert "<b>2026-113</b>" in page
    assert "tracker.example" not in page and "onclick" not in page and "alert(1)" not in page


def test_mailbox_password_is_never_shown_and_kept_when_left_empty(su_client, db):
    box = Mailbox.objects.create(name="support", host="imap.example", username="u", password="hunter2-secret")
    url = reverse("admin:helpdesk_mailbox_change", args=[box.pk])
    page = su_client.get(url).content.decode()
    assert "hunter2-secret" not in page
    r = su_client.post(url, {"name": "support", "protocol": "imap", "host": "imap2.example", "port": "",
                             "security": "ssl", "username": "u", "password": "", "folder": "INBOX", "active": "on"})
    assert r.status_code == 302
    box.refresh_from_db()
    assert box.host == "imap2.example" and box.password == "hunter2-secret"


def test_a_group_agent_deletes_a_reply_with_its_files_and_mail(agent_client, make_ticket, group_agent,
                                                               django_capture_on_commit_callbacks):
    from django.core.files.storage import default_storage

    from helpdesk.models import MailMessage

    ticket = make_ticket()
    reply = services.reply_post(ticket=ticket, author=group_agent, text="x", silent=True)
    file = attachments_add(ticket=ticket, reply=reply, files=[IncomingFile.from_bytes("x.txt", b"x")])[0]
    MailMessage.objects.create(direction="out", message_id="<m@x>", ticket=ticket, reply=reply, status="sent")
    with django_capture_on_commit_callbacks(execute=True):
        r = agent_client.post(reverse("admin:helpdesk_reply_delete", args=[reply.pk]), {"post": "yes"})
    assert r.status_code == 302 and not Reply.objects.filter(pk=reply.pk).exists()
    assert not default_storage.exists(file.file.name)
    assert MailMessage.objects.get().reply is None  # the mail log keeps the mail
