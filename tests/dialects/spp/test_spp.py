"""The Service Provider Pro dialect: StoreTicketRequest → 201 TicketResource, reads,
headers, roles and every refusal (nothing saved)."""

import base64
import urllib.parse
import uuid

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from helpdesk.attachments import IncomingFile, attachments_add
from helpdesk.models import Reply, ReplyType, Ticket
from tests import factories
from tests.api.conftest import key_client
from tests.api.test_attachments import PNG
from tests.dialects.conftest import new_key

pytestmark = pytest.mark.django_db
URL = "/spp/api/tickets"


@pytest.fixture
def customer(db):
    """A client contact: SPP's ``user_id``."""
    return factories.ContactFactory(
        user__first_name="John", user__last_name="Doe", user__email="john@example.org", client__name="Example Inc."
    ).user


@pytest.fixture
def employee(db):
    return factories.AgentFactory(first_name="Jane", last_name="Roe")


def store(api, body):
    return api.post(URL, body, format="json")


class TestCreate:
    def test_every_field_of_store_ticket_request(self, agent_api, agent, department, customer, employee):
        r = store(agent_api, {
            "user_id": customer.pk, "subject": "Ticket subject", "status": 3, "employees": [employee.pk],
            "tags": ["vip", "billing"], "order": "123456", "metadata": {"plan": "gold"}, "note": "Ticket note",
        })
        assert r.status_code == 201, r.content
        body = r.json()
        ticket = Ticket.objects.get()
        assert body["id"] == ticket.pk and body["subject"] == "Ticket subject" and body["user_id"] == customer.pk
        assert body["status"] == "On Hold" and body["tags"] == ["billing", "vip"]
        assert body["employees"] == [{"id": employee.pk, "name_f": "Jane", "name_l": "Roe", "group_id": None,
                                      "role_id": None}]
        assert body["order_id"] == 123456 and body["metadata"] == {"plan": "gold"} and body["note"] == "Ticket note"
        assert body["messages"] == [{"id": Reply.objects.get().pk, "user_id": agent.pk,
                                     "created_at": body["messages"][0]["created_at"], "message": "Ticket note",
                                     "staff_only": True, "files": []}]
        client = body["client"]
        assert (client["id"], client["name_f"], client["name_l"], client["email"], client["company"]) == (
            customer.pk, "John", "Doe", "john@example.org", "Example Inc.")
        for key in ("created_at", "updated_at", "last_message_at", "date_closed", "form_data", "source"):
            assert key in body
        assert body["created_at"].endswith("+00:00") and body["date_closed"] is None
        assert ticket.requester == customer and ticket.client.name == "Example Inc." and ticket.department == department
        assert Reply.objects.get().type == ReplyType.NOTE

    def test_minimal_request_and_its_headers(self, agent_api, department, customer):
        r = agent_api.post(URL, {"user_id": customer.pk, "subject": "Hello"}, format="json", HTTP_X_REQUEST_ID="abc-1")
        assert r.status_code == 201
        assert r["X-Api-Identifier"] == "abc-1" and r["X-Api-Version"]
        body = r.json()
        assert body["status"] == "Open" and body["employees"] == [] and body["note"] == "" and body["order_id"] is None
        r = store(agent_api, {"user_id": customer.pk, "subject": "Again"})
        uuid.UUID(r["X-Api-Identifier"])  # a fresh id when the caller sends none

    def test_form_encoded_with_php_arrays(self, agent_api, department, customer, employee):
        r = agent_api.post(URL, {"user_id": customer.pk, "subject": "Form", "employees[]": [employee.pk],
                                 "tags[]": ["a", "b"], "metadata": '{"k": 1}'})
        assert r.status_code == 201, r.content
        assert r.json()["tags"] == ["a", "b"] and r.json()["employees"][0]["id"] == employee.pk

    @pytest.mark.parametrize("body,field", [
        ({"subject": "No user"}, "user_id"),
        ({"user_id": 999999, "subject": "Unknown user"}, "user_id"),
        ({"user_id": "abc", "subject": "Bad user"}, "user_id"),
        ({"user_id": "CUSTOMER"}, "subject"),
        ({"user_id": "CUSTOMER", "subject": ""}, "subject"),
        ({"user_id": "CUSTOMER", "subject": "x" * 256}, "subject"),
        ({"user_id": "CUSTOMER", "subject": "s", "status": 999}, "status"),
        ({"user_id": "CUSTOMER", "subject": "s", "employees": [999999]}, "employees"),
        ({"user_id": "CUSTOMER", "subject": "s", "employees": ["CUSTOMER"]}, "employees"),
        ({"user_id": "CUSTOMER", "subject": "s", "metadata": ["a"]}, "metadata"),
        ({"user_id": "CUSTOMER", "subject": "s", "metadata": {"spp_order": "1"}}, "metadata"),
        ({"user_id": "CUSTOMER", "subject": "s", "tags": "x" * 51}, "tags"),
        ({"user_id": "CUSTOMER", "subject": "s", "priority": "high"}, "priority"),
        ({"user_id": "CUSTOMER", "subject": "s", "note": "a\x00b"}, "note"),
    ])
    def test_refusals_are_422_naming_the_field_and_save_nothing(self, agent_api, department, customer, body, field):
        body = {k: (customer.pk if v == "CUSTOMER" else [customer.pk] if v == ["CUSTOMER"] else v) for k, v in body.items()}
        r = store(agent_api, body)
        assert r.status_code == 422, r.content
        data = r.json()
        assert field in data["error"]["fields"] and field in data["errors"] and data["message"]
        assert not Ticket.objects.exists() and not Reply.objects.exists()

    @pytest.mark.parametrize("who", ["staff", "inactive", "clientless"])
    def test_user_id_must_be_an_active_client_contact(self, agent_api, department, who):
        user = {"staff": factories.AgentFactory, "clientless": factories.UserFactory,
                "inactive": lambda: factories.ContactFactory(user__is_active=False).user}[who]()
        r = store(agent_api, {"user_id": user.pk, "subject": "s"})
        assert r.status_code == 422 and "user_id" in r.json()["error"]["fields"]
        assert not Ticket.objects.exists()

    def test_no_default_department_is_a_clear_422(self, agent_api, customer):
        r = store(agent_api, {"user_id": customer.pk, "subject": "s"})
        assert r.status_code == 422 and "default" in r.json()["error"]["fields"]["user_id"][0]

    def test_contacts_cannot_create(self, department, customer):
        assert store(key_client(customer), {"user_id": customer.pk, "subject": "s"}).status_code == 403
        assert not Ticket.objects.exists()

    def test_bad_json_is_400(self, agent_api, department):
        r = agent_api.post(URL, "{nope", content_type="application/json")
        assert r.status_code == 400 and r.json()["message"]


class TestRead:
    @pytest.fixture
    def created(self, agent_api, department, customer):
        ids = [store(agent_api, {"user_id": customer.pk, "subject": f"T{n}", "note": "internal"}).json()["id"]
               for n in range(3)]
        ticket = Ticket.objects.get(pk=ids[0])
        factories.ReplyFactory(ticket=ticket, author=customer, text="Customer says hi", type=ReplyType.REPLY)
        return ids

    def test_get_one_in_the_same_shape(self, agent_api, created):
        r = agent_api.get(f"{URL}/{created[0]}")
        assert r.status_code == 200 and r["X-Api-Identifier"]
        body = r.json()
        assert body["id"] == created[0] and body["subject"] == "T0"
        assert [(m["message"], m["staff_only"]) for m in body["messages"]] == [
            ("internal", True), ("Customer says hi", False)]

    def test_list_pages_newest_first(self, agent_api, created):
        r = agent_api.get(URL, {"limit": 2})
        body = r.json()
        assert [t["id"] for t in body["data"]] == [created[2], created[1]]
        assert body["meta"]["total"] == 3 and body["meta"]["last_page"] == 2 and body["meta"]["per_page"] == 2
        assert body["links"]["next"].endswith("limit=2&page=2")
        assert [t["id"] for t in agent_api.get(URL, {"limit": 2, "page": 2}).json()["data"]] == [created[0]]

    def test_filters(self, agent_api, created, customer, employee, department):
        other = factories.ContactFactory().user
        ticket = Ticket.objects.get(pk=store(agent_api, {
            "user_id": other.pk, "subject": "Other", "status": 2, "employees": [employee.pk], "tags": ["vip"],
        }).json()["id"])

        def ids(**params):
            r = agent_api.get(URL, params)
            assert r.status_code == 200, r.content
            return [t["id"] for t in r.json()["data"]]

        assert ids(user_id=other.pk) == [ticket.pk]
        assert ids(user_id=customer.pk) == created[::-1]
        assert ids(status="Closed") == ids(status="2") == [ticket.pk]
        assert ids(status="Nope") == []
        assert ids(employee_id=employee.pk) == [ticket.pk]
        assert ids(**{"tags[]": ["VIP"]}) == [ticket.pk]
        r = agent_api.get(URL, {"status": "Closed", "limit": 1, "page": 1, "user_id": other.pk})
        first = urllib.parse.urlsplit(r.json()["links"]["first"])
        assert first.path == URL
        assert dict(urllib.parse.parse_qsl(first.query)) == {
            "status": "Closed", "user_id": str(other.pk), "limit": "1", "page": "1"}

    @pytest.mark.parametrize("params,field", [({"user_id": "x"}, "user_id"), ({"employee_id": "-1"}, "employee_id")])
    def test_bad_filter_values(self, agent_api, created, params, field):
        r = agent_api.get(URL, params)
        assert r.status_code == 422 and field in r.json()["errors"]

    def test_a_page_costs_the_same_queries_for_3_or_30_tickets(self, agent_api, created, customer):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as few:
            agent_api.get(URL)
        for n in range(27):
            factories.ReplyFactory(ticket=factories.TicketFactory(requester=customer, client=customer.helpdesk_contact.client))
        with CaptureQueriesContext(connection) as many:
            assert len(agent_api.get(URL, {"limit": 100}).json()["data"]) == 30
        assert len(many) == len(few)

    def test_messages_list_their_files_as_absolute_download_urls(self, agent_api, created, customer):
        ticket = Ticket.objects.get(pk=created[0])
        said = Reply.objects.get(ticket=ticket, type=ReplyType.REPLY)
        note = Reply.objects.get(ticket=ticket, type=ReplyType.NOTE)
        shot, = attachments_add(ticket=ticket, reply=said, files=[IncomingFile.from_bytes("shot.png", PNG)])
        secret, = attachments_add(ticket=ticket, reply=note, files=[IncomingFile.from_bytes("secret.txt", b"S")])
        shot_url = "http://testserver" + reverse("helpdesk-api:attachment", args=[shot.pk])
        secret_url = "http://testserver" + reverse("helpdesk-api:attachment", args=[secret.pk])
        body = agent_api.get(f"{URL}/{created[0]}").json()
        assert [(m["message"], m["files"]) for m in body["messages"]] == [
            ("internal", [secret_url]), ("Customer says hi", [shot_url])]
        assert [t["messages"][-1]["files"] for t in agent_api.get(URL).json()["data"] if t["id"] == created[0]] == [
            [shot_url]]
        download = agent_api.get(shot_url)
        assert download.status_code == 200 and b"".join(download.streaming_content) == PNG
        assert download["Content-Disposition"].startswith("attachment") and download["X-Content-Type-Options"] == "nosniff"
        # A contact: their conversation's file; the note's is neither listed nor downloadable.
        api = key_client(customer)
        assert [m["files"] for m in api.get(f"{URL}/{created[0]}").json()["messages"]] == [[shot_url]]
        assert api.get(shot_url).status_code == 200
        assert api.get(secret_url).status_code == 404

    def test_a_contact_reads_their_tickets_without_staff_notes(self, created, customer):
        api = key_client(customer)
        body = api.get(f"{URL}/{created[0]}").json()
        assert [m["message"] for m in body["messages"]] == ["Customer says hi"] and body["note"] == ""
        assert len(api.get(URL).json()["data"]) == 3
        other = factories.ContactFactory()
        assert key_client(other.user).get(f"{URL}/{created[0]}").status_code == 404
        assert key_client(other.user).get(URL).json()["data"] == []

    @pytest.mark.parametrize("params,field", [({"limit": 101}, "limit"), ({"page": 0}, "page"), ({"per_page": 5}, "per_page")])
    def test_bad_list_parameters(self, agent_api, created, params, field):
        r = agent_api.get(URL, params)
        assert r.status_code == 422 and field in r.json()["errors"]

    @pytest.mark.parametrize("ident", ["999999", "abc", "-1", "99999999999999999999", "9" * 5000, "²"],
                             ids=["unknown", "abc", "-1", "too-big", "5000-digits", "superscript"])
    def test_unknown_ticket_is_404(self, agent_api, created, ident):
        r = agent_api.get(f"{URL}/{ident}")
        assert r.status_code == 404 and r.json()["message"]

    def test_detail_refuses_query_parameters(self, agent_api, created):
        assert agent_api.get(f"{URL}/{created[0]}", {"include": "x"}).status_code == 422


class TestAuth:
    def test_bearer_only(self, agent, department):
        key = new_key(agent)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        assert client.get(URL).status_code == 200
        client.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{key}:".encode()).decode())
        assert client.get(URL).status_code == 401

    def test_missing_and_bad_tokens_are_401(self, db):
        assert APIClient().get(URL).status_code == 401
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Bearer nope")
        r = client.get(URL)
        assert r.status_code == 401 and r["WWW-Authenticate"].startswith("Bearer")

    def test_a_user_of_no_role_is_403(self, db):
        r = key_client(factories.UserFactory()).get(URL)
        assert r.status_code == 403 and r.json()["message"]

    def test_unknown_paths_and_methods(self, agent_api, department):
        assert agent_api.get("/spp/api/orders").status_code == 404
        assert agent_api.delete(f"{URL}/1").status_code == 405
