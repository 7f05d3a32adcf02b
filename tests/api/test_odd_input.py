"""Nothing a client sends is a 500: odd bodies, values and parameters on every endpoint."""

import json

import pytest

from helpdesk.models import CustomField
from tests import factories

pytestmark = pytest.mark.django_db

ODD_VALUES = [None, True, 0, -1, 10**30, 1.5, "", " ", "\x00", "a\x00b", "ü" * 300, [], [1, [2]], {}, {"a": {"b": 1}}]
ODD_BODIES = [
    "null", "true", "123", '"text"', "[]", "[{}]", "{", "{'a': 1}", '{"a": NaN}', "[" * 5000 + "]" * 5000,
    '{"ticket_subject": "\\ud800"}', "\xff\xfe",
]


@pytest.fixture
def world(agent, department, client_org):
    CustomField.objects.create(key="order_number", label="Order")
    CustomField.objects.create(key="seats", label="Seats", type="integer")
    CustomField.objects.create(key="due", label="Due", type="date")
    ticket = factories.TicketFactory(department=department, client=client_org)
    reply = factories.ReplyFactory(ticket=ticket)
    return ticket, reply


def writes(ticket, reply):
    t = f"/api/tickets/{ticket.pk}"
    return [
        ("post", "/api/tickets"), ("patch", t), ("put", f"{t}/status"), ("put", f"{t}/tags"), ("put", f"{t}/archive"),
        ("post", f"{t}/replies"),
    ]


def assert_clean(r):
    assert r.status_code < 500, r.content
    if r.status_code >= 400:
        assert set(r.json()) == {"error"}


def test_odd_bodies(api, world):
    for method, path in writes(*world):
        for body in ODD_BODIES:
            assert_clean(getattr(api, method)(path, body.encode("utf-8", "surrogatepass"), content_type="application/json"))
        for ct in ("application/x-www-form-urlencoded", "multipart/form-data; boundary=zz", "multipart/form-data", "text/plain"):
            assert_clean(getattr(api, method)(path, b"%zz=%%&a=\xff&&=", content_type=ct))


@pytest.mark.parametrize("key", ["ticket_clientid", "ticket_categoryid", "ticket_projectid", "ticket_subject",
                                 "ticket_message", "ticket_priority", "tags", "order_number", "seats", "due"])
def test_odd_values_on_create(api, world, department, client_org, key):
    for value in ODD_VALUES:
        body = {
            "ticket_clientid": client_org.pk, "ticket_categoryid": department.pk, "ticket_subject": "s",
            "ticket_message": "m", "ticket_priority": "high", key: value,
        }
        r = api.post("/api/tickets", json.dumps(body), content_type="application/json")
        assert_clean(r)
        if isinstance(value, str) and "\x00" in value:
            assert r.status_code == 422


@pytest.mark.parametrize("key, path", [("status", "status"), ("tags", "tags"), ("ticketreply_text", "replies"),
                                       ("ticketreply_type", "replies")])
def test_odd_values_on_actions(api, world, key, path):
    ticket, _ = world
    method = api.post if path == "replies" else api.put
    for value in ODD_VALUES:
        assert_clean(method(f"/api/tickets/{ticket.pk}/{path}", json.dumps({key: value}), content_type="application/json"))


@pytest.mark.parametrize("param", ["status", "priority", "category_id", "client_id", "companyId", "project_id",
                                   "assignee_id", "email", "tags[]", "active_state", "updated_since", "created_since",
                                   "search", "sort", "order", "select", "page", "offset", "limit"])
def test_odd_query_parameters(api, world, param):
    for value in ["", " ", "\x00", "a\x00", "-", ",", ",,,", "1,,2", "%", "ü", "x" * 5000, "1e400", "-0", "2024-01-01T00:00:00+25:00",
                  "99999999999999999999999999"]:
        assert_clean(api.get("/api/tickets", {param: value}))


def test_odd_paths(api, world):
    ticket, reply = world
    for path in [f"/api/tickets/{ticket.pk}/replies/{reply.pk}x", "/api/tickets/%00", "/api/tickets/0", "/api/tickets/-0",
                 "/api/tickets/ü", "/api/tickets//replies", "/api/tickets/1.0"]:
        assert_clean(api.get(path))
        assert_clean(api.delete(path))


#: Ids no database holds: more digits than Python's int() converts, a digit only to str.isdigit.
ODD_IDS = ["9" * 5000, "²", "1_000"]


def test_odd_ids_in_paths_and_bodies(api, admin_api, world, department, client_org):
    """Every id goes through ``limits.parse_id``: an odd one is a 404 or a 422, never a 500."""
    ticket, _reply = world
    for ident in ODD_IDS:
        for path in [f"/api/tickets/{ident}", f"/api/tickets/{ident}/replies", f"/api/webhooks/{ident}"]:
            assert_clean(api.get(path))
            assert_clean(admin_api.get(path))
            assert admin_api.get(path).status_code == 404, path
        base = {"ticket_subject": "S", "ticket_message": "M", "ticket_clientid": client_org.pk,
                "ticket_categoryid": department.pk}
        for extra in ({"requester": ident}, {"assignee_ids": [ident]}):
            r = api.post("/api/tickets", {**base, **extra}, format="json")
            assert r.status_code == 422, (extra, r.content[:300])
        assert_clean(api.patch(f"/api/tickets/{ticket.pk}", {"requester": ident}, format="json"))
