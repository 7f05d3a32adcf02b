"""Tags: list, add, remove, search and the admin list, as Zammad documents them."""

import pytest

from helpdesk import services
from tests import factories

from .conftest import BASE

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(org):
    return factories.TicketFactory(client=org)


def test_add_list_remove(zapi, ticket):
    added = zapi.post(f"{BASE}/tags/add", {"item": "americano", "object": "Ticket", "o_id": ticket.pk}, format="json")
    assert added.status_code == 201 and added.json() is True
    zapi.post(f"{BASE}/tags/add", {"item": "Complaint", "object": "Ticket", "o_id": ticket.pk}, format="json")
    zapi.post(f"{BASE}/tags/add", {"item": "americano", "object": "Ticket", "o_id": ticket.pk}, format="json")
    assert zapi.get(f"{BASE}/tags?object=Ticket&o_id={ticket.pk}").json() == {"tags": ["americano", "Complaint"]}
    removed = zapi.delete(f"{BASE}/tags/remove", {"item": "complaint", "object": "Ticket", "o_id": str(ticket.pk)},
                          format="json")
    assert removed.status_code == 201 and removed.json() is True
    assert zapi.get(f"{BASE}/tags", {"object": "Ticket", "o_id": ticket.pk}).json() == {"tags": ["americano"]}
    # removing a tag the ticket lacks is no error, as in Zammad
    assert zapi.delete(f"{BASE}/tags/remove", {"item": "nope", "o_id": ticket.pk}, format="json").status_code == 201


def test_search_and_admin_list(zapi, ticket):
    services.ticket_add_tags(ticket=ticket, tags=["americano", "viennese melange"])
    services.ticket_add_tags(ticket=factories.TicketFactory(), tags=["americano"])
    assert zapi.get(f"{BASE}/tag_search?term=mel").json()[0]["value"] == "viennese melange"
    assert {t["value"] for t in zapi.get(f"{BASE}/tag_search?term=a").json()} == {"americano", "viennese melange"}
    assert zapi.get(f"{BASE}/tag_search?term=").json() == []
    counts = {t["name"]: t["count"] for t in zapi.get(f"{BASE}/tag_list").json()}
    assert counts == {"americano": 2, "viennese melange": 1}


@pytest.mark.parametrize(("method", "path", "payload", "status"), [
    ("get", "/tags?object=User&o_id=1", None, 422),
    ("get", "/tags?object=Ticket", None, 422),
    ("get", "/tags?object=Ticket&o_id=abc", None, 422),
    ("get", "/tags?object=Ticket&o_id=424242", None, 404),
    ("post", "/tags/add", {"object": "Ticket", "item": "x"}, 422),
    ("post", "/tags/add", {"object": "Ticket", "o_id": "T", "item": ""}, 422),
    ("post", "/tags/add", {"object": "Ticket", "o_id": "T", "item": "x" * 51}, 422),
    ("post", "/tags/add", {"object": "Ticket", "o_id": "T", "item": 5}, 422),
    ("delete", "/tags/remove", {"object": "Ticket", "o_id": "T"}, 422),
    ("delete", "/tags/remove", {"object": "Ticket", "o_id": 424242, "item": "x"}, 404),
])
def test_errors(zapi, ticket, method, path, payload, status):
    if payload and payload.get("o_id") == "T":
        payload["o_id"] = ticket.pk
    response = getattr(zapi, method)(f"{BASE}{path}", payload, format="json") if payload else zapi.get(f"{BASE}{path}")
    assert response.status_code == status and response.json()["error"]
    assert ticket.tags.count() == 0


def test_customers_cannot_touch_tags(customer_api, ticket):
    assert customer_api.get(f"{BASE}/tags?object=Ticket&o_id={ticket.pk}").status_code == 403
    assert customer_api.post(f"{BASE}/tags/add", {"item": "x", "o_id": ticket.pk}, format="json").status_code == 403
    assert customer_api.delete(f"{BASE}/tags/remove", {"item": "x", "o_id": ticket.pk},
                               format="json").status_code == 403
    assert customer_api.get(f"{BASE}/tag_search?term=x").status_code == 403
    assert customer_api.get(f"{BASE}/tag_list").status_code == 403
    assert ticket.tags.count() == 0
