"""Articles: our ticket's message, its replies and internal notes, in Zammad's shape."""

import pytest

from helpdesk import services
from helpdesk.dialects.zammad.mapping import REPLY_OFFSET
from helpdesk.models import Reply, ReplyType, Ticket
from tests import factories

from .conftest import BASE, create_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(zapi, org):
    return Ticket.objects.get(pk=create_ticket(zapi, customer_id="guess:nicole@acme.example")["id"])


def test_create_public_and_internal_articles(zapi, ticket, zagent):
    public = zapi.post(f"{BASE}/ticket_articles", {"ticket_id": ticket.pk, "body": "We are on it",
                                                    "type": "note", "internal": False}, format="json")
    internal = zapi.post(f"{BASE}/ticket_articles", {"ticket_id": ticket.pk, "body": "Between us",
                                                      "internal": True}, format="json")
    assert public.status_code == internal.status_code == 201
    assert public.json()["internal"] is False and internal.json()["internal"] is True
    assert public.json()["sender"] == "Agent" and public.json()["created_by_id"] == zagent.pk
    replies = list(Reply.objects.filter(ticket=ticket).order_by("pk"))
    assert [(r.text, r.type) for r in replies] == [("We are on it", ReplyType.REPLY), ("Between us", ReplyType.NOTE)]
    ticket.refresh_from_db()
    assert ticket.first_response_at is not None and ticket.replies_count == 1 and ticket.notes_count == 1


def test_the_docs_create_example(zapi, ticket):
    response = zapi.post(f"{BASE}/ticket_articles", {
        "ticket_id": ticket.pk, "to": "", "cc": "", "subject": "some subject",
        "body": "huhuhuu<br>huhuhuu<br>huhuhuu<br><br>", "content_type": "text/html", "type": "note",
        "internal": False, "time_unit": "12"}, format="json")
    assert response.status_code == 201
    assert response.json()["body"] == "huhuhuu\nhuhuhuu\nhuhuhuu"
    ticket.refresh_from_db()
    assert float(ticket.time_spent) == 12


def test_by_ticket_and_show(zapi, ticket, zagent):
    reply = services.reply_post(ticket=ticket, author=zagent, text="answer")
    listed = zapi.get(f"{BASE}/ticket_articles/by_ticket/{ticket.pk}").json()
    assert [a["id"] for a in listed] == [ticket.pk, REPLY_OFFSET + reply.pk]
    assert [a["body"] for a in listed] == ["I am a message!", "answer"]
    assert listed[0]["sender"] == "Customer" and listed[0]["from"] == "nicole@acme.example"
    assert {"internal", "sender", "from", "to", "body", "content_type", "created_by_id", "created_at"} <= set(listed[0])
    assert zapi.get(f"{BASE}/ticket_articles/{ticket.pk}").json()["body"] == "I am a message!"
    assert zapi.get(f"{BASE}/ticket_articles/{REPLY_OFFSET + reply.pk}").json()["body"] == "answer"


@pytest.mark.parametrize("bad", ["abc", "0", str(REPLY_OFFSET + 999999), "999999", "9" * 30])
def test_show_404(zapi, ticket, bad):
    response = zapi.get(f"{BASE}/ticket_articles/{bad}")
    assert response.status_code == 404 and "Ticket::Article" in response.json()["error"]


def test_by_ticket_404(zapi):
    assert zapi.get(f"{BASE}/ticket_articles/by_ticket/4242").status_code == 404


@pytest.mark.parametrize(("payload", "status"), [
    ({"body": "x"}, 422),
    ({"ticket_id": "abc", "body": "x"}, 422),
    ({"ticket_id": 424242, "body": "x"}, 404),
    ({"ticket_id": "T", "body": ""}, 422),
    ({"ticket_id": "T", "body": "x", "internal": "perhaps"}, 422),
    ({"ticket_id": "T", "body": "x", "type": "sms"}, 422),
    ({"ticket_id": "T", "body": "x", "time_unit": [1]}, 422),
])
def test_create_errors(zapi, ticket, payload, status):
    if payload.get("ticket_id") == "T":
        payload = {**payload, "ticket_id": ticket.pk}
    response = zapi.post(f"{BASE}/ticket_articles", payload, format="json")
    assert response.status_code == status and response.json()["error"]
    assert Reply.objects.count() == 0


def test_customer_never_sees_internal_articles(customer_api, zapi, ticket, zagent):
    note = services.reply_post(ticket=ticket, author=zagent, text="secret", type=ReplyType.NOTE)
    listed = customer_api.get(f"{BASE}/ticket_articles/by_ticket/{ticket.pk}").json()
    assert [a["body"] for a in listed] == ["I am a message!"]
    assert customer_api.get(f"{BASE}/ticket_articles/{REPLY_OFFSET + note.pk}").status_code == 404
    assert customer_api.get(f"{BASE}/tickets/{ticket.pk}").json()["article_count"] == 1
    assert zapi.get(f"{BASE}/tickets/{ticket.pk}").json()["article_count"] == 2


def test_customer_writes_public_articles_only(customer_api, ticket, customer):
    response = customer_api.post(f"{BASE}/ticket_articles", {"ticket_id": ticket.pk, "body": "thanks"}, format="json")
    assert response.status_code == 201 and response.json()["sender"] == "Customer"
    denied = customer_api.post(f"{BASE}/ticket_articles", {"ticket_id": ticket.pk, "body": "x", "internal": True},
                               format="json")
    assert denied.status_code == 422 and "agents" in denied.json()["error"]
    other = factories.TicketFactory()
    assert customer_api.post(f"{BASE}/ticket_articles", {"ticket_id": other.pk, "body": "x"},
                             format="json").status_code == 404
