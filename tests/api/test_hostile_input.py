"""Hostile values a tester sends (issue #12): huge numeric strings and dates at the edges of
time get their 4xx, on every id field and date filter; in the upsert the bad item is
reported and the others are saved."""

import json

import pytest

from helpdesk.models import Reply, StatusChange, Ticket
from tests import factories

pytestmark = pytest.mark.django_db

HUGE = "9" * 5000  # int(HUGE) raises ValueError: more than 4300 digits
ODD_DIGITS = ["²", "٣", "9" * 20, HUGE]


def test_status_as_a_huge_number_is_a_422(api, ticket):
    for value in ODD_DIGITS:
        response = api.put(f"/api/tickets/{ticket.pk}/status", {"status": value}, format="json")
        assert response.status_code == 422, (value[:10], response.content[:200])
        assert "status" in response.json()["error"]["fields"]
    ticket.refresh_from_db()
    assert ticket.status_id == 1
    # Leading zeros are still the id they spell, however many.
    response = api.put(f"/api/tickets/{ticket.pk}/status", {"status": "0" * 5000 + "2"}, format="json")
    assert response.status_code == 200 and response.json()["data"]["status"]["id"] == 2


def test_deleting_a_reply_by_a_huge_id_is_a_404(api, ticket):
    reply = factories.ReplyFactory(ticket=ticket)
    for value in ODD_DIGITS:
        response = api.delete(f"/api/tickets/{ticket.pk}/replies/{value}")
        assert response.status_code == 404, (value[:10], response.content[:200])
    assert Reply.objects.filter(pk=reply.pk).exists()


def test_huge_numbers_in_id_params_and_search(api, ticket):
    for value in ODD_DIGITS:
        for path in (f"/api/tickets/{value}", f"/api/tickets?search={value[:200]}",
                     f"/api/tickets?client_id={value}", f"/api/tickets?status={value}"):
            response = api.get(path)
            assert 400 <= response.status_code < 500 or response.status_code == 200, (path[:40], response.content[:200])
            assert response.status_code != 500


@pytest.mark.parametrize("field", ["departmentId", "_id", "status", "history", "companyId"])
def test_upsert_reports_the_item_with_a_huge_number_and_saves_the_rest(api, field):
    factories.DepartmentFactory(is_default=True)
    factories.ClientDomainFactory(domain="acme.com")
    good = [{"source": "t", "sourceId": str(n), "email": f"p{n}@acme.com", "title": f"T{n}"} for n in range(3)]
    bad = {"source": "t", "sourceId": "bad", "email": "bad@acme.com", "title": "Bad"}
    bad[field] = [{"status": HUGE, "time": "2024-01-01T00:00:00Z"}] if field == "history" else HUGE
    response = api.put("/api/tickets", json.dumps([good[0], bad, *good[1:]]), content_type="application/json")

    assert response.status_code == 206, response.content
    data = response.json()
    assert data["created"] == 3
    errors = data["createdErrors"] + data["updatedErrors"]
    assert [e["index"] for e in errors] == [1]
    assert field in errors[0]["fields"]
    assert set(Ticket.objects.values_list("external_id", flat=True)) == {"0", "1", "2"}


@pytest.mark.parametrize("param", ["updated_since", "created_since"])
@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-00:01"])
def test_dates_past_the_ends_of_time_are_a_422(api, contact_api, contact, param, value):
    factories.TicketFactory(client=contact.client)
    for client in (api, contact_api):
        response = client.get("/api/tickets", {param: value})
        assert response.status_code == 422, response.content
        assert param in response.json()["error"]["fields"]


@pytest.mark.parametrize("param", ["updated_since", "created_since"])
def test_dates_at_the_ends_of_time_still_filter(api, ticket, param):
    assert api.get("/api/tickets", {param: "9999-12-31T23:59:59Z"}).json()["data"] == []
    assert [t["id"] for t in api.get("/api/tickets", {param: "0001-01-01T00:00:00Z"}).json()["data"]] == [ticket.pk]
    assert [t["id"] for t in api.get("/api/tickets", {param: "0001-01-01T00:00:00-14:00"}).json()["data"]] == [ticket.pk]


@pytest.mark.parametrize("field", ["createdAt", "updatedAt", "history"])
@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_upsert_dates_past_the_ends_of_time_are_reported(api, field, value):
    factories.DepartmentFactory(is_default=True)
    factories.ClientDomainFactory(domain="acme.com")
    bad = {"source": "t", "sourceId": "bad", "email": "bad@acme.com", "title": "Bad"}
    bad[field] = [{"status": "open", "time": value}] if field == "history" else value
    good = {"source": "t", "sourceId": "good", "email": "good@acme.com", "title": "Good"}
    response = api.put("/api/tickets", json.dumps([bad, good]), content_type="application/json")
    assert response.status_code == 206, response.content
    assert [e["index"] for e in response.json()["createdErrors"]] == [0]
    assert list(Ticket.objects.values_list("external_id", flat=True)) == ["good"]


def test_upsert_dates_at_the_ends_of_time_are_stored(api):
    factories.DepartmentFactory(is_default=True)
    factories.ClientDomainFactory(domain="acme.com")
    item = {"source": "t", "sourceId": "edge", "email": "e@acme.com", "title": "Edge",
            "createdAt": "0001-01-01T00:00:00Z", "updatedAt": "9999-12-31T23:59:59Z",
            "history": [{"status": "open", "time": "0001-01-01T00:00:00Z"}]}
    response = api.put("/api/tickets", json.dumps(item), content_type="application/json")
    assert response.status_code == 200, response.content
    ticket = Ticket.objects.get(external_id="edge")
    assert ticket.created_at.year == 1 and ticket.updated_at.year == 9999
    assert StatusChange.objects.get(ticket=ticket).changed_at.year == 1
    assert api.get(f"/api/tickets/{ticket.pk}").status_code == 200


@pytest.mark.parametrize("field", ["ticket_clientid", "ticket_categoryid", "ticket_projectid"])
def test_huge_numbers_as_ids_in_bodies_are_a_422(api, ticket, field):
    body = {"ticket_subject": "s", "ticket_message": "m", "ticket_priority": "normal",
            "ticket_clientid": ticket.client_id, "ticket_categoryid": ticket.department_id, field: HUGE}
    response = api.post("/api/tickets", body, format="json")
    assert response.status_code == 422 and field in response.json()["error"]["fields"], response.content[:200]
    if field != "ticket_clientid":
        response = api.patch(f"/api/tickets/{ticket.pk}", {field: HUGE}, format="json")
        assert response.status_code == 422 and field in response.json()["error"]["fields"], response.content[:200]
    assert Ticket.objects.count() == 1


def test_huge_numbers_in_paging_params_are_a_422(api, ticket):
    for param in ("page", "offset", "limit"):
        response = api.get("/api/tickets", {param: HUGE})
        assert response.status_code == 422 and param in response.json()["error"]["fields"]
    response = api.get(f"/api/tickets/{ticket.pk}/replies", {"page": HUGE})
    assert response.status_code == 422
