"""Tickets through the Zammad dialect: list, show, create, update, delete, and every error."""

import pytest
from django.contrib.auth import get_user_model

from helpdesk import services
from helpdesk.models import Client, Priority, Reply, ReplyType, StatusChange, Ticket, TicketStatus
from tests import factories

from .conftest import BASE, create_ticket

pytestmark = pytest.mark.django_db


def error_of(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error", "error_human"} and body["error"] == body["error_human"]
    return body["error"]


# -- create ------------------------------------------------------------------------------


def test_create_with_guess_creates_the_customer_and_the_first_article(zapi, org, zagent):
    data = create_ticket(zapi)
    ticket = Ticket.objects.get(pk=data["id"])
    assert ticket.subject == "Help me!" and ticket.message == "I am a message!"
    assert ticket.requester.email == "david@acme.example" and ticket.client == org
    assert ticket.creator == zagent and ticket.channel == "api"
    assert data["customer_id"] == ticket.requester_id and data["organization_id"] == org.pk
    assert data["number"] == str(ticket.pk) and isinstance(data["number"], str)
    assert data["state_id"] == 1 and data["priority_id"] == 2 and data["article_ids"] == [ticket.pk]
    assert StatusChange.objects.filter(ticket=ticket).count() == 1


def test_create_with_every_field(zapi, org, zagent, customer):
    factories.CustomFieldFactory(key="order_number")
    other = factories.DepartmentFactory(name="2nd Level")
    data = create_ticket(
        zapi, group=None, group_id=other.pk, customer_id=customer.pk, state="pending reminder",
        priority="3 high", owner_id=zagent.pk, tags="vip, billing", note="call back", order_number="A-17",
        article={"body": "<p>Hello &amp; welcome</p><p>Line two</p>", "content_type": "text/html",
                 "time_unit": "12"},
    )
    ticket = Ticket.objects.get(pk=data["id"])
    assert ticket.department == other and ticket.requester == customer and ticket.client == org
    assert ticket.status_id == TicketStatus.ON_HOLD and ticket.priority == Priority.HIGH
    assert list(ticket.assignees.all()) == [zagent]
    assert sorted(t.name for t in ticket.tags.all()) == ["billing", "vip"]
    assert ticket.message == "Hello & welcome\nLine two" and float(ticket.time_spent) == 12
    assert ticket.custom_fields == {"order_number": "A-17"}
    assert data["state_id"] == 3 and data["priority_id"] == 3 and data["owner_id"] == zagent.pk
    assert data["note"] == "call back" and data["order_number"] == "A-17" and data["time_unit"] == "12.00"


def test_create_with_customer_email_and_customer_object(zapi, org, customer):
    assert create_ticket(zapi, customer_id=None, customer="nicole@acme.example")["customer_id"] == customer.pk
    data = create_ticket(zapi, customer_id=None, customer={"email": "neo@acme.example", "firstname": "Thomas",
                                                            "lastname": "Anderson"})
    neo = get_user_model().objects.get(pk=data["customer_id"])
    assert (neo.first_name, neo.last_name, neo.email) == ("Thomas", "Anderson", "neo@acme.example")


def test_create_expanded_names_the_associations(zapi, org):
    response = zapi.post(f"{BASE}/tickets?expand=true", {
        "title": "T", "group": "Users", "customer_id": "guess:x@acme.example", "article": {"body": "b"}},
        format="json")
    data = response.json()
    assert response.status_code == 201
    assert (data["group"], data["state"], data["priority"], data["owner"]) == ("Support", "new", "2 normal", "-")
    assert data["customer"] == "x@acme.example" and data["organization"] == "Acme Inc"


def test_free_mail_customer_needs_an_organization(zapi, org, settings):
    payload = {"title": "T", "group": "Users", "customer_id": "guess:someone@gmail.com", "article": {"body": "b"}}
    assert "organization" in error_of(zapi.post(f"{BASE}/tickets", payload, format="json"), 422)
    assert not get_user_model().objects.filter(email="someone@gmail.com").exists()  # nothing half-written
    assert zapi.post(f"{BASE}/tickets", {**payload, "organization_id": org.pk}, format="json").status_code == 201
    settings.HELPDESK = {"ZAMMAD_DEFAULT_ORGANIZATION_ID": org.pk}
    payload["customer_id"] = "guess:other@gmail.com"
    assert zapi.post(f"{BASE}/tickets", payload, format="json").json()["organization_id"] == org.pk


@pytest.mark.parametrize(("change", "needle"), [
    ({"title": ""}, "title"),
    ({"title": 5}, "title"),
    ({"group": "Nope"}, "group"),
    ({"group": None, "group_id": None}, "group"),
    ({"group": None, "group_id": 99999}, "group_id"),
    ({"group": None, "group_id": "abc"}, "group_id"),
    ({"customer_id": "guess:not-an-email"}, "Invalid email"),
    ({"customer_id": 99999}, "customer_id"),
    ({"customer_id": None}, "customer"),
    ({"customer_id": True}, "customer_id"),
    ({"state": "merged"}, "state"),
    ({"state_id": 5}, "State 5"),
    ({"priority": "9 doom"}, "priority"),
    ({"priority_id": 77}, "priority_id"),
    ({"owner_id": 99999}, "owner_id"),
    ({"article": None}, "article"),
    ({"article": "just text"}, "article"),
    ({"article": {"body": ""}}, "body"),
    ({"article": {"body": "b", "internal": True}}, "internal"),
    ({"article": {"body": "b", "internal": "maybe"}}, "internal"),
    ({"article": {"body": "b", "type": "email"}}, "email"),
    ({"article": {"body": "b", "content_type": "image/png"}}, "content_type"),
    ({"article": {"body": "b", "attachments": [{"filename": "a.txt", "data": "e%A==", "mime-type": "text/plain"}]}},
     "attachment 1 (a.txt): data is not valid base64"),
    ({"article": {"body": "b", "attachments": {"filename": "a.txt"}}}, "attachments must be a list"),
    ({"article": {"body": "b", "sender": "Robot"}}, "sender"),
    ({"article": {"body": "b", "time_unit": "lots"}}, "time_spent"),
    ({"tags": 5}, "tags"),
    ({"tags": "x" * 60}, "tags"),
    ({"note": 5}, "note"),
    ({"mentions": [1]}, "mentions"),
    ({"colour": "red"}, "Unknown attribute"),
])
def test_create_errors_are_422_and_write_nothing(zapi, org, change, needle):
    before = (Ticket.objects.count(), get_user_model().objects.count(), Client.objects.count())
    payload = {"title": "Help", "group": "Users", "customer_id": "guess:new.person@acme.example",
               "article": {"body": "b"}}
    payload.update(change)
    message = error_of(zapi.post(f"{BASE}/tickets", payload, format="json"), 422)
    assert needle.lower() in message.lower()
    assert (Ticket.objects.count(), get_user_model().objects.count(), Client.objects.count()) == before


def test_owner_must_be_an_agent(zapi, org, customer):
    message = error_of(zapi.post(f"{BASE}/tickets", {
        "title": "T", "group": "Users", "customer_id": customer.pk, "owner_id": customer.pk,
        "article": {"body": "b"}}, format="json"), 422)
    assert "owner" in message


def test_body_errors(zapi, settings):
    assert "JSON object" in error_of(zapi.post(f"{BASE}/tickets", [1, 2], format="json"), 422)
    error_of(zapi.post(f"{BASE}/tickets", "{nope", content_type="application/json"), 400)
    # A write that takes no files: MAX_BODY_BYTES (1 MiB).
    error_of(zapi.post(f"{BASE}/users", "x" * 2_000_000, content_type="application/json"), 413)
    # One that does: MAX_BODY_BYTES and room for the files the limits allow, base64.
    settings.HELPDESK = {"ATTACHMENT_MAX_COUNT": 1, "ATTACHMENT_MAX_BYTES": 1000}
    error_of(zapi.post(f"{BASE}/tickets", "x" * 2_000_000, content_type="application/json"), 413)


# -- list and show -----------------------------------------------------------------------


def make_tickets(n, **kwargs):
    return [factories.TicketFactory(subject=f"Ticket {i}", **kwargs) for i in range(n)]


def test_list_is_by_id_and_pages_to_a_short_page(zapi):
    tickets = make_tickets(5)
    ids = [t.pk for t in sorted(tickets, key=lambda t: t.pk)]
    pages = [zapi.get(f"{BASE}/tickets?page={p}&per_page=2").json() for p in (1, 2, 3, 4)]
    assert [[t["id"] for t in page] for page in pages] == [ids[:2], ids[2:4], ids[4:], []]
    assert "state" not in pages[0][0]
    expanded = zapi.get(f"{BASE}/tickets?expand=true&per_page=1").json()[0]
    assert expanded["state"] == "new" and expanded["group"] == tickets[0].department.name


def test_per_page_over_the_maximum_is_clamped(zapi):
    make_tickets(3)
    assert len(zapi.get(f"{BASE}/tickets?per_page=100000").json()) == 3
    assert len(zapi.get(f"{BASE}/tickets?per_page=0").json()) == 1
    assert len(zapi.get(f"{BASE}/tickets?page=-4&per_page=2").json()) == 2
    assert zapi.get(f"{BASE}/tickets?page=99999999999999999999").json() == []


def test_list_sorts(zapi):
    a, b, c = make_tickets(3)
    services.ticket_update(ticket=a, subject="zz top")
    ordered = zapi.get(f"{BASE}/tickets?sort_by=updated_at&order_by=desc").json()
    assert ordered[0]["id"] == a.pk
    by_title = zapi.get(f"{BASE}/tickets?sort_by=title&order_by=asc").json()
    assert [t["title"] for t in by_title] == sorted(t["title"] for t in by_title)


@pytest.mark.parametrize("query", ["page=abc", "per_page=1.5", "sort_by=secret", "order_by=sideways"])
def test_list_errors(zapi, query):
    error_of(zapi.get(f"{BASE}/tickets?{query}"), 422)


def test_show_and_its_404s(zapi):
    ticket = make_tickets(1)[0]
    data = zapi.get(f"{BASE}/tickets/{ticket.pk}").json()
    assert data["id"] == ticket.pk and data["title"] == ticket.subject and data["article_count"] == 1
    for bad in ("999999", "abc", "0", "-1", "99999999999999999999999"):
        assert "Couldn't find Ticket" in error_of(zapi.get(f"{BASE}/tickets/{bad}"), 404)


def test_article_count_and_dates(zapi, zagent):
    ticket = make_tickets(1)[0]
    services.reply_post(ticket=ticket, author=zagent, text="answer")
    services.reply_post(ticket=ticket, author=zagent, text="note", type=ReplyType.NOTE)
    data = zapi.get(f"{BASE}/tickets/{ticket.pk}").json()
    assert data["article_count"] == 3 and data["first_response_at"].endswith("Z")
    assert data["last_contact_at"] == data["first_response_at"] and data["state_id"] == 2
    closed = TicketStatus.objects.get(pk=TicketStatus.CLOSED)
    services.ticket_change_status(ticket=ticket, status=closed)
    data = zapi.get(f"{BASE}/tickets/{ticket.pk}").json()
    assert data["state_id"] == 4 and data["close_at"] is not None


# -- update ------------------------------------------------------------------------------


def test_update_like_the_docs(zapi, org, zagent):
    sales = factories.DepartmentFactory(name="Sales")
    ticket_id = create_ticket(zapi)["id"]
    response = zapi.put(f"{BASE}/tickets/{ticket_id}", {
        "title": "No help for you", "group": "Sales", "state": "open", "priority": "3 high",
        "article": {"subject": "Update via API", "body": "Here's my reason", "internal": True},
    }, format="json")
    data = response.json()
    assert response.status_code == 200
    assert (data["title"], data["group_id"], data["priority_id"], data["article_count"]) == (
        "No help for you", sales.pk, 3, 2)
    assert len(data["article_ids"]) == 2
    ticket = Ticket.objects.get(pk=ticket_id)
    assert ticket.notes_count == 1 and Reply.objects.get(ticket=ticket).type == ReplyType.NOTE


def test_states_sharing_a_status_round_trip(zapi, org):
    ticket_id = create_ticket(zapi, state="pending close")["id"]
    assert zapi.get(f"{BASE}/tickets/{ticket_id}").json()["state_id"] == 7
    data = zapi.put(f"{BASE}/tickets/{ticket_id}", {"state": "pending reminder"}, format="json").json()
    assert data["state_id"] == 3 and StatusChange.objects.filter(ticket_id=ticket_id).count() == 1
    assert zapi.put(f"{BASE}/tickets/{ticket_id}", {"state": "open"}, format="json").json()["state_id"] == 2
    fresh = create_ticket(zapi)["id"]
    assert zapi.put(f"{BASE}/tickets/{fresh}", {"state": "open"}, format="json").json()["state_id"] == 2
    # a status changed elsewhere (the admin, the native API) shows as its own state again
    services.ticket_change_status(ticket=Ticket.objects.get(pk=fresh), status=TicketStatus.objects.get(pk=2))
    assert zapi.get(f"{BASE}/tickets/{fresh}").json()["state_id"] == 4


def test_names_win_over_ids_as_in_zammad(zapi, org):
    sales = factories.DepartmentFactory(name="Sales")
    data = create_ticket(zapi, group="Sales", group_id=99999, priority="3 high", priority_id=1)
    assert data["group_id"] == sales.pk and data["priority_id"] == 3


def test_update_state_owner_customer_note(zapi, org, zagent, customer):
    ticket_id = create_ticket(zapi)["id"]
    data = zapi.put(f"{BASE}/tickets/{ticket_id}", {"state_id": 4, "owner_id": zagent.pk,
                                                     "customer_id": customer.pk, "note": "VIP"}, format="json").json()
    assert (data["state_id"], data["owner_id"], data["customer_id"], data["note"]) == (4, zagent.pk, customer.pk, "VIP")
    ticket = Ticket.objects.get(pk=ticket_id)
    assert ticket.closed_at is not None and ticket.requester == customer
    assert zapi.put(f"{BASE}/tickets/{ticket_id}", {"owner_id": None}, format="json").json()["owner_id"] is None
    assert list(ticket.assignees.all()) == []


def test_put_back_of_a_read_ticket_changes_only_what_changed(zapi, org):
    ticket_id = create_ticket(zapi)["id"]
    data = zapi.get(f"{BASE}/tickets/{ticket_id}?expand=true").json()
    data["title"] = "Renamed"
    response = zapi.put(f"{BASE}/tickets/{ticket_id}", data, format="json")
    assert response.status_code == 200 and response.json()["title"] == "Renamed"
    assert StatusChange.objects.filter(ticket_id=ticket_id).count() == 1


@pytest.mark.parametrize(("change", "needle"), [
    ({"title": ""}, "title"),
    ({"title": None}, "title"),
    ({"state": "merged"}, "state"),
    ({"priority": None, "priority_id": 0}, "priority_id"),
    ({"state": None, "state_id": "x"}, "state_id"),
    ({"group_id": 424242}, "group_id"),
    ({"owner_id": "nobody"}, "owner_id"),
    ({"customer_id": None}, "customer"),
    ({"tags": "a,b"}, "tags/add"),
    ({"article": {"body": " "}}, "body"),
    ({"secret": 1}, "Unknown attribute"),
])
def test_update_errors_change_nothing(zapi, org, change, needle):
    ticket_id = create_ticket(zapi)["id"]
    payload = {"priority": "3 high", "state": "closed", **change}
    assert needle.lower() in error_of(zapi.put(f"{BASE}/tickets/{ticket_id}", payload, format="json"), 422).lower()
    ticket = Ticket.objects.get(pk=ticket_id)
    assert ticket.priority == Priority.NORMAL and ticket.status_id == TicketStatus.OPEN


def test_a_failing_article_undoes_the_state_change(zapi, org, settings):
    ticket_id = create_ticket(zapi)["id"]
    Ticket.objects.filter(pk=ticket_id).update(time_spent=99999990)
    response = zapi.put(f"{BASE}/tickets/{ticket_id}", {
        "state": "closed", "article": {"body": "done", "time_unit": 60}}, format="json")
    assert "time" in error_of(response, 422)
    ticket = Ticket.objects.get(pk=ticket_id)
    assert ticket.status_id == TicketStatus.OPEN and ticket.replies_count == 0


def test_update_404(zapi):
    error_of(zapi.put(f"{BASE}/tickets/424242", {"title": "x"}, format="json"), 404)


# -- delete ------------------------------------------------------------------------------


def test_delete_needs_the_permission(zapi, zadmin_api, org):
    ticket_id = create_ticket(zapi)["id"]
    assert error_of(zapi.delete(f"{BASE}/tickets/{ticket_id}"), 403) == "Not authorized"
    response = zadmin_api.delete(f"{BASE}/tickets/{ticket_id}")
    assert response.status_code == 200 and response.json() == {}
    assert not Ticket.objects.filter(pk=ticket_id).exists()
    error_of(zadmin_api.delete(f"{BASE}/tickets/{ticket_id}"), 404)


def test_unknown_route_and_method(zapi):
    assert "No route matches [GET] /api/v1/knowledge_bases" in error_of(zapi.get(f"{BASE}/knowledge_bases"), 404)
    error_of(zapi.patch(f"{BASE}/tickets/1", {}, format="json"), 405)


def test_form_encoded_create_with_rails_style_article(zapi, org):
    response = zapi.post(f"{BASE}/tickets", {
        "title": "From a form", "group": "Users", "customer_id": "guess:form@acme.example",
        "article[body]": "Sent with curl -d", "article[internal]": "false"})
    assert response.status_code == 201, response.content
    assert Ticket.objects.get(pk=response.json()["id"]).message == "Sent with curl -d"
    clash = zapi.post(f"{BASE}/tickets", {"title": "x", "group": "Users", "article": "a", "article[body]": "b"})
    assert clash.status_code == 422
