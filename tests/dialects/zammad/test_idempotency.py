"""``Idempotency-Key`` on the Zammad dialect, on a live server: a retried write answers as
the first time and writes nothing again; its errors come in Zammad's shape."""

import json
import threading

import pytest
import requests
from django.db import connection
from django.test import RequestFactory

from helpdesk.api.idempotency import request_fingerprint
from helpdesk.models import IdempotencyKey, Reply, StatusChange, Tag, Ticket
from tests import factories

from .conftest import new_key

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("default_statuses", "sessions")]

TICKET = {
    "title": "Printer on fire",
    "group": "Users",
    "customer_id": "guess:david@acme.example",
    "article": {"subject": "Help", "body": "Smoke everywhere", "type": "note", "internal": False},
}


class Zammad:
    """A Zammad client as scripts write one: ``requests`` with ``Token token=KEY``."""

    def __init__(self, base: str, user) -> None:
        self.base = f"{base}/api/v1"
        self.headers = {"Authorization": f"Token token={new_key(user)}"}

    def send(self, method: str, path: str, body=None, key: str | None = None) -> requests.Response:
        headers = dict(self.headers, **({"Idempotency-Key": key} if key is not None else {}))
        return requests.request(method, f"{self.base}{path}", json=body, headers=headers, timeout=60)


@pytest.fixture
def zammad(live_server, zagent, org):
    return Zammad(live_server.url, zagent)


def assert_replay_of(again: requests.Response, first: requests.Response) -> None:
    assert again.status_code == first.status_code
    assert again.content == first.content
    assert again.headers["Content-Type"] == first.headers["Content-Type"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers


def test_a_retried_ticket_create_answers_the_first_response_and_creates_one_ticket(zammad):
    first = zammad.send("POST", "/tickets", TICKET, key="create-1")
    assert first.status_code == 201, first.text
    again = zammad.send("POST", "/tickets", TICKET, key="create-1")
    assert_replay_of(again, first)
    assert Ticket.objects.count() == 1


def test_a_retried_article_is_posted_once(zammad):
    ticket_id = zammad.send("POST", "/tickets", TICKET).json()["id"]
    body = {"ticket_id": ticket_id, "body": "On it", "type": "note", "internal": False}
    responses = [zammad.send("POST", "/ticket_articles", body, key="article-1") for _ in range(3)]
    assert [r.status_code for r in responses] == [201, 201, 201]
    assert_replay_of(responses[2], responses[0])
    assert Reply.objects.filter(ticket_id=ticket_id).count() == 1


def test_a_retried_update_changes_the_state_and_adds_its_article_once(zammad):
    ticket_id = zammad.send("POST", "/tickets", TICKET).json()["id"]
    body = {"state": "closed", "article": {"body": "Solved", "internal": True}}
    first = zammad.send("PUT", f"/tickets/{ticket_id}", body, key="update-1")
    assert first.status_code == 200, first.text
    assert first.json()["state_id"] == 4
    changes = StatusChange.objects.filter(ticket_id=ticket_id).count()
    assert_replay_of(zammad.send("PUT", f"/tickets/{ticket_id}", body, key="update-1"), first)
    assert Reply.objects.filter(ticket_id=ticket_id).count() == 1
    assert StatusChange.objects.filter(ticket_id=ticket_id).count() == changes


def test_tag_writes_and_a_delete_are_replayed(zammad, live_server, zadmin):
    ticket_id = zammad.send("POST", "/tickets", TICKET).json()["id"]
    tag = {"object": "Ticket", "o_id": ticket_id, "item": "printer"}
    for path, method in (("/tags/add", "POST"), ("/tags/remove", "DELETE")):
        first = zammad.send(method, path, tag, key=f"tag-{method}")
        assert first.status_code == 201, first.text
        assert_replay_of(zammad.send(method, path, tag, key=f"tag-{method}"), first)
    assert not Tag.objects.filter(tickets=ticket_id).exists()
    admin = Zammad(live_server.url, zadmin)  # deleting needs helpdesk.delete_ticket
    first = admin.send("DELETE", f"/tickets/{ticket_id}", key="delete-1")
    assert first.status_code == 200, first.text
    again = admin.send("DELETE", f"/tickets/{ticket_id}", key="delete-1")
    assert_replay_of(again, first)  # the kept 200, not a 404 for the ticket now gone
    assert not Ticket.objects.filter(pk=ticket_id).exists()


def test_the_same_key_with_another_body_is_a_422_in_zammads_shape_and_writes_nothing(zammad):
    assert zammad.send("POST", "/tickets", TICKET, key="same").status_code == 201
    other = zammad.send("POST", "/tickets", dict(TICKET, title="Another printer"), key="same")
    assert other.status_code == 422
    body = other.json()
    assert set(body) == {"error", "error_human"}
    assert body["error"].startswith("Idempotency-Key: ")
    assert "different request" in body["error"]
    assert Ticket.objects.count() == 1
    # Another path with the key is "another request" too.
    assert zammad.send("POST", "/ticket_articles", {"ticket_id": 1, "body": "x"}, key="same").status_code == 422


def test_keys_are_per_user(live_server, zagent, org):
    other_agent = factories.AgentFactory(username="agent.jones", email="jones@example.com")
    first = Zammad(live_server.url, zagent).send("POST", "/tickets", TICKET, key="shared")
    second = Zammad(live_server.url, other_agent).send("POST", "/tickets", TICKET, key="shared")
    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in second.headers
    assert first.json()["id"] != second.json()["id"]
    assert Ticket.objects.count() == 2


def test_a_refused_request_releases_its_key(zammad):
    refused = zammad.send("POST", "/tickets", dict(TICKET, title=""), key="fixed-later")
    assert refused.status_code == 422
    assert refused.json()["error"] == "title is required."
    fixed = zammad.send("POST", "/tickets", TICKET, key="fixed-later")
    assert fixed.status_code == 201, fixed.text
    assert "Idempotent-Replayed" not in fixed.headers


def test_a_malformed_key_is_a_422_in_zammads_shape(zammad):
    answer = zammad.send("POST", "/tickets", TICKET, key="x" * 256)
    assert answer.status_code == 422
    assert answer.json()["error"].startswith("Idempotency-Key: ")
    assert Ticket.objects.count() == 0


def test_a_key_still_in_flight_is_a_409_in_zammads_shape_with_retry_after(zammad, zagent):
    # The first request with this key is still running: its claim, made as the view makes it.
    django_request = RequestFactory().post("/api/v1/tickets", data=json.dumps(TICKET), content_type="application/json")
    IdempotencyKey.objects.create(user=zagent, key="busy", fingerprint=request_fingerprint(django_request, 10**6))
    answer = zammad.send("POST", "/tickets", TICKET, key="busy")
    assert answer.status_code == 409
    assert answer.headers["Retry-After"] == "1"
    body = answer.json()
    assert set(body) == {"error", "error_human"} and "still in progress" in body["error"]
    assert Ticket.objects.count() == 0


def test_requests_without_a_key_or_reads_are_not_kept(zammad):
    zammad.send("POST", "/tickets", TICKET)
    zammad.send("POST", "/tickets", TICKET)
    assert Ticket.objects.count() == 2
    read = zammad.send("GET", "/tickets", key="read")
    assert read.status_code == 200 and "Idempotent-Replayed" not in read.headers
    assert not IdempotencyKey.objects.exists()


def test_concurrent_requests_with_one_key_write_once(live_server, zagent, org, settings):
    """8 threads send the same create with one key at once: one ticket; every other answer
    is the replay or a 409 in Zammad's shape."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (the SQLite test database is in memory); the PostgreSQL leg runs it")
    settings.HELPDESK = {"THROTTLE_RATES": {"anon": None, "user": None, "upsert": None}}
    client = Zammad(live_server.url, zagent)
    threads_count = 8
    barrier = threading.Barrier(threads_count)
    answers: list = []

    def send() -> None:
        barrier.wait()
        try:
            answers.append(client.send("POST", "/tickets", TICKET, key="race"))
        except Exception as exc:  # noqa: BLE001 (reported by the assertions below)
            answers.append(exc)

    threads = [threading.Thread(target=send) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert all(isinstance(a, requests.Response) for a in answers), answers
    assert Ticket.objects.count() == 1
    fresh = [a for a in answers if a.status_code == 201 and "Idempotent-Replayed" not in a.headers]
    assert len(fresh) == 1, [(a.status_code, a.text[:80]) for a in answers]
    for answer in answers:
        if answer is fresh[0]:
            continue
        if answer.status_code == 409:
            assert set(answer.json()) == {"error", "error_human"} and answer.headers["Retry-After"] == "1"
        else:
            assert_replay_of(answer, fresh[0])
