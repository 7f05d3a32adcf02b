"""The real PyPI clients, ``zammad-py`` and ``zammadoo``, against a live server started by
the test (pytest-django's ``live_server``): a Zammad script with only its URL and token
changed runs from start to end."""

import pytest
from requests.exceptions import HTTPError
from zammad_py import ZammadAPI
from zammadoo import Client as Zammadoo

from helpdesk.models import Priority, Reply, Ticket, TicketStatus

from .conftest import new_key

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _default_statuses(default_statuses):
    """The suite's ``default_statuses`` for every test here (and in test_demo_script.py)."""


@pytest.fixture
def zpy(live_server, zagent, org, sessions):
    client = ZammadAPI(url=f"{live_server.url}/api/v1/", http_token=new_key(zagent))
    sessions(client)
    return client


@pytest.fixture
def zoo(live_server, zagent, org, sessions):
    client = Zammadoo(f"{live_server.url}/api/v1", http_token=new_key(zagent))
    sessions(client)
    return client


def test_zammad_py_ticket_lifecycle(zpy, zadmin, live_server, sessions):
    created = zpy.ticket.create(params={
        "title": "Printer on fire",
        "group": "Users",
        "customer_id": "guess:jane@acme.example",
        "article": {"subject": "Printer", "body": "It is burning", "type": "note", "internal": False},
        "tags": "hardware,urgent-ish",
    })
    ticket_id = created["id"]
    assert created["number"] == str(ticket_id) and created["state_id"] == 1 and created["priority_id"] == 2
    assert created["article_count"] == 1 and len(created["article_ids"]) == 1

    found = zpy.ticket.find(ticket_id)
    assert found["title"] == "Printer on fire" and found["customer_id"] == created["customer_id"]

    updated = zpy.ticket.update(ticket_id, {"state": "pending reminder", "priority_id": 3})
    assert updated["state_id"] == 3 and updated["priority_id"] == 3
    ticket = Ticket.objects.get(pk=ticket_id)
    assert ticket.status_id == TicketStatus.ON_HOLD and ticket.priority == Priority.HIGH

    public = zpy.ticket_article.create({"ticket_id": ticket_id, "body": "We are on it", "internal": False})
    internal = zpy.ticket_article.create({"ticket_id": ticket_id, "body": "Call the fire brigade", "internal": True})
    assert public["internal"] is False and internal["internal"] is True
    assert zpy.ticket_article.find(internal["id"])["body"] == "Call the fire brigade"

    articles = zpy.ticket.articles(ticket_id)
    assert [a["body"] for a in articles] == ["It is burning", "We are on it", "Call the fire brigade"]
    assert [a["sender"] for a in articles] == ["Customer", "Agent", "Agent"]
    assert Reply.objects.filter(ticket_id=ticket_id).count() == 2

    zpy.ticket_tag.add(ticket_id, "printer")
    assert sorted(zpy.ticket.tags(ticket_id)["tags"]) == ["hardware", "printer", "urgent-ish"]
    zpy.ticket_tag.remove(ticket_id, "urgent-ish")
    assert sorted(zpy.ticket.tags(ticket_id)["tags"]) == ["hardware", "printer"]

    expanded = zpy.ticket.search("burning")
    assert [t["id"] for t in expanded] == [ticket_id] and expanded[0]["state"] == "pending reminder"
    plain = zpy.ticket.search("burning", filters={"expand": "false"})
    # zammad-py hands the body through: Zammad's {"tickets", "tickets_count", "assets"}.
    assert plain._items["tickets"] == [ticket_id] and plain._items["tickets_count"] == 1
    assert plain._items["assets"]["Ticket"][str(ticket_id)]["title"] == "Printer on fire"

    with pytest.raises(HTTPError) as missing:
        zpy.ticket.find(987654)
    assert "Couldn't find Ticket" in str(missing.value)

    admin = ZammadAPI(url=f"{live_server.url}/api/v1/", http_token=new_key(zadmin))
    sessions(admin)
    admin.ticket.destroy(ticket_id)
    assert not Ticket.objects.filter(pk=ticket_id).exists()
    with pytest.raises(HTTPError):
        zpy.ticket.find(ticket_id)


def test_zammad_py_pages_to_the_end(zpy):
    for n in range(5):
        zpy.ticket.create(params={
            "title": f"Ticket {n}", "group": "Users", "customer": "nicole@acme.example",
            "article": {"body": f"Body {n}"},
        })
    page = zpy.ticket.all(filters={"per_page": 2})
    seen = [t["id"] for t in page]
    pages = 1
    while not page.is_last_page():
        page = page.next_page()
        seen += [t["id"] for t in page]
        pages += 1
    assert pages == 3 and len(seen) == 5 and seen == sorted(seen)
    assert len(set(seen)) == 5


def test_zammad_py_lookups_and_me(zpy, zagent):
    assert zpy.user.me()["login"] == zagent.username
    assert {s["name"] for s in zpy.ticket_state.all()} >= {"new", "open", "pending reminder", "closed"}
    assert [p["name"] for p in zpy.ticket_priority.all()][:3] == ["1 low", "2 normal", "3 high"]
    assert "Support" in [g["name"] for g in zpy.group.all()]
    assert [o["name"] for o in zpy.organization.all()] == ["Acme Inc"]


def test_zammadoo_ticket_lifecycle(zoo, zadmin, live_server, sessions):
    ticket = zoo.tickets.create("Mail is down", group="Users", customer="guess:bob@acme.example",
                                article={"body": "No mail since 9am"})
    assert ticket.title == "Mail is down" and ticket.state.name == "new" and ticket.priority.name == "2 normal"
    assert ticket.customer.email == "bob@acme.example" and ticket.organization.name == "Acme Inc"
    assert ticket.group.name == "Support"

    ticket = ticket.update(state="open", priority="3 high", body="Looking into it", internal=False)
    assert ticket.priority.name == "3 high"
    ticket.create_article("Server rebooted", internal=True)
    articles = zoo.ticket_articles.by_ticket(ticket.id)
    assert [(a.body, a.internal) for a in articles] == [
        ("No mail since 9am", False), ("Looking into it", False), ("Server rebooted", True)]
    fresh = zoo.tickets(ticket.id)
    fresh.reload(expand=True)
    assert [a.body for a in fresh.articles] == [a.body for a in articles]

    ticket.add_tags("mail", "outage")
    assert sorted(ticket.tags()) == ["mail", "outage"]
    ticket.remove_tags("outage")
    assert ticket.tags() == ["mail"]
    assert zoo.tags.search("mai") == ["mail"]

    # search: zammadoo asks without expand (the {"tickets", "assets"} shape) unless told
    assert [t.id for t in zoo.tickets.search("mail")] == [ticket.id]
    assert [t.title for t in zoo.tickets.search("mail", expand=True)] == ["Mail is down"]
    assert [t.title for t in zoo.tickets.search("mail")] == ["Mail is down"]

    with pytest.raises(HTTPError) as missing:
        zoo.tickets(999999).title
    assert missing.value.response.status_code == 404

    admin = Zammadoo(f"{live_server.url}/api/v1", http_token=new_key(zadmin))
    sessions(admin)
    admin.tickets(ticket.id).delete()
    assert not Ticket.objects.filter(pk=ticket.id).exists()


def test_zammadoo_pages_to_the_end(zoo):
    for n in range(5):
        zoo.tickets.create(f"T{n}", group="Users", customer="nicole@acme.example", article=f"Body {n}")
    ids = [t.id for t in zoo.tickets.iter(per_page=2)]
    assert len(ids) == 5 and ids == sorted(ids)
    found = [t.id for t in zoo.tickets.search("Body", per_page=2)]
    assert sorted(found) == sorted(ids)


def test_basic_auth_with_email_and_password(live_server, zagent, org, sessions):
    zagent.set_password("s3cret")
    zagent.save()
    by_email = ZammadAPI(url=f"{live_server.url}/api/v1/", username=zagent.email, password="s3cret")
    sessions(by_email)
    assert by_email.user.me()["id"] == zagent.pk
    wrong = Zammadoo(f"{live_server.url}/api/v1", http_auth=(zagent.username, "nope"))
    sessions(wrong)
    with pytest.raises(HTTPError) as failed:
        wrong.users.me()
    assert failed.value.response.status_code == 401
