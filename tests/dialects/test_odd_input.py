"""Odd input to both dialects: always a clear 4xx (or a 200 that says what it did), never a 500."""

import json

import pytest

from helpdesk.models import Ticket
from tests import factories

pytestmark = pytest.mark.django_db

PLANHAT_QUERIES = [
    {"companyId": ",,,"}, {"sort": "-"}, {"select": ","}, {"limit": "1e3"}, {"offset": str(10**12)},
    {"l": ""}, {"s": "\x00"}, {"cid": "9" * 40}, {"status": "9" * 40}, {"search": "\x00"}, {"q": "%_'\""},
    {"sort": "\x00"}, {"select": "_id," * 600}, {"limit[]": "1"}, {"o": "-5"},
]
SPP_BODIES = [
    {"user_id": [1], "subject": "x"}, {"user_id": "USER", "subject": 123}, {"user_id": "USER", "subject": "x", "employees": "1,2"},
    {"user_id": "USER", "subject": "x", "tags": [None]}, {"user_id": "USER", "subject": "x", "metadata": "x"},
    {"user_id": "USER", "subject": "x", "status": True}, {"user_id": "USER", "subject": "x", "order": 123},
    {"user_id": "USER", "subject": "x", "employees": [True]}, {"user_id": "USER", "subject": "x", "metadata": {"a": [1] * 10}},
    {"user_id": 2**64, "subject": "x"}, {"user_id": -1, "subject": "x"}, {"user_id": None, "subject": "x"},
    {"user_id": "USER", "subject": "\ud800"}, [1, 2], "string", None, {"user_id": "USER", "subject": "x", "status": "9" * 30},
]


@pytest.mark.parametrize("params", PLANHAT_QUERIES, ids=[json.dumps(p)[:40] for p in PLANHAT_QUERIES])
def test_planhat_list_never_500s(agent_api, department, params):
    factories.TicketFactory(department=department)
    r = agent_api.get("/planhat/tickets", params)
    assert r.status_code in (200, 422), r.content
    if r.status_code == 422:
        assert r.json()["error"]["fields"]


@pytest.mark.parametrize("body", SPP_BODIES, ids=[json.dumps(b)[:40] for b in SPP_BODIES])
def test_spp_create_never_500s(agent_api, department, body):
    user = factories.ContactFactory().user
    if isinstance(body, dict):
        body = {k: (user.pk if v == "USER" else v) for k, v in body.items()}
    r = agent_api.post("/spp/api/tickets", json.dumps(body), content_type="application/json")
    assert r.status_code in (201, 400, 422), r.content
    if r.status_code != 201:
        assert not Ticket.objects.exists()
        assert r.json()["message"]


@pytest.mark.parametrize("body", [
    {"requester": {"id": 1}}, {"assignee_ids": [[1]]}, {"assignee_ids": [2**70]}, {"metadata": 5},
    {"status": ["1"]}, {"time_spent": "1e400"}, {"time_spent": True}, {"type": None}, {"requester": ""},
    {"assignee_ids": None}, {"metadata": "[1]"},
])
def test_native_create_never_500s(agent_api, department, client_org, body):
    base = {"ticket_clientid": client_org.pk, "ticket_categoryid": department.pk, "ticket_subject": "s",
            "ticket_message": "m", "ticket_priority": "normal"}
    r = agent_api.post("/api/tickets", json.dumps({**base, **body}), content_type="application/json")
    assert r.status_code in (201, 422), r.content
    if r.status_code == 422:
        assert not Ticket.objects.exists()
