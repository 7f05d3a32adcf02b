"""The Planhat dialect over HTTP: every list parameter, the upsert through this mount,
delete, auth and the errors."""

import base64

import pytest
from rest_framework.test import APIClient

from helpdesk.models import StatusChange, Ticket, TicketStatus
from tests import factories
from tests.api.conftest import key_client
from tests.dialects.conftest import new_key

pytestmark = pytest.mark.django_db
URL = "/planhat/tickets"


@pytest.fixture
def acme(db):
    client = factories.ClientFactory(name="Acme", external_id="56bccdf554d64d837d01be80")
    factories.ClientDomainFactory(client=client, domain="acme.com")
    return client


@pytest.fixture
def edge(db):
    client = factories.ClientFactory(name="Edge Communications")
    factories.ClientDomainFactory(client=client, domain="edge.com")
    return client


def put(api, body):
    return api.put(URL, body, format="json")


@pytest.fixture
def tickets(agent_api, department, acme, edge):
    """Three tickets: two of Acme (New, then Escalated→Closed), one of Edge."""
    r = put(agent_api, [
        {"source": "salesforce", "sourceId": "5003X00002CDLbHQAX", "email": "jbacon@acme.com", "name": "John Bacon",
         "title": "[00001044] SFDC Case 1", "description": "Test case from SFDC", "status": "New",
         "createdAt": "2021-06-24T19:38:16.000Z", "updatedAt": "2021-06-24T19:38:16.000Z", "tags": ["sfdc"]},
        {"source": "salesforce", "sourceId": "5003X00001xQsPZQA0", "email": "sean@acme.com", "name": "Sean Morty",
         "title": "[00001036] Case - High Prio", "description": "No enduser at first", "status": "Closed",
         "history": [{"status": "Escalated", "time": "2020-09-08T14:17:04.152Z"},
                     {"status": "Closed", "time": "2020-12-18T11:29:53.022Z"}],
         "createdAt": "2020-09-08T14:14:01.000Z", "updatedAt": "2020-12-18T11:29:35.000Z"},
        {"source": "zendesk", "sourceId": "9", "email": "max@edge.com", "title": "Printer", "description": "On fire",
         "createdAt": "2022-01-01T00:00:00Z", "updatedAt": "2022-01-02T00:00:00Z", "type": "bug",
         "severity": "high", "product": "Printers", "timeSpent": 12.5},
    ])
    assert r.status_code == 200, r.json()
    return {t.external_id: t for t in Ticket.objects.all()}


def ids(response):
    assert response.status_code == 200, response.content
    return [obj["externalId"] for obj in response.json()]


class TestList:
    def test_a_bare_array_of_planhat_objects(self, agent_api, tickets, acme):
        r = agent_api.get(URL, {"sort": "createDate"})
        body = r.json()
        assert isinstance(body, list) and len(body) == 3
        case = body[1]
        assert case["_id"] == str(tickets["5003X00002CDLbHQAX"].pk)
        assert case["externalId"] == "5003X00002CDLbHQAX" and case["source"] == "salesforce"
        assert (case["type"], case["subType"]) == ("ticket", "ticket")
        assert case["subject"] == "[00001044] SFDC Case 1" and case["snippet"] == "Test case from SFDC"
        assert case["email"] == "jbacon@acme.com" and case["status"] == "Open"
        assert case["createDate"] == "2021-06-24T19:38:16.000Z" and case["updateDate"] == "2021-06-24T19:38:16.000Z"
        assert case["date"] == "2021-06-24T19:38:16.000Z" and case["days"] == 18802
        assert case["timeBucket"] == ["2021", "2021-Q2", "2021-6", "2021-W25"]
        assert case["companyId"] == str(acme.pk) and case["companyName"] == "Acme"
        assert case["endusers"][0]["name"] == "John Bacon"
        assert case["isOpen"] is True and case["archived"] is False and case["tags"] == ["sfdc"]
        closed = body[0]
        assert closed["status"] == "Closed" and closed["isOpen"] is False
        assert closed["history"] == [{"status": "Escalated", "time": "2020-09-08T14:17:04.152Z"},
                                     {"status": "Closed", "time": "2020-12-18T11:29:53.022Z"}]
        printer = body[2]
        assert (printer["type"], printer["severity"], printer["product"], printer["timeSpent"]) == (
            "bug", "high", "Printers", 12.5)

    def test_company_id_by_our_id_external_id_and_short_form(self, agent_api, tickets, acme, edge):
        assert sorted(ids(agent_api.get(URL, {"companyId": str(edge.pk)}))) == ["9"]
        assert len(ids(agent_api.get(URL, {"cid": "56bccdf554d64d837d01be80"}))) == 2
        assert len(ids(agent_api.get(URL, {"companyId": f"{edge.pk},56bccdf554d64d837d01be80"}))) == 3
        assert ids(agent_api.get(URL, {"cid": "61006bc89a3e0b702ed8ea49"})) == []

    def test_status_email_search_and_short_forms(self, agent_api, tickets):
        assert ids(agent_api.get(URL, {"s": "open", "sort": "-createDate"})) == ["9", "5003X00002CDLbHQAX"]
        assert ids(agent_api.get(URL, {"status": "CLOSED"})) == ["5003X00001xQsPZQA0"]
        assert ids(agent_api.get(URL, {"status": "Escalated"})) == []
        assert ids(agent_api.get(URL, {"email": "MAX@edge.com"})) == ["9"]
        assert ids(agent_api.get(URL, {"search": "fire"})) == ["9"]
        # "New" was stored as Open (UPSERT_STATUS_ALIASES): asking for New finds it.
        assert ids(agent_api.get(URL, {"s": "New", "sort": "createDate"})) == ["5003X00002CDLbHQAX", "9"]

    def test_a_page_costs_the_same_queries_for_1_or_50_tickets(self, agent_api, tickets):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as few:
            agent_api.get(URL, {"l": 1})
        t = tickets["9"]
        for n in range(50):
            ticket = factories.TicketFactory(department=t.department, client=t.client)
            ticket.tags.add(factories.TagFactory())
        with CaptureQueriesContext(connection) as many:
            assert len(agent_api.get(URL).json()) == 53
        assert len(many) == len(few)

    def test_limit_offset_and_the_default_500(self, agent_api, tickets):
        assert ids(agent_api.get(URL, {"l": 1, "sort": "createDate"})) == ["5003X00001xQsPZQA0"]
        assert ids(agent_api.get(URL, {"limit": 1, "offset": 1, "sort": "createDate"})) == ["5003X00002CDLbHQAX"]
        assert ids(agent_api.get(URL, {"offset": 5})) == []
        t = tickets["9"]
        factories.TicketFactory.create_batch(500, department=t.department, client=t.client)
        assert len(agent_api.get(URL).json()) == 500
        assert len(agent_api.get(URL, {"limit": 10000}).json()) == 503

    @pytest.mark.parametrize("sort,first", [("email", "5003X00002CDLbHQAX"), ("-email", "5003X00001xQsPZQA0"),
                                            ("-_id", "9"), ("updateDate", "5003X00001xQsPZQA0"),
                                            ("-timeSpent", "9"), ("timeSpent", "5003X00001xQsPZQA0"), ("-companyName", "9")])
    def test_sort_by_any_listed_property(self, agent_api, tickets, sort, first):
        assert ids(agent_api.get(URL, {"sort": sort}))[0] == first

    def test_select_picks_properties_and_keeps_the_id(self, agent_api, tickets):
        body = agent_api.get(URL, {"select": "subject,status", "l": 1}).json()
        assert list(body[0]) == ["_id", "subject", "status"]

    def test_archived_tickets_are_listed_with_their_flag(self, agent_api, tickets):
        Ticket.objects.filter(external_id="9").update(active_state="archived")
        archived = [o for o in agent_api.get(URL).json() if o["externalId"] == "9"]
        assert archived[0]["archived"] is True

    def test_a_contact_sees_only_their_clients_tickets(self, tickets, edge):
        contact = factories.ContactFactory(client=edge)
        assert ids(key_client(contact.user).get(URL)) == ["9"]

    @pytest.mark.parametrize("params,field", [
        ({"limit": 10001}, "limit"), ({"l": 0}, "l"), ({"limit": "x"}, "limit"), ({"offset": -1}, "offset"),
        ({"limit": 1, "l": 2}, "l"), ({"sort": "nope"}, "sort"), ({"select": "subject,nope"}, "select"),
        ({"companyid": "1"}, "companyid"), ({"page": 2}, "page"), ({"email": "a\x00b"}, "email"),
        ({"search": "x" * 201}, "search"),
    ])
    def test_bad_parameters_are_422_naming_them(self, agent_api, tickets, params, field):
        r = agent_api.get(URL, params)
        assert r.status_code == 422, r.content
        assert field in r.json()["error"]["fields"]

    def test_unknown_parameter_message_lists_the_known_ones(self, agent_api, tickets):
        message = agent_api.get(URL, {"stauts": "open"}).json()["error"]["message"]
        for name in ("stauts", "status", "s", "cid", "companyId", "limit", "l", "offset", "sort", "select", "email", "search"):
            assert name in message


class TestUpsertMount:
    def test_the_same_service_as_the_native_mount(self, agent_api, department, acme):
        r = put(agent_api, {"sourceId": "1", "email": "a@acme.com", "title": "Via Planhat"})
        assert r.status_code == 200 and r.json()["created"] == 1
        r = agent_api.put("/api/tickets", {"sourceId": "1", "email": "a@acme.com", "title": "Via native"}, format="json")
        assert r.json()["updated"] == 1
        assert Ticket.objects.get().subject == "Via native"

    def test_id_first_then_source_id(self, agent_api, department, acme):
        put(agent_api, [{"source": "a", "sourceId": "1", "email": "a@acme.com"},
                        {"source": "b", "sourceId": "2", "email": "a@acme.com"}])
        first = Ticket.objects.get(external_id="1")
        r = put(agent_api, {"_id": str(first.pk), "sourceId": "2", "source": "b", "title": "x"})
        assert r.status_code == 206
        assert "already has this source" in r.json()["updatedErrors"][0]["message"]
        r = put(agent_api, {"_id": first.pk, "title": "By id"})
        assert r.json()["updated"] == 1 and Ticket.objects.get(pk=first.pk).subject == "By id"

    def test_source_id_alone_ambiguous_is_a_per_item_error(self, agent_api, department, acme):
        put(agent_api, [{"source": "a", "sourceId": "1", "email": "a@acme.com"},
                        {"source": "b", "sourceId": "1", "email": "a@acme.com"}])
        r = put(agent_api, [{"sourceId": "1", "email": "a@acme.com"}])
        assert r.status_code == 206
        assert "give source" in r.json()["createdErrors"][0]["fields"]["sourceId"][0]
        assert Ticket.objects.count() == 2

    def test_free_form_status_through_this_mount(self, agent_api, department, acme):
        r = put(agent_api, {"sourceId": "1", "email": "a@acme.com", "status": "Escalated"})
        assert r.status_code == 200
        assert agent_api.get(URL).json()[0]["status"] == "Escalated"
        assert TicketStatus.objects.filter(title="Escalated", is_closed=False).exists()

    def test_contacts_cannot_upsert_and_bad_bodies_are_4xx(self, department, acme):
        contact = factories.ContactFactory(client=acme)
        assert put(key_client(contact.user), {"sourceId": "1", "email": "a@acme.com"}).status_code == 403
        api = key_client(factories.AgentFactory())
        assert api.put(URL, "not json", content_type="application/json").status_code == 400
        assert api.put(URL, "x", content_type="text/plain").status_code == 415
        assert not Ticket.objects.exists()

    def test_too_many_items_is_413_and_saves_nothing(self, agent_api, department, acme, settings):
        settings.HELPDESK = {"UPSERT_MAX_ITEMS": 2}
        r = put(agent_api, [{"sourceId": str(n), "email": "a@acme.com"} for n in range(3)])
        assert r.status_code == 413 and not Ticket.objects.exists()


    def test_the_upsert_throttle_and_body_limit_apply_here_too(self, agent_api, department, acme, settings):
        settings.HELPDESK = {"THROTTLE_RATES": {"anon": None, "user": None, "upsert": "1/min"}, "UPSERT_MAX_BYTES": 2000}
        assert put(agent_api, {"sourceId": "1", "email": "a@acme.com"}).status_code == 200
        r = put(agent_api, {"sourceId": "2", "email": "a@acme.com"})
        assert r.status_code == 429 and r["Retry-After"]
        # GET is not the upsert: its own budget.
        assert agent_api.get(URL).status_code == 200
        settings.HELPDESK = {"UPSERT_MAX_BYTES": 2000}
        r = put(agent_api, [{"sourceId": str(n), "email": "a@acme.com", "title": "x" * 100} for n in range(30)])
        assert r.status_code == 413 and Ticket.objects.count() == 1


class TestDelete:
    def test_returns_the_deleted_object(self, admin_api, tickets):
        t = tickets["5003X00001xQsPZQA0"]
        r = admin_api.delete(f"{URL}/{t.pk}")
        assert r.status_code == 200
        body = r.json()
        assert body["_id"] == str(t.pk) and body["status"] == "Closed" and len(body["history"]) == 2
        assert not Ticket.objects.filter(pk=t.pk).exists()
        assert not StatusChange.objects.filter(ticket_id=t.pk).exists()

    # (5000 digits: more than Python's int() converts; "²" is a digit to str.isdigit.)
    @pytest.mark.parametrize("ident", ["999999", "abc", "0", "99999999999999999999999", "9" * 5000, "²"],
                             ids=["unknown", "abc", "0", "too-big", "5000-digits", "superscript"])
    def test_unknown_ids_are_404(self, admin_api, tickets, ident):
        assert admin_api.delete(f"{URL}/{ident}").status_code == 404

    def test_needs_the_delete_permission(self, agent_api, tickets):
        t = tickets["9"]
        assert agent_api.delete(f"{URL}/{t.pk}").status_code == 403
        assert Ticket.objects.filter(pk=t.pk).exists()

    def test_another_clients_ticket_is_404_for_a_contact(self, tickets, acme):
        contact = factories.ContactFactory(client=acme)
        assert key_client(contact.user).delete(f"{URL}/{tickets['9'].pk}").status_code == 404


class TestAuth:
    def test_bearer_and_basic_with_the_key_as_user_name(self, agent, tickets):
        key = new_key(agent)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{key}:".encode()).decode())
        assert client.get(URL).status_code == 200
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        assert client.get(URL).status_code == 200

    @pytest.mark.parametrize("header", [None, "Bearer nope", "Basic " + base64.b64encode(b"nope:").decode(), "Basic !!"])
    def test_no_or_bad_key_is_401(self, tickets, header):
        client = APIClient()
        if header:
            client.credentials(HTTP_AUTHORIZATION=header)
        r = client.get(URL)
        assert r.status_code == 401
        assert r["WWW-Authenticate"].startswith("Bearer")

    def test_a_user_of_no_role_is_403(self, tickets):
        assert key_client(factories.UserFactory()).get(URL).status_code == 403

    def test_other_paths_and_methods(self, agent_api, tickets):
        assert agent_api.get("/planhat/companies").status_code == 404
        assert agent_api.post(URL, {}, format="json").status_code == 405
        assert agent_api.get(f"{URL}/1").status_code == 405


@pytest.mark.parametrize(("params", "rows"), [({}, 4), ({"sort": "createDate"}, 4), ({"limit": 1, "offset": 1}, 1),
                                            ({"select": "subject,status"}, 4), ({"limit": 2, "offset": 9}, 0)])
def test_a_broad_search_lists_what_a_narrow_one_does(agent_api, department, acme, monkeypatch, params, rows):
    # Past MAX_MATCHED_IDS on PostgreSQL the page is read as ids, then rows by id
    # (helpdesk.search.pages_by_id); the objects, their order and the paging must not change.
    from helpdesk import search

    for i in range(4):
        factories.TicketFactory(client=acme, department=department, subject=f"Refund {i}")
    factories.TicketFactory(client=acme, department=department, subject="Unrelated")
    narrow = agent_api.get(URL, {"search": "refund", **params})
    monkeypatch.setattr(search, "MAX_MATCHED_IDS", 0)
    broad = agent_api.get(URL, {"search": "refund", **params})
    assert broad.status_code == narrow.status_code == 200
    assert broad.json() == narrow.json()
    assert len(narrow.json()) == rows
