"""Fixtures of the API tests: API clients signed in with a real key, per role."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from helpdesk.models import APIKey
from tests import factories


@pytest.fixture(autouse=True)
def _fresh_throttles():
    # Throttle counters live in the cache; every test starts with a full budget.
    cache.clear()
    yield
    cache.clear()


def key_client(user) -> APIClient:
    _row, key = APIKey.objects.create_key(user=user, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    client.key = key
    return client


@pytest.fixture
def api(agent):
    """An agent's API client (``Authorization: Bearer``)."""
    return key_client(agent)


@pytest.fixture
def contact_api(contact):
    return key_client(contact.user)


@pytest.fixture
def admin_api(db):
    return key_client(factories.SuperuserFactory())


@pytest.fixture
def anon():
    return APIClient()


@pytest.fixture
def ticket(department, client_org):
    return factories.TicketFactory(department=department, client=client_org, subject="Cannot log in")

