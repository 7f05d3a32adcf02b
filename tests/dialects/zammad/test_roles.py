"""Zammad's roles on our rules: agents see everything; customers their organization's
tickets, never internal articles, and write only for themselves (the same selectors and
services as the native API)."""

import pytest

from helpdesk.models import Ticket
from tests import factories

from .conftest import BASE, create_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def theirs(org):
    return factories.TicketFactory(client=org, subject="Ours")


@pytest.fixture
def others(db):
    return factories.TicketFactory(subject="Someone else's")


def test_customer_sees_their_organizations_tickets_only(customer_api, theirs, others):
    assert [t["id"] for t in customer_api.get(f"{BASE}/tickets").json()] == [theirs.pk]
    assert customer_api.get(f"{BASE}/tickets/{theirs.pk}").status_code == 200
    assert customer_api.get(f"{BASE}/tickets/{others.pk}").status_code == 404
    assert customer_api.get(f"{BASE}/ticket_articles/by_ticket/{others.pk}").status_code == 404


def test_agent_sees_all(zapi, theirs, others):
    assert sorted(t["id"] for t in zapi.get(f"{BASE}/tickets").json()) == sorted([theirs.pk, others.pk])


def test_customer_creates_for_themselves(customer_api, customer, org):
    data = create_ticket(customer_api, customer_id=None, priority="3 high")
    ticket = Ticket.objects.get(pk=data["id"])
    assert ticket.requester == customer and ticket.client == org and ticket.creator == customer
    assert data["create_article_sender_id"] == 2
    assert create_ticket(customer_api, customer_id=customer.pk)["customer_id"] == customer.pk


@pytest.mark.parametrize("change", [
    {"customer_id": "guess:someone@acme.example"}, {"owner_id": 1}, {"organization_id": 1}, {"tags": "x"},
    {"state": "closed"},
])
def test_customer_create_limits(customer_api, org, zagent, change):
    payload = {"title": "T", "group": "Users", "article": {"body": "b"}, **change}
    if "owner_id" in change:
        payload["owner_id"] = zagent.pk
    if "organization_id" in change:
        payload["organization_id"] = org.pk
    response = customer_api.post(f"{BASE}/tickets", payload, format="json")
    assert response.status_code == 403 and response.json()["error"]
    assert Ticket.objects.count() == 0


def test_customer_updates_with_articles_only(customer_api, theirs):
    ok = customer_api.put(f"{BASE}/tickets/{theirs.pk}", {"title": theirs.subject, "article": {"body": "more info"}},
                          format="json")
    assert ok.status_code == 200 and ok.json()["article_count"] == 2
    denied = customer_api.put(f"{BASE}/tickets/{theirs.pk}", {"state": "closed"}, format="json")
    assert denied.status_code == 403
    denied = customer_api.put(f"{BASE}/tickets/{theirs.pk}", {"title": "Mine now"}, format="json")
    assert denied.status_code == 403
    theirs.refresh_from_db()
    assert theirs.subject == "Ours" and theirs.replies_count == 1


def test_customer_cannot_delete(customer_api, theirs):
    assert customer_api.delete(f"{BASE}/tickets/{theirs.pk}").status_code == 403
    assert Ticket.objects.filter(pk=theirs.pk).exists()


def test_the_permission_model_applies(org, others):
    """Agents are what ``helpdesk.permissions`` says: a read-only agent reads but cannot
    write (the services refuse, 403 naming the permission), a department-limited agent
    sees only their departments' tickets."""
    from django.contrib.auth.models import Permission

    from .conftest import token_client

    reader = factories.StaffFactory()
    reader.user_permissions.add(Permission.objects.get(codename="view_ticket", content_type__app_label="helpdesk"))
    api = token_client(reader)
    assert api.get(f"{BASE}/tickets/{others.pk}").status_code == 200
    response = api.put(f"{BASE}/tickets/{others.pk}", {"title": "Changed"}, format="json")
    assert response.status_code == 403 and "helpdesk.change_ticket" in response.json()["error"]
    others.refresh_from_db()
    assert others.subject == "Someone else's"

    limited = factories.AgentFactory(departments=[factories.DepartmentFactory()])
    api = token_client(limited)
    assert api.get(f"{BASE}/tickets/{others.pk}").status_code == 404
    assert api.get(f"{BASE}/tickets").json() == []
