"""``PUT /tickets``: the bulk upsert over HTTP — the seeds' requests, roles, body limits,
parse errors, partial success (206) and the Planhat response shape."""

import json
import shlex
from pathlib import Path

import pytest

from helpdesk.models import Ticket, TicketStatus
from tests import factories

SEED = Path("/work/shared/seeds/planhat-tickets.md")
# The seed's request, verbatim (kept here so the suite runs without the seeds).
SEED_CURL = """curl --location -g --request PUT 'https://api.planhat.com/tickets' \\
--header 'Content-Type: application/json' \\
--header 'Authorization: Bearer {{apiToken}}' \\
--data-raw '[
{
"sourceId": "119",
"source": "freshdesk",
"status": "open",
"history": [{"status": "open", "time": "2019-12-15T09:09:08.000Z"}],
"title": "Test Ticket",
"description": "Let have a chat?",
"url": "http://urltoyourticket.com/119",
"type": "ticket",
"email": "ojpsoi57pzn@gmail.com",
"name": "first-ojpsoi57pzn",
"companyId": "61006bc89a3e0b702ed8ea49",
"agentEmail": null,
"domains": ["planhat.com", "google.com"]
}
]'"""
# planhat-tickets-legacy.md's body (its curl signs in with --user, ours with a Bearer key).
LEGACY_BODY = ('{"source": "HomeGrownSupport", "sourceId": "123", "email": "max@customer.com", '
               '"createdAt": "2016-10-17T14:00:00.000Z", "updatedAt": "2016-10-17T14:02:00.000Z", "status": "resolved"}')
URL = "/api/tickets"


@pytest.fixture(autouse=True)
def default_department(db):
    return factories.DepartmentFactory(name="Support", is_default=True)


def put(client, body, content_type="application/json", **extra):
    if not isinstance(body, (str, bytes)):
        body = json.dumps(body)
    return client.generic("PUT", URL, body, content_type=content_type, **extra)


def run_seed_curl(client, key):
    words = shlex.split(SEED_CURL.replace("\\\n", " "))
    headers, body, method = {}, None, "GET"
    it = iter(words[1:])
    for word in it:
        if word == "--request":
            method = next(it)
        elif word == "--header":
            name, _, value = next(it).partition(":")
            headers[name.strip()] = value.strip().replace("{{apiToken}}", key)
        elif word == "--data-raw":
            body = next(it)
        elif word in ("--location", "-g"):
            pass
        else:
            url = word
    assert url == "https://api.planhat.com/tickets"
    return client.generic(method, URL, body, content_type=headers.pop("Content-Type"),
                          HTTP_AUTHORIZATION=headers.pop("Authorization"))


@pytest.mark.skipif(not SEED.exists(), reason="seeds not checked out")
def test_our_copy_of_the_seed_request_is_verbatim():
    text = SEED.read_text()
    assert SEED_CURL in text
    assert '"created": 1,\n"updated": 0' in text


def test_the_seed_request_works_verbatim(api):
    response = run_seed_curl(api, api.key)

    assert response.status_code == 200, response.content
    ticket = Ticket.objects.get()
    assert response.json() == {
        "created": 1, "updated": 0, "createdErrors": [], "updatedErrors": [],
        "insertsKeys": [{"_id": ticket.pk, "sourceId": "119"}], "updatesKeys": [],
    }
    assert response["X-Request-Id"] and response["X-Api-Version"]

    again = run_seed_curl(api, api.key)

    assert again.status_code == 200
    assert (again.json()["created"], again.json()["updated"]) == (0, 1)
    assert again.json()["updatesKeys"] == [{"_id": ticket.pk, "sourceId": "119"}]
    assert Ticket.objects.count() == 1


def test_the_legacy_seed_body_one_object(api):
    response = put(api, LEGACY_BODY)

    assert response.status_code == 200, response.content
    assert response.json()["created"] == 1
    ticket = Ticket.objects.get()
    assert ticket.status_id == TicketStatus.CLOSED  # "resolved" is an alias of Closed
    assert ticket.created_at.isoformat() == "2016-10-17T14:00:00+00:00"
    assert ticket.updated_at.isoformat() == "2016-10-17T14:02:00+00:00"
    assert ticket.client.name == "customer.com"
    assert ticket.channel == "api"


def test_some_items_failing_is_206_with_each_one_reported(api):
    factories.ClientDomainFactory(domain="acme.com")
    body = [
        {"sourceId": "1", "email": "a@acme.com", "title": "fine"},
        {"sourceId": "2", "email": "not an email"},
        "a string",
        None,
        {"sourceId": "5", "email": "b@acme.com", "status": 999},
    ]

    response = put(api, body)

    assert response.status_code == 206
    data = response.json()
    assert data["created"] == 1 and data["updated"] == 0
    assert [(e["index"], e["sourceId"]) for e in data["createdErrors"]] == [(1, "2"), (2, None), (3, None), (4, "5")]
    assert data["createdErrors"][0]["fields"] == {"email": ["Enter a valid email address."]}
    assert set(data["createdErrors"][0]) == {"index", "sourceId", "message", "fields"}
    assert Ticket.objects.get().subject == "fine"


def test_an_update_that_fails_is_an_updated_error(api):
    factories.ClientDomainFactory(domain="acme.com")
    assert put(api, [{"sourceId": "1", "email": "a@acme.com"}]).status_code == 200

    response = put(api, [{"sourceId": "1", "agentEmail": "nobody@acme.com"}])

    assert response.status_code == 206
    assert response.json()["updatedErrors"][0]["fields"] == {"agentEmail": ["No active staff user has this email."]}


def test_an_empty_array_does_nothing(api):
    response = put(api, [])

    assert response.status_code == 200
    assert response.json()["created"] == response.json()["updated"] == 0


def test_contacts_may_not_upsert(contact_api):
    response = put(contact_api, [{"sourceId": "1", "email": "a@acme.com"}])

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert not Ticket.objects.exists()


def test_no_key_is_401(anon):
    response = put(anon, [])

    assert response.status_code == 401
    assert response.json()["error"]["status"] == 401


@pytest.mark.parametrize("body, content_type", [
    ("[{", "application/json"),
    ("", "application/json"),
    ('"just a string"', "application/json"),
    (b"\xff\xfe[]", "application/json"),
])
def test_unparseable_bodies_are_400(api, body, content_type):
    response = put(api, body, content_type)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    assert not Ticket.objects.exists()


def test_other_content_types_are_415(api):
    response = put(api, "sourceId: 1", "text/plain")

    assert response.status_code == 415


def test_more_items_than_the_limit_is_413_and_saves_nothing(api, settings):
    settings.HELPDESK = {"UPSERT_MAX_ITEMS": 3}
    factories.ClientDomainFactory(domain="acme.com")

    response = put(api, [{"sourceId": str(n), "email": "a@acme.com"} for n in range(4)])

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert not Ticket.objects.exists()


def test_a_body_over_the_byte_limit_is_413_and_saves_nothing(api, settings):
    settings.HELPDESK = {"UPSERT_MAX_BYTES": 200}
    factories.ClientDomainFactory(domain="acme.com")
    body = json.dumps([{"sourceId": str(n), "email": "a@acme.com"} for n in range(10)])
    assert len(body) > 200

    response = put(api, body)

    assert response.status_code == 413
    assert not Ticket.objects.exists()


def test_bodies_bigger_than_djangos_form_limit_are_fine(api, settings):
    # DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB by default) is less than a 5000-item sync.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    factories.ClientDomainFactory(domain="acme.com")
    body = [{"sourceId": str(n), "email": "a@acme.com", "description": "x" * 100} for n in range(30)]

    response = put(api, body)

    assert response.status_code == 200
    assert response.json()["created"] == 30


def test_a_form_encoded_body_is_one_item(api):
    factories.ClientDomainFactory(domain="acme.com")
    body = "sourceId=7&source=web&email=a%40acme.com&title=From+a+form&tags=x&tags=y&domains[]=acme.com"

    response = put(api, body, "application/x-www-form-urlencoded")

    assert response.status_code == 200, response.content
    ticket = Ticket.objects.get()
    assert (ticket.subject, ticket.external_id) == ("From a form", "7")
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["x", "y"]


def test_the_response_is_not_enveloped_and_keys_point_at_tickets(api):
    factories.ClientDomainFactory(domain="acme.com")
    response = put(api, [{"sourceId": str(n), "email": "a@acme.com"} for n in range(3)])

    data = response.json()
    assert "data" not in data
    for key in data["insertsKeys"]:
        assert api.get(f"/api/tickets/{key['_id']}").json()["data"]["external"]["source_id"] == key["sourceId"]


def test_the_schema_documents_the_upsert(api):
    schema = api.get("/api/schema").json()
    operation = schema["paths"]["/api/tickets"]["put"]

    assert {"200", "206", "400", "403", "413"} <= set(operation["responses"])
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert "data" not in json.dumps(ok)  # Planhat's shape, no envelope


def test_a_race_lost_over_and_over_is_409_and_saves_nothing(api, monkeypatch):
    from django.db import OperationalError

    def deadlocked(**kwargs):
        raise OperationalError("deadlock detected")

    monkeypatch.setattr("helpdesk.api.upsert.ticket_bulk_upsert", deadlocked)

    response = put(api, [{"sourceId": "1", "email": "a@acme.com"}])

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
