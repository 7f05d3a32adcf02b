"""Fixtures of the Zammad dialect's tests: clients that authenticate as Zammad clients do."""

import base64

import pytest
from django.core.cache import cache
from django.core.servers import basehttp
from rest_framework.test import APIClient

from helpdesk.models import APIKey, Department
from tests import factories

BASE = "/api/v1"


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def sessions(monkeypatch):
    """Closes the clients' sessions at the end of the test, and has the live server close
    every connection after its response (``Connection: close``): a keep-alive connection
    would keep a server thread, and its database connection, alive past the test."""
    original = basehttp.ServerHandler.cleanup_headers

    def cleanup_headers(handler):
        original(handler)
        handler.headers["Connection"] = "close"
        handler.request_handler.close_connection = True

    monkeypatch.setattr(basehttp.ServerHandler, "cleanup_headers", cleanup_headers)
    opened = []
    yield opened.append
    for client in opened:
        client.session.close()


def new_key(user) -> str:
    _row, key = APIKey.objects.create_key(user=user, name="zammad test")
    return key


def token_client(user) -> APIClient:
    """``Authorization: Token token=KEY``, as zammad-py and zammadoo send it."""
    client = APIClient()
    client.key = new_key(user)
    client.credentials(HTTP_AUTHORIZATION=f"Token token={client.key}")
    return client


def basic_client(login: str, password: str) -> APIClient:
    client = APIClient()
    pair = base64.b64encode(f"{login}:{password}".encode()).decode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {pair}")
    return client


@pytest.fixture
def users_group(db):
    """Zammad's default group: our default department."""
    return Department.objects.create(name="Support", is_default=True)


@pytest.fixture
def zagent(db, users_group):
    return factories.AgentFactory(username="agent.smith", email="agent.smith@example.com")


@pytest.fixture
def zapi(zagent):
    return token_client(zagent)


@pytest.fixture
def zadmin(db, users_group):
    return factories.SuperuserFactory(username="admin.root", email="root@example.com")


@pytest.fixture
def zadmin_api(zadmin):
    return token_client(zadmin)


@pytest.fixture
def org(db, users_group):
    client = factories.ClientFactory(name="Acme Inc")
    factories.ClientDomainFactory(client=client, domain="acme.example")
    return client


@pytest.fixture
def customer(org):
    return factories.ContactFactory(
        client=org, user=factories.UserFactory(username="nicole", email="nicole@acme.example")
    ).user


@pytest.fixture
def customer_api(customer):
    return token_client(customer)


@pytest.fixture
def anon():
    return APIClient()


def create_ticket(client, **fields):
    payload = {
        "title": "Help me!",
        "group": "Users",
        "customer_id": "guess:david@acme.example",
        "article": {"subject": "My subject", "body": "I am a message!", "type": "note", "internal": False},
    }
    payload.update(fields)
    response = client.post(f"{BASE}/tickets", payload, format="json")
    assert response.status_code == 201, response.content
    return response.json()
