"""``GET /tickets/search``: Zammad's two response shapes, paging, sorting, field terms."""

import pytest

from helpdesk import services
from helpdesk.models import TicketStatus
from tests import factories

from .conftest import BASE

pytestmark = pytest.mark.django_db


@pytest.fixture
def tickets(org, customer, zagent):
    rows = [factories.TicketFactory(subject=f"Printer jam {i}", client=org, requester=customer, creator=zagent)
            for i in range(3)]
    rows.append(factories.TicketFactory(subject="Mail is down", client=org))
    services.ticket_add_tags(ticket=rows[0], tags=["hardware"])
    return rows


def test_search_without_expand_has_ids_count_and_assets(zapi, tickets, customer, org):
    body = zapi.get(f"{BASE}/tickets/search?query=printer").json()
    assert set(body) == {"tickets", "tickets_count", "assets"}
    assert sorted(body["tickets"]) == sorted(t.pk for t in tickets[:3]) and body["tickets_count"] == 3
    assert set(body["assets"]) == {"Ticket", "User", "Organization"}
    assert body["assets"]["Ticket"][str(tickets[0].pk)]["title"] == "Printer jam 0"
    assert body["assets"]["User"][str(customer.pk)]["email"] == customer.email
    assert body["assets"]["Organization"][str(org.pk)]["name"] == "Acme Inc"


def test_search_with_expand_is_a_list(zapi, tickets):
    body = zapi.get(f"{BASE}/tickets/search?query=mail&expand=true").json()
    assert [t["title"] for t in body] == ["Mail is down"] and body[0]["state"] == "new"


def test_search_pages_and_sorts(zapi, tickets):
    first = zapi.get(f"{BASE}/tickets/search?query=printer&per_page=2&page=1&sort_by=id&order_by=asc").json()
    second = zapi.get(f"{BASE}/tickets/search?query=printer&per_page=2&page=2&sort_by=id&order_by=asc").json()
    assert first["tickets"] + second["tickets"] == sorted(t.pk for t in tickets[:3])
    assert first["tickets_count"] == 3 and len(second["tickets"]) == 1
    assert len(zapi.get(f"{BASE}/tickets/search?query=*&per_page=5000").json()["tickets"]) == 4


def test_default_order_is_last_updated_first(zapi, tickets):
    services.ticket_update(ticket=tickets[1], subject="Printer jam, updated")
    assert zapi.get(f"{BASE}/tickets/search?query=printer").json()["tickets"][0] == tickets[1].pk


def test_field_terms(zapi, tickets, customer, zagent):
    closed = TicketStatus.objects.get(pk=TicketStatus.CLOSED)
    services.ticket_change_status(ticket=tickets[2], status=closed)
    services.ticket_set_assignees(ticket=tickets[1], assignees=[zagent])

    def ids(query):
        return sorted(zapi.get(f"{BASE}/tickets/search", {"query": query}).json()["tickets"])

    assert ids(f"number:{tickets[3].pk}") == [tickets[3].pk]
    assert ids("state.name:closed") == [tickets[2].pk]
    assert ids("state:new printer") == sorted([tickets[0].pk, tickets[1].pk])
    assert ids("tags:hardware") == [tickets[0].pk]
    assert ids(f"customer_id:{customer.pk} AND printer") == sorted(t.pk for t in tickets[:3])
    assert ids(f"owner_id:{zagent.pk}") == [tickets[1].pk]
    assert ids('title:"Mail is"') == [tickets[3].pk]
    assert ids("priority.name:\"2 normal\" mail") == [tickets[3].pk]


@pytest.mark.parametrize("query", ["printer OR mail", "NOT printer", "secret_field:1", "state:merged",
                                   "number:abc", "priority_id:99"])
def test_search_errors(zapi, tickets, query):
    response = zapi.get(f"{BASE}/tickets/search", {"query": query})
    assert response.status_code == 422 and response.json()["error"]


def test_customer_search_sees_only_their_organization(customer_api, tickets):
    factories.TicketFactory(subject="Printer of another company")
    body = customer_api.get(f"{BASE}/tickets/search?query=printer").json()
    assert sorted(body["tickets"]) == sorted(t.pk for t in tickets[:3])


def test_customer_search_never_matches_internal_notes(customer_api, zagent, tickets):
    services.reply_post(ticket=tickets[3], author=zagent, text="secretword", type="note")
    assert customer_api.get(f"{BASE}/tickets/search?query=secretword").json()["tickets"] == []


@pytest.mark.parametrize("query", ["²", "9" * 5000, "number:²", "number:" + "9" * 30])
def test_odd_numbers_are_no_500(zapi, tickets, query):
    response = zapi.get(f"{BASE}/tickets/search", {"query": query})
    assert response.status_code in (200, 422)
    if response.status_code == 200:
        assert response.json()["tickets"] == []


@pytest.mark.parametrize("path", ["tickets/²", "groups/²", "users/²", "organizations/²", "ticket_states/²",
                                  "ticket_priorities/²", "ticket_articles/²", "groups/" + "9" * 5000,
                                  "ticket_articles/" + "9" * 5000, "tickets/" + "9" * 5000])
def test_odd_ids_in_urls_are_404(zapi, path):
    assert zapi.get(f"{BASE}/{path}").status_code == 404


@pytest.mark.parametrize(("query", "rows"), [("", 3), ("&expand=true", 3), ("&per_page=2&page=2&sort_by=id&order_by=asc", 1),
                                           ("&per_page=2&page=5", 0)])
def test_a_broad_search_answers_what_a_narrow_one_does(zapi, tickets, monkeypatch, query, rows):
    # Past MAX_MATCHED_IDS on PostgreSQL the page is read as ids, then rows by id
    # (helpdesk.search.pages_by_id); the tickets, their order, the assets and the count stay.
    from helpdesk import search

    narrow = zapi.get(f"{BASE}/tickets/search?query=printer{query}")
    monkeypatch.setattr(search, "MAX_MATCHED_IDS", 0)
    broad = zapi.get(f"{BASE}/tickets/search?query=printer{query}")
    assert broad.status_code == narrow.status_code == 200
    assert broad.json() == narrow.json()
    found = narrow.json() if query == "&expand=true" else narrow.json()["tickets"]
    assert len(found) == rows
