"""Attachments the way Zammad does them: ``attachments: [{"filename", "data" (base64),
"mime-type"}]`` on an article, listed on each article with ``preferences``, downloaded from
``/ticket_attachment/{ticket_id}/{article_id}/{id}`` with the native download's rules."""

import base64

import pytest
from requests.exceptions import HTTPError
from zammad_py import ZammadAPI

from helpdesk import services
from helpdesk.attachments import IncomingFile, attachments_add
from helpdesk.dialects.zammad.mapping import REPLY_OFFSET
from helpdesk.models import Attachment, Reply, ReplyType, Ticket
from tests import factories
from tests.api.test_attachments import PNG

from .conftest import BASE, create_ticket, new_key, token_client

#: Bytes no JSON decoder takes (zammad-py's download returns JSON when it parses).
BLOB = PNG + bytes(range(256)) * 4


def b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


def attachment(name: str, content: bytes, mime: str = "application/octet-stream") -> dict:
    return {"filename": name, "data": b64(content), "mime-type": mime}


# -- the real client, on a live server ----------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("default_statuses")
class TestZammadPy:
    @pytest.fixture
    def zpy(self, live_server, zagent, org, sessions):
        client = ZammadAPI(url=f"{live_server.url}/api/v1/", http_token=new_key(zagent))
        sessions(client)
        return client

    def test_an_article_with_files_round_trips(self, zpy, live_server):
        ticket = zpy.ticket.create(params={
            "title": "Screenshot", "group": "Users", "customer_id": "guess:david@acme.example",
            "article": {"body": "Here is the screenshot you asked for", "type": "note", "internal": False,
                        "attachments": [attachment("shot.png", PNG, "image/png")]},
        })
        article = zpy.ticket_article.create(params={
            "ticket_id": ticket["id"], "body": "Two more", "type": "note", "internal": True,
            "attachments": [attachment("blob.bin", BLOB), attachment("notes.txt", b"line 1\nline 2\n", "text/plain")],
        })
        assert [a["filename"] for a in article["attachments"]] == ["blob.bin", "notes.txt"]
        assert article["attachments"][1] == {
            "id": article["attachments"][1]["id"], "filename": "notes.txt", "size": "14",
            "preferences": {"Content-Type": "text/plain", "Mime-Type": "text/plain"},
        }
        # Read back: the first message's file and the note's, on their articles.
        opening, note = zpy.ticket.articles(ticket["id"])
        assert opening["id"] == ticket["article_ids"][0]
        assert [(a["filename"], a["size"], a["preferences"]["Mime-Type"]) for a in opening["attachments"]] == [
            ("shot.png", str(len(PNG)), "image/png")]
        assert note["attachments"] == article["attachments"]
        assert zpy.ticket_article.find(article["id"])["attachments"] == article["attachments"]
        # Downloaded with the client's own method: the very bytes sent.
        blob = note["attachments"][0]
        assert zpy.ticket_article_attachment.download(blob["id"], note["id"], ticket["id"]) == BLOB
        shot = opening["attachments"][0]
        assert zpy.ticket_article_attachment.download(shot["id"], opening["id"], ticket["id"]) == PNG
        # The native download's safe headers.
        raw = zpy.session.get(f"{live_server.url}/api/v1/ticket_attachment/{ticket['id']}/{opening['id']}/{shot['id']}")
        assert raw.headers["Content-Type"] == "image/png"
        assert raw.headers["Content-Disposition"].startswith('attachment; filename="shot.png"')
        assert raw.headers["X-Content-Type-Options"] == "nosniff"

    def test_a_put_article_takes_files(self, zpy):
        ticket = zpy.ticket.create(params={
            "title": "Printer", "group": "Users", "customer_id": "guess:david@acme.example",
            "article": {"body": "It smokes"},
        })
        zpy.ticket.update(ticket["id"], params={"article": {"body": "Log attached", "attachments": [
            attachment("printer.log", b"E42 paper jam\n")]}})
        reply = Reply.objects.get(ticket_id=ticket["id"])
        assert [(a.filename, a.file.read()) for a in reply.attachments.all()] == [("printer.log", b"E42 paper jam\n")]

    def test_wrong_ids_are_a_404_for_the_client(self, zpy):
        ticket = zpy.ticket.create(params={
            "title": "Screenshot", "group": "Users", "customer_id": "guess:david@acme.example",
            "article": {"body": "Shot", "attachments": [attachment("shot.png", PNG)]},
        })
        file_id = Attachment.objects.get().pk
        with pytest.raises(HTTPError, match="Attachment not found"):
            zpy.ticket_article_attachment.download(file_id, ticket["id"] + 1, ticket["id"])


# -- the limits and the error paths ---------------------------------------------------------


@pytest.fixture
def ticket(zapi, org):
    return create_ticket(zapi)


def post_article(client, ticket_id, files, **extra):
    body = {"ticket_id": ticket_id, "body": "Files", "type": "note", "internal": False, "attachments": files, **extra}
    return client.post(f"{BASE}/ticket_articles", body, format="json")


def assert_zammad_error(response, status, *fragments):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error", "error_human"}
    for fragment in fragments:
        assert fragment in body["error"], body["error"]


@pytest.mark.django_db
class TestLimits:
    def test_a_file_over_the_size_limit_is_a_413_and_writes_no_article(self, zapi, ticket, settings):
        settings.HELPDESK = {"ATTACHMENT_MAX_BYTES": 100}
        r = post_article(zapi, ticket["id"], [attachment("small.txt", b"ok"), attachment("big.bin", bytes(101))])
        assert_zammad_error(r, 413, "big.bin is 101 bytes; the limit is 100.")
        assert not Reply.objects.exists() and not Attachment.objects.exists()

    def test_too_many_files_is_a_422(self, zapi, ticket, settings):
        settings.HELPDESK = {"ATTACHMENT_MAX_COUNT": 2}
        r = post_article(zapi, ticket["id"], [attachment(f"{n}.txt", b"x") for n in range(3)])
        assert_zammad_error(r, 422, "attachments: At most 2 files per message.")
        assert not Reply.objects.exists() and not Attachment.objects.exists()

    def test_a_type_not_accepted_is_a_422(self, zapi, ticket, settings):
        settings.HELPDESK = {"ATTACHMENT_ALLOWED_TYPES": ["image/*"]}
        r = post_article(zapi, ticket["id"], [attachment("shot.png", PNG), attachment("notes.txt", b"text")])
        assert_zammad_error(r, 422, "notes.txt is of type text/plain, which is not accepted.")
        assert not Reply.objects.exists() and not Attachment.objects.exists()

    def test_bad_base64_is_a_422_naming_the_attachment(self, zapi, ticket):
        files = [attachment("good.txt", b"fine"), {"filename": "broken.png", "data": "not base64!"}]
        r = post_article(zapi, ticket["id"], files)
        assert_zammad_error(r, 422, "attachment 2 (broken.png): data is not valid base64.")
        assert not Reply.objects.exists() and not Attachment.objects.exists()

    @pytest.mark.parametrize("files", [
        "a string", [{"data": b64(b"x")}], [{"filename": "a.txt"}], [{"filename": "a.txt", "data": 5}],
        [{"filename": "a.txt", "data": "eA==", "mime-type": 7}], ["a.txt"],
    ])
    def test_what_is_not_an_attachment_is_a_422(self, zapi, ticket, files):
        r = post_article(zapi, ticket["id"], files)
        assert_zammad_error(r, 422, "article: attachment")
        assert not Reply.objects.exists()

    def test_line_wrapped_base64_is_base64(self, zapi, ticket):
        r = post_article(zapi, ticket["id"], [{"filename": "blob.bin", "data": base64.encodebytes(BLOB).decode()}])
        assert r.status_code == 201, r.content
        assert Attachment.objects.get().file.read() == BLOB

    def test_a_bad_file_on_a_new_ticket_writes_no_ticket_and_no_customer(self, zapi, org):
        body = {"title": "T", "group": "Users", "customer_id": "guess:new.person@acme.example",
                "article": {"body": "B", "attachments": [{"filename": "x.bin", "data": "%%%"}]}}
        r = zapi.post(f"{BASE}/tickets", body, format="json")
        assert_zammad_error(r, 422, "x.bin")
        assert not Ticket.objects.exists()
        from django.contrib.auth import get_user_model

        assert not get_user_model().objects.filter(email="new.person@acme.example").exists()

    def test_a_bad_file_on_a_put_changes_nothing(self, zapi, ticket, settings):
        settings.HELPDESK = {"ATTACHMENT_MAX_BYTES": 3}
        body = {"title": "Renamed", "article": {"body": "B", "attachments": [attachment("four.txt", b"four")]}}
        r = zapi.put(f"{BASE}/tickets/{ticket['id']}", body, format="json")
        assert_zammad_error(r, 413, "four.txt")
        assert Ticket.objects.get().subject == "Help me!"
        assert not Reply.objects.exists()

    def test_a_body_may_carry_the_files_the_limits_allow(self, zapi, ticket, settings):
        # Over MAX_BODY_BYTES, within room for ATTACHMENT_MAX_COUNT files of ATTACHMENT_MAX_BYTES.
        settings.HELPDESK = {"MAX_BODY_BYTES": 2000, "ATTACHMENT_MAX_BYTES": 3000, "ATTACHMENT_MAX_COUNT": 1}
        r = post_article(zapi, ticket["id"], [attachment("a.bin", bytes(2900))])
        assert r.status_code == 201, r.content
        assert_zammad_error(post_article(zapi, ticket["id"], [attachment("b.bin", bytes(5000))]), 413)
        # A write that takes no files keeps the plain limit.
        r = zapi.post(f"{BASE}/tags/add", {"object": "Ticket", "o_id": ticket["id"], "item": "x" * 3000}, format="json")
        assert_zammad_error(r, 413)


@pytest.mark.django_db
class TestDownload:
    @pytest.fixture
    def files(self, org, customer, zagent):
        """A customer's ticket with a file on its message, a public reply's and a note's."""
        ticket = factories.TicketFactory(client=org, requester=customer, creator=customer)
        reply = services.reply_post(ticket=ticket, author=zagent, text="Answer", type=ReplyType.REPLY, silent=True)
        note = services.reply_post(ticket=ticket, author=zagent, text="Internal", type=ReplyType.NOTE, silent=True)
        opening_file, = attachments_add(ticket=ticket, files=[IncomingFile.from_bytes("mine.png", PNG)])
        reply_file, = attachments_add(ticket=ticket, reply=reply, files=[IncomingFile.from_bytes("answer.txt", b"A")])
        note_file, = attachments_add(ticket=ticket, reply=note, files=[IncomingFile.from_bytes("secret.txt", b"S")])
        return {
            "opening": (ticket.pk, ticket.pk, opening_file.pk),
            "reply": (ticket.pk, REPLY_OFFSET + reply.pk, reply_file.pk),
            "note": (ticket.pk, REPLY_OFFSET + note.pk, note_file.pk),
        }

    @staticmethod
    def get(client, ids):
        return client.get(f"{BASE}/ticket_attachment/{ids[0]}/{ids[1]}/{ids[2]}")

    def test_the_customer_gets_their_files_but_never_a_notes(self, customer_api, files):
        for name, expected in (("opening", PNG), ("reply", b"A")):
            response = self.get(customer_api, files[name])
            assert response.status_code == 200, (name, response.content)
            assert b"".join(response.streaming_content) == expected
        assert_zammad_error(self.get(customer_api, files["note"]), 404, "Attachment not found.")
        # The note's article does not list for them either.
        articles = customer_api.get(f"{BASE}/ticket_articles/by_ticket/{files['opening'][0]}").json()
        assert [[a["filename"] for a in article["attachments"]] for article in articles] == [["mine.png"], ["answer.txt"]]

    def test_an_agent_gets_the_notes_file(self, zapi, files):
        response = self.get(zapi, files["note"])
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith('attachment; filename="secret.txt"')
        assert response["Content-Type"].startswith("text/plain")
        assert response["X-Content-Type-Options"] == "nosniff"

    def test_another_organizations_customer_gets_a_404(self, files):
        stranger = factories.ContactFactory(client=factories.ClientFactory(name="Other Corp")).user
        for ids in files.values():
            assert_zammad_error(self.get(token_client(stranger), ids), 404)

    def test_ids_that_do_not_belong_together_are_a_404(self, zapi, files):
        ticket_id, opening_id, opening_file = files["opening"]
        _t, reply_id, reply_file = files["reply"]
        other = factories.TicketFactory()
        for ids in [
            (ticket_id, reply_id, opening_file),  # the message's file under a reply
            (ticket_id, opening_id, reply_file),  # a reply's file under the message
            (other.pk, other.pk, opening_file),  # another ticket
            (other.pk, reply_id, reply_file),
            (ticket_id, opening_id, 10**9),  # no such file
            ("x", opening_id, opening_file), (ticket_id, "1e3", opening_file), (ticket_id, opening_id, "9" * 5000),
        ]:
            assert_zammad_error(self.get(zapi, ids), 404, "Attachment not found.")

    def test_an_html_file_is_never_served_as_html(self, zapi, ticket):
        files = [attachment("page.html", b"<html><script>alert(1)</script></html>", "text/html")]
        article = post_article(zapi, ticket["id"], files).json()
        listed = article["attachments"][0]
        assert listed["preferences"] == {"Content-Type": "text/plain", "Mime-Type": "text/plain"}
        response = self.get(zapi, (ticket["id"], article["id"], listed["id"]))
        assert response["Content-Type"].startswith("text/plain")
        assert response["Content-Disposition"].startswith("attachment")
        assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"

    def test_an_inline_image_says_so_in_its_preferences(self, zapi, org, customer):
        ticket = factories.TicketFactory(client=org, requester=customer)
        attachments_add(ticket=ticket, files=[IncomingFile.from_bytes("logo.png", PNG, content_id="logo@x", inline=True)])
        article = zapi.get(f"{BASE}/ticket_articles/{ticket.pk}").json()
        assert article["attachments"][0]["preferences"] == {
            "Content-Type": "image/png", "Mime-Type": "image/png", "Content-Disposition": "inline", "Content-ID": "logo@x",
        }
