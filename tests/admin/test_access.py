"""Department-scoped agents in the admin: managed on the user's page and in their own list;
the overview's cached figures are per department set."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from helpdesk.models import AgentAccess
from tests import factories

pytestmark = pytest.mark.django_db


def test_an_agent_is_limited_from_their_user_page(su_client):
    support, billing = factories.DepartmentFactory(name="Support"), factories.DepartmentFactory(name="Billing")
    agent = factories.AgentFactory()
    url = reverse("admin:auth_user_change", args=[agent.pk])
    page = su_client.get(url)
    assert page.status_code == 200 and "helpdesk_access-TOTAL_FORMS" in page.content.decode()
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k not in ("groups", "user_permissions", "password")}
    data.update({
        "username": agent.username, "date_joined_0": agent.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": agent.date_joined.strftime("%H:%M:%S"), "is_staff": "on", "is_active": "on",
        "groups": [g.pk for g in agent.groups.all()],
        "helpdesk_access-TOTAL_FORMS": "1", "helpdesk_access-INITIAL_FORMS": "0",
        "helpdesk_access-MIN_NUM_FORMS": "0", "helpdesk_access-MAX_NUM_FORMS": "1",
        "helpdesk_access-0-departments": [support.pk],
    })
    for key in ("last_login",):
        data.pop(key, None)
    response = su_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert list(AgentAccess.objects.get(user=agent).departments.all()) == [support]
    assert billing not in AgentAccess.objects.get(user=agent).departments.all()


def test_the_access_list_shows_each_limited_agent(su_client):
    factories.AgentFactory(username="limited", departments=[factories.DepartmentFactory(name="Support")])
    factories.AgentFactory(username="nothing", departments=[])
    page = su_client.get(reverse("admin:helpdesk_agentaccess_changelist")).content.decode()
    assert "limited" in page and "Support" in page and "none (no tickets)" in page


def test_group_agents_cannot_change_anyones_access(agent_client):
    assert agent_client.get(reverse("admin:helpdesk_agentaccess_changelist")).status_code == 403


def test_the_overview_cache_is_per_department_set(client, make_ticket):
    support = factories.DepartmentFactory(name="Front desk")
    billing = factories.DepartmentFactory(name="Billing")
    make_ticket(department=support)
    make_ticket(department=billing)
    make_ticket(department=billing)
    cache.clear()
    url = reverse("admin:helpdesk_ticket_overview")
    client.force_login(factories.AgentFactory())
    assert client.get(url).context["overview"].open_total == 3
    client.force_login(factories.AgentFactory(departments=[support]))
    assert client.get(url).context["overview"].open_total == 1  # not the cached 3
    client.force_login(factories.AgentFactory(departments=[billing]))
    assert client.get(url).context["overview"].open_total == 2
    cache.clear()


def test_the_access_add_page_renders_with_the_departments_picker(su_client):
    factories.DepartmentFactory(name="Support")
    page = su_client.get(reverse("admin:helpdesk_agentaccess_add"))
    assert page.status_code == 200
    assert "Support" in page.content.decode() and 'name="departments"' in page.content.decode()
