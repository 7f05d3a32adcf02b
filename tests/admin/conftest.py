"""Fixtures for the admin tests: a superuser's and an agent's logged-in clients, tickets."""

import pytest
from django.contrib.auth.models import Group

from helpdesk import services
from tests import factories


@pytest.fixture
def superuser(db):
    return factories.SuperuserFactory(first_name="Alex", last_name="Morgan")


@pytest.fixture
def su_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def group_agent(db):
    """A staff user whose only permissions come from the "Helpdesk agents" group."""
    user = factories.AgentFactory(first_name="Sam", last_name="Rivera")
    user.groups.add(Group.objects.get(name="Helpdesk agents"))
    return user


@pytest.fixture
def agent_client(client, group_agent):
    client.force_login(group_agent)
    return client


@pytest.fixture
def make_ticket(db):
    """Open a ticket through the service (so it has its first status change)."""
    department = factories.DepartmentFactory(name="Support")
    org = factories.ClientFactory(name="Acme Inc")

    def make(**kwargs):
        kwargs.setdefault("subject", "Cannot log in")
        kwargs.setdefault("message", "The login page shows an error.")
        kwargs.setdefault("department", department)
        kwargs.setdefault("client", org)
        kwargs.setdefault("silent", True)
        return services.ticket_create(**kwargs)

    return make
