"""Files on tickets and replies through the API: upload (multipart ``files``), listing,
authorized download, the limits, and deletion with their ticket or reply."""


import pytest
from django.core.files.storage import default_storage

from helpdesk import services
from helpdesk.attachments import IncomingFile, attachments_add
from helpdesk.models import Attachment
from tests import factories

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63600000"
                    "00000200015e0ba0fa0000000049454e44ae426082")


def upload(name, content, content_type="application/octet-stream"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)


def create_ticket(api, department, client_org, files, **extra):
    data = {
        "ticket_subject": "Screenshot", "ticket_message": "here it is", "ticket_priority": "normal",
        "ticket_categoryid": department.pk, "ticket_clientid": client_org.pk, "files": files, **extra,
    }
    return api.post("/api/tickets", data, format="multipart")


def test_create_with_files_lists_them_with_download_urls(api, department, client_org):
    r = create_ticket(api, department, client_org, [upload("shot.png", PNG), upload("notes.txt", b"some notes")])
    assert r.status_code == 201, r.content
    files = r.json()["data"]["attachments"]
    assert [f["filename"] for f in files] == ["shot.png", "notes.txt"]
    assert files[0]["content_type"] == "image/png" and files[0]["size"] == len(PNG)
    download = api.get(files[0]["url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG
    assert download["Content-Type"] == "image/png"
    assert download["Content-Disposition"].startswith('attachment; filename="shot.png"')
    assert download["X-Content-Type-Options"] == "nosniff"
    assert api.get(f"/api/tickets/{r.json()['data']['id']}").json()["data"]["attachments"] == files


def test_sniffed_type_not_the_claimed_one(api, department, client_org):
    fake = upload("invoice.pdf", b"<html><script>alert(1)</script></html>", "application/pdf")
    r = create_ticket(api, department, client_org, [fake])
    file = r.json()["data"]["attachments"][0]
    assert file["content_type"] == "text/plain"  # never text/html from a name or a claim
    assert api.get(file["url"])["Content-Type"].startswith("text/plain")


def test_reply_with_files(api, ticket):
    r = api.post(f"/api/tickets/{ticket.pk}/replies",
                 {"ticketreply_text": "attached", "files": [upload("a.png", PNG)]}, format="multipart")
    assert r.status_code == 201, r.content
    assert [f["filename"] for f in r.json()["data"]["attachments"]] == ["a.png"]
    listed = api.get(f"/api/tickets/{ticket.pk}/replies").json()["data"]
    assert listed[0]["attachments"][0]["filename"] == "a.png"


def test_cc_on_create_and_patch(api, department, client_org):
    r = create_ticket(api, department, client_org, [], ticket_cc="a@x.example, b@x.example")
    assert r.status_code == 201, r.content
    ticket_id = r.json()["data"]["id"]
    assert r.json()["data"]["cc"] == ["a@x.example", "b@x.example"]
    r = api.patch(f"/api/tickets/{ticket_id}", {"ticket_cc": ["c@x.example"]}, format="json")
    assert r.status_code == 200 and r.json()["data"]["cc"] == ["c@x.example"]
    r = api.patch(f"/api/tickets/{ticket_id}", {"ticket_cc": ["not an address"]}, format="json")
    assert r.status_code == 422 and "ticket_cc" in r.json()["error"]["fields"]


def test_too_large_is_413_and_writes_nothing(api, department, client_org, settings):
    settings.HELPDESK = {"ATTACHMENT_MAX_BYTES": 10}
    r = create_ticket(api, department, client_org, [upload("big.bin", b"x" * 11)])
    assert r.status_code == 413
    assert "big.bin" in r.json()["error"]["message"]
    assert not Attachment.objects.exists()
    from helpdesk.models import Ticket

    assert not Ticket.objects.exists()


def test_too_many_files_is_422(api, ticket, settings):
    settings.HELPDESK = {"ATTACHMENT_MAX_COUNT": 1}
    r = api.post(f"/api/tickets/{ticket.pk}/replies",
                 {"ticketreply_text": "two", "files": [upload("a.txt", b"a"), upload("b.txt", b"b")]}, format="multipart")
    assert r.status_code == 422 and "files" in r.json()["error"]["fields"]
    assert not ticket.replies.exists()


def test_type_not_allowed_is_422(api, ticket, settings):
    settings.HELPDESK = {"ATTACHMENT_ALLOWED_TYPES": ["image/*"]}
    r = api.post(f"/api/tickets/{ticket.pk}/replies",
                 {"ticketreply_text": "exe", "files": [upload("setup.exe", b"MZ\x90\x00" + b"\x00" * 60)]}, format="multipart")
    assert r.status_code == 422 and "not accepted" in str(r.json()["error"]["fields"]["files"])
    ok = api.post(f"/api/tickets/{ticket.pk}/replies",
                  {"ticketreply_text": "png", "files": [upload("a.png", PNG)]}, format="multipart")
    assert ok.status_code == 201


@pytest.fixture
def note_file(ticket, agent):
    note = services.reply_post(ticket=ticket, author=agent, text="internal", type="note", silent=True)
    return attachments_add(ticket=ticket, reply=note, files=[IncomingFile.from_bytes("secret.txt", b"s")])[0]


def test_contact_never_gets_a_notes_file(contact_api, contact, agent, note_file):
    ticket = note_file.ticket
    ticket.client = contact.client
    ticket.save()
    assert contact_api.get(f"/api/attachments/{note_file.pk}").status_code == 404


def test_contact_never_gets_another_clients_file(contact_api, ticket):
    row = attachments_add(ticket=ticket, files=[IncomingFile.from_bytes("theirs.txt", b"t")])[0]
    r = contact_api.get(f"/api/attachments/{row.pk}")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_contact_gets_their_own_clients_file(contact_api, contact, department):
    ticket = factories.TicketFactory(department=department, client=contact.client)
    row = attachments_add(ticket=ticket, files=[IncomingFile.from_bytes("mine.txt", b"m")])[0]
    assert contact_api.get(f"/api/attachments/{row.pk}").status_code == 200


def test_agent_gets_a_notes_file(api, note_file):
    assert api.get(f"/api/attachments/{note_file.pk}").status_code == 200


@pytest.mark.parametrize("pk", ["0", "abc", str(2**70), "99999"])
def test_unknown_ids_are_404(api, pk):
    assert api.get(f"/api/attachments/{pk}").status_code == 404


def test_anonymous_is_refused(anon, note_file):
    assert anon.get(f"/api/attachments/{note_file.pk}").status_code in (401, 403)


def test_files_go_with_their_reply_and_ticket(api, ticket, agent, django_capture_on_commit_callbacks):
    reply = services.reply_post(ticket=ticket, author=agent, text="x", silent=True)
    on_reply = attachments_add(ticket=ticket, reply=reply, files=[IncomingFile.from_bytes("r.txt", b"r")])[0]
    on_ticket = attachments_add(ticket=ticket, files=[IncomingFile.from_bytes("t.txt", b"t")])[0]
    names = on_reply.file.name, on_ticket.file.name
    assert all(default_storage.exists(n) for n in names)
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/tickets/{ticket.pk}/replies/{reply.pk}").status_code == 204
    assert not default_storage.exists(names[0]) and default_storage.exists(names[1])
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/tickets/{ticket.pk}").status_code in (204, 403)
        services.ticket_delete(ticket=ticket)
    assert not default_storage.exists(names[1]) and not Attachment.objects.exists()


def test_multipart_body_over_the_plain_limit_is_accepted_for_files(api, ticket, settings):
    settings.HELPDESK = {"MAX_BODY_BYTES": 1024}
    r = api.post(f"/api/tickets/{ticket.pk}/replies",
                 {"ticketreply_text": "big", "files": [upload("big.txt", b"a" * 5000)]}, format="multipart")
    assert r.status_code == 201
    r = api.post(f"/api/tickets/{ticket.pk}/replies", {"ticketreply_text": "a" * 5000}, format="json")
    assert r.status_code == 413


def test_a_list_page_carries_each_tickets_files_in_constant_queries(api, department, client_org):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = create_ticket(api, department, client_org, [upload("one.png", PNG)]).json()["data"]
    with CaptureQueriesContext(connection) as one:
        assert api.get("/api/tickets").status_code == 200
    second = create_ticket(api, department, client_org, [upload("two.txt", b"2"), upload("three.txt", b"3")])
    create_ticket(api, department, client_org, [])
    with CaptureQueriesContext(connection) as three:
        page = api.get("/api/tickets").json()["data"]
    by_id = {t["id"]: t["attachments"] for t in page}
    assert by_id[first["id"]] == first["attachments"]
    assert [f["filename"] for f in by_id[second.json()["data"]["id"]]] == ["two.txt", "three.txt"]
    assert by_id[second.json()["data"]["id"]] == second.json()["data"]["attachments"]
    assert sorted(len(files) for files in by_id.values()) == [0, 1, 2]
    # PostgreSQL reads the files inside the page's query; SQLite with one prefetch query.
    assert len(three) == len(one)
