"""Status, archive/restore, tags, replies and history endpoints."""

import pytest

from helpdesk import services
from helpdesk.models import ActiveState, Reply, StatusChange, Tag, Ticket, TicketStatus
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def opened(agent, department, client_org):
    """A ticket made by the service, so it has its first history row."""
    return services.ticket_create(
        subject="Cannot log in", message="Error", department=department, client=client_org, creator=agent, silent=True
    )


class TestStatus:
    def test_change_records_history_and_closed_date(self, api, opened, agent):
        r = api.put(f"/api/tickets/{opened.pk}/status", {"status": 2}, format="json")
        assert r.status_code == 200, r.content
        data = r.json()["data"]
        assert data["status"] == {"id": 2, "title": "Closed"}
        assert data["dates"]["closed"] is not None
        assert StatusChange.objects.filter(ticket=opened).count() == 2
        r = api.put(f"/api/tickets/{opened.pk}/status", "status=1", content_type="application/x-www-form-urlencoded")
        assert r.json()["data"]["dates"]["closed"] is None

    def test_by_title(self, api, opened):
        r = api.put(f"/api/tickets/{opened.pk}/status", {"status": "on hold"}, format="json")
        assert r.json()["data"]["status"]["id"] == TicketStatus.ON_HOLD

    @pytest.mark.parametrize("value", [99, "Nope", "", None, [1], {"id": 1}, 10**30, True])
    def test_unknown_status_is_422(self, api, opened, value):
        r = api.put(f"/api/tickets/{opened.pk}/status", {"status": value}, format="json")
        assert r.status_code == 422, r.content
        assert "status" in r.json()["error"]["fields"]
        assert StatusChange.objects.filter(ticket=opened).count() == 1

    def test_missing_status_is_422(self, api, opened):
        r = api.put(f"/api/tickets/{opened.pk}/status", {}, format="json")
        assert r.json()["error"]["fields"] == {"status": ["This field is required."]}

    def test_roles(self, contact_api, contact):
        own = factories.TicketFactory(client=contact.client)
        other = factories.TicketFactory()
        assert contact_api.put(f"/api/tickets/{own.pk}/status", {"status": 2}, format="json").status_code == 403
        assert contact_api.put(f"/api/tickets/{other.pk}/status", {"status": 2}, format="json").status_code == 404

    def test_unknown_ticket_is_404(self, api):
        assert api.put("/api/tickets/424242/status", {"status": 2}, format="json").status_code == 404


class TestArchive:
    def test_archive_and_restore(self, api, ticket):
        r = api.put(f"/api/tickets/{ticket.pk}/archive")
        assert r.status_code == 200 and r.json()["data"]["active_state"] == "archived"
        assert Ticket.objects.get(pk=ticket.pk).active_state == ActiveState.ARCHIVED
        assert [t["id"] for t in api.get("/api/tickets").json()["data"]] == []
        r = api.put(f"/api/tickets/{ticket.pk}/restore/")
        assert r.json()["data"]["active_state"] == "active"

    def test_archived_ticket_still_readable(self, api, ticket):
        api.put(f"/api/tickets/{ticket.pk}/archive")
        assert api.get(f"/api/tickets/{ticket.pk}").status_code == 200

    def test_contact_forbidden(self, contact_api, contact):
        own = factories.TicketFactory(client=contact.client)
        assert contact_api.put(f"/api/tickets/{own.pk}/archive").status_code == 403
        assert contact_api.put(f"/api/tickets/{own.pk}/restore").status_code == 403

    def test_unexpected_body_keys_are_422(self, api, ticket):
        assert api.put(f"/api/tickets/{ticket.pk}/archive", {"state": "x"}, format="json").status_code == 422


class TestTags:
    def test_full_set_replace_creating_unknown(self, api, ticket):
        ticket.tags.set([factories.TagFactory(name="old")])
        r = api.put(f"/api/tickets/{ticket.pk}/tags", {"tags": ["billing", "VIP", "vip"]}, format="json")
        assert r.status_code == 200, r.content
        assert r.json()["data"]["tags"] == ["billing", "VIP"]
        assert Tag.objects.filter(name="billing").exists()

    def test_repeated_form_field_and_php_style(self, api, ticket):
        r = api.put(f"/api/tickets/{ticket.pk}/tags", "tags=a&tags=b", content_type="application/x-www-form-urlencoded")
        assert r.json()["data"]["tags"] == ["a", "b"]
        r = api.put(f"/api/tickets/{ticket.pk}/tags", "tags[]=c&tags[]=d", content_type="application/x-www-form-urlencoded")
        assert r.json()["data"]["tags"] == ["c", "d"]

    def test_empty_clears(self, api, ticket):
        ticket.tags.set([factories.TagFactory()])
        assert api.put(f"/api/tickets/{ticket.pk}/tags", {"tags": []}, format="json").json()["data"]["tags"] == []
        ticket.tags.set([factories.TagFactory()])
        r = api.put(f"/api/tickets/{ticket.pk}/tags", "tags=", content_type="application/x-www-form-urlencoded")
        assert r.json()["data"]["tags"] == []

    @pytest.mark.parametrize("body", [{}, {"tags": "a,b"}, {"tags": [["a"]]}, {"tags": ["x" * 51]}])
    def test_bad_bodies_are_422(self, api, ticket, body):
        ticket.tags.set([factories.TagFactory(name="keep")])
        r = api.put(f"/api/tickets/{ticket.pk}/tags", body, format="json")
        assert r.status_code == 422
        assert "tags" in r.json()["error"]["fields"]
        assert [t.name for t in ticket.tags.all()] == ["keep"]

    def test_contact_forbidden(self, contact_api, contact):
        own = factories.TicketFactory(client=contact.client)
        assert contact_api.put(f"/api/tickets/{own.pk}/tags", {"tags": []}, format="json").status_code == 403


class TestReplies:
    def test_post_reply_form_encoded_updates_ticket(self, api, opened, agent):
        r = api.post(
            f"/api/tickets/{opened.pk}/replies", "ticketreply_text=We are looking into this for you.",
            content_type="application/x-www-form-urlencoded",
        )
        assert r.status_code == 201, r.content
        data = r.json()["data"]
        assert data["text"] == "We are looking into this for you."
        assert data["type"] == "reply"
        assert data["ticket_id"] == opened.pk
        assert data["author"]["id"] == agent.pk
        ticket = api.get(f"/api/tickets/{opened.pk}").json()["data"]
        assert ticket["replies_count"] == 1
        assert ticket["dates"]["last_reply"] == data["created"]
        assert ticket["dates"]["first_response"] == data["created"]
        assert ticket["dates"]["last_updated"] == data["created"]

    def test_note_is_hidden_from_contacts(self, api, contact_api, contact, agent):
        t = factories.TicketFactory(client=contact.client)
        assert api.post(f"/api/tickets/{t.pk}/replies", {"ticketreply_text": "internal", "ticketreply_type": "note"}, format="json").status_code == 201
        assert api.post(f"/api/tickets/{t.pk}/replies", {"ticketreply_text": "public"}, format="json").status_code == 201
        assert [r["text"] for r in api.get(f"/api/tickets/{t.pk}/replies").json()["data"]] == ["internal", "public"]
        r = contact_api.get(f"/api/tickets/{t.pk}/replies")
        assert [x["text"] for x in r.json()["data"]] == ["public"]
        assert r.json()["meta"]["total"] == 1

    def test_contact_replies_but_cannot_write_notes(self, contact_api, contact):
        t = factories.TicketFactory(client=contact.client)
        r = contact_api.post(f"/api/tickets/{t.pk}/replies", {"ticketreply_text": "thanks"}, format="json")
        assert r.status_code == 201
        r = contact_api.post(f"/api/tickets/{t.pk}/replies", {"ticketreply_text": "x", "ticketreply_type": "note"}, format="json")
        assert r.status_code == 422 and "ticketreply_type" in r.json()["error"]["fields"]
        assert Reply.objects.filter(ticket=t).count() == 1

    def test_contact_404_on_other_clients_conversation(self, contact_api):
        other = factories.TicketFactory()
        assert contact_api.get(f"/api/tickets/{other.pk}/replies").status_code == 404
        assert contact_api.post(f"/api/tickets/{other.pk}/replies", {"ticketreply_text": "x"}, format="json").status_code == 404

    @pytest.mark.parametrize("body, field", [({}, "ticketreply_text"), ({"ticketreply_text": "  "}, "ticketreply_text"),
                                             ({"ticketreply_text": "x", "ticketreply_type": "memo"}, "ticketreply_type"),
                                             ({"ticketreply_text": "x", "extra": 1}, "extra")])
    def test_bad_reply_is_422(self, api, ticket, body, field):
        r = api.post(f"/api/tickets/{ticket.pk}/replies", body, format="json")
        assert r.status_code == 422 and field in r.json()["error"]["fields"]
        assert not Reply.objects.exists()

    def test_replies_paginated_oldest_first(self, api, ticket, agent):
        made = [services.reply_post(ticket=ticket, author=agent, text=f"r{i}", silent=True) for i in range(5)]
        r = api.get(f"/api/tickets/{ticket.pk}/replies?limit=2&page=2")
        assert [x["id"] for x in r.json()["data"]] == [made[2].pk, made[3].pk]
        assert r.json()["meta"]["total"] == 5

    def test_replies_query_count(self, api, ticket, django_assert_max_num_queries):
        for _ in range(10):
            factories.ReplyFactory(ticket=ticket)
        api.get(f"/api/tickets/{ticket.pk}/replies")
        with django_assert_max_num_queries(7):  # + 2: the agent's permissions
            api.get(f"/api/tickets/{ticket.pk}/replies?limit=100")

    def test_delete_reply(self, api, ticket, agent):
        reply = services.reply_post(ticket=ticket, author=agent, text="oops", silent=True)
        assert api.delete(f"/api/tickets/{ticket.pk}/replies/{reply.pk}").status_code == 204
        assert not Reply.objects.filter(pk=reply.pk).exists()
        assert api.get(f"/api/tickets/{ticket.pk}").json()["data"]["replies_count"] == 0

    def test_delete_reply_of_another_ticket_is_404(self, api, ticket, agent):
        other = factories.TicketFactory()
        reply = services.reply_post(ticket=other, author=agent, text="x", silent=True)
        for rid in (reply.pk, "abc", 10**30):
            assert api.delete(f"/api/tickets/{ticket.pk}/replies/{rid}").status_code == 404
        assert Reply.objects.filter(pk=reply.pk).exists()

    def test_contact_cannot_delete_replies(self, contact_api, contact):
        t = factories.TicketFactory(client=contact.client)
        reply = factories.ReplyFactory(ticket=t)
        assert contact_api.delete(f"/api/tickets/{t.pk}/replies/{reply.pk}").status_code == 403


class TestHistory:
    def test_oldest_first_with_from_to_at_by(self, api, opened, agent):
        api.put(f"/api/tickets/{opened.pk}/status", {"status": 3}, format="json")
        api.put(f"/api/tickets/{opened.pk}/status", {"status": 2}, format="json")
        rows = api.get(f"/api/tickets/{opened.pk}/history").json()["data"]
        assert [(r["from"] and r["from"]["id"], r["to"]["id"]) for r in rows] == [(None, 1), (1, 3), (3, 2)]
        assert rows[1]["by"]["id"] == agent.pk
        assert rows[1]["at"].endswith("Z")

    def test_agents_only(self, contact_api, contact):
        own = factories.TicketFactory(client=contact.client)
        assert contact_api.get(f"/api/tickets/{own.pk}/history").status_code == 403
        assert contact_api.get(f"/api/tickets/{factories.TicketFactory().pk}/history").status_code == 404
