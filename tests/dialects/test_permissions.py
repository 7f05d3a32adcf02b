"""The permission model applies to the dialects as to the native API: they decide nothing
themselves (helpdesk.permissions and the selectors do)."""

import pytest
from django.contrib.auth.models import Permission

from helpdesk.models import Ticket
from tests import factories
from tests.api.conftest import key_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_departments(department):
    other = factories.DepartmentFactory(name="Sales")
    client = factories.ClientFactory()
    return (factories.TicketFactory(department=department, client=client),
            factories.TicketFactory(department=other, client=client), other)


def test_a_department_scoped_agent_sees_only_those_tickets_in_every_dialect(two_departments, department):
    mine, theirs, _other = two_departments
    api = key_client(factories.AgentFactory(departments=[department]))
    assert [o["_id"] for o in api.get("/planhat/tickets").json()] == [str(mine.pk)]
    assert [t["id"] for t in api.get("/spp/api/tickets").json()["data"]] == [mine.pk]
    assert api.get(f"/spp/api/tickets/{theirs.pk}").status_code == 404
    assert [t["id"] for t in api.get("/api/tickets").json()["data"]] == [mine.pk]


def test_staff_without_the_agent_group_is_nobody_to_the_dialects(two_departments):
    api = key_client(factories.StaffFactory())
    assert api.get("/planhat/tickets").status_code == 403
    assert api.get("/spp/api/tickets").status_code == 403


def test_an_agent_who_may_not_sync_cannot_upsert_through_either_mount(department):
    agent = factories.AgentFactory()
    agent.user_permissions.clear()
    for group in agent.groups.all():
        agent.groups.remove(group)
    agent.user_permissions.add(*Permission.objects.filter(codename="view_ticket", content_type__app_label="helpdesk"))
    agent = type(agent).objects.get(pk=agent.pk)
    api = key_client(agent)
    body = [{"sourceId": "1", "email": "a@acme.com"}]
    assert api.put("/planhat/tickets", body, format="json").status_code == 403
    assert api.put("/api/tickets", body, format="json").status_code == 403
    assert not Ticket.objects.exists()


def test_an_agent_who_may_not_add_tickets_cannot_create_through_spp(department):
    customer = factories.ContactFactory().user
    agent = factories.AgentFactory()
    for group in agent.groups.all():
        agent.groups.remove(group)
    agent.user_permissions.add(*Permission.objects.filter(codename="view_ticket", content_type__app_label="helpdesk"))
    r = key_client(type(agent).objects.get(pk=agent.pk)).post(
        "/spp/api/tickets", {"user_id": customer.pk, "subject": "s"}, format="json")
    assert r.status_code == 403 and r.json()["message"]
    assert not Ticket.objects.exists()
