"""Authentication as Zammad clients send it, X-On-Behalf-Of, and the 401/403 shapes."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from rest_framework.test import APIClient

from helpdesk.models import APIKey, Ticket
from tests import factories

from .conftest import BASE, basic_client, create_ticket, new_key

pytestmark = pytest.mark.django_db


def me(client, **headers):
    return client.get(f"{BASE}/users/me", **headers)


def test_token_bearer_and_basic(zagent):
    key = new_key(zagent)
    for header in (f"Token token={key}", f'Token token="{key}"', f"Bearer {key}"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header)
        assert me(client).json()["id"] == zagent.pk, header
    assert me(basic_client(zagent.username, "pw")).json()["login"] == zagent.username
    assert me(basic_client(zagent.email.upper(), "pw")).json()["id"] == zagent.pk


@pytest.mark.parametrize("header", [
    "Token token=nope", "Token token=", "Bearer nope.nope", "Basic !!!notbase64", "Basic " + "YWdlbnQ=",
    "Digest abc", "Token",
])
def test_bad_credentials_are_401_in_zammads_shape(zagent, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = me(client)
    assert response.status_code == 401, header
    assert set(response.json()) == {"error", "error_human"} and response["X-Failure"]


def test_wrong_password_revoked_and_expired_keys(zagent):
    assert me(basic_client(zagent.username, "wrong")).status_code == 401
    assert me(basic_client("nobody@example.com", "pw")).status_code == 401
    for change in ({"revoked": True}, {"expires_at": timezone.now() - datetime.timedelta(days=1)}):
        row, key = APIKey.objects.create_key(user=zagent, name="k")
        APIKey.objects.filter(pk=row.pk).update(**change)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token token={key}")
        assert me(client).json()["error"] == "Invalid token!"


def test_inactive_user(zagent):
    key = new_key(zagent)
    zagent.is_active = False
    zagent.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert me(client).status_code == 401
    assert me(basic_client(zagent.username, "pw")).status_code == 401


def test_no_credentials(anon):
    response = me(anon)
    assert response.status_code == 401 and response.json()["error"] == "Authentication required"


def test_user_who_is_neither_agent_nor_customer_gets_403(db):
    stranger = factories.UserFactory()
    response = me(basic_client(stranger.username, "pw"))
    assert response.status_code == 403 and response.json()["error"]


def test_on_behalf_of(zagent, customer, org):
    zagent.user_permissions.add(Permission.objects.get(codename="change_user", content_type__app_label="auth"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token token={new_key(zagent)}")
    for value in (str(customer.pk), customer.username, customer.email.upper()):
        assert me(client, HTTP_X_ON_BEHALF_OF=value).json()["id"] == customer.pk, value
    # a ticket created on behalf of the customer is theirs, as if they had sent it
    response = client.post(f"{BASE}/tickets", {"title": "Mine", "group": "Users", "article": {"body": "b"}},
                           format="json", HTTP_X_ON_BEHALF_OF=customer.username)
    ticket = Ticket.objects.get(pk=response.json()["id"])
    assert ticket.requester == customer and ticket.creator == customer and ticket.client == org
    for bad in ("nobody", "424242", "9" * 40):
        response = me(client, HTTP_X_ON_BEHALF_OF=bad)
        assert response.status_code == 403 and "No such user" in response.json()["error"]


def test_on_behalf_of_needs_the_permission(zapi, customer):
    response = me(zapi, HTTP_X_ON_BEHALF_OF=customer.username)
    assert response.status_code == 403 and "X-On-Behalf-Of" in response.json()["error"]


def test_a_customer_cannot_act_on_behalf_of_anyone(customer_api, zagent):
    assert me(customer_api, HTTP_X_ON_BEHALF_OF=zagent.username).status_code == 403


def test_create_with_basic_auth(zagent, org):
    client = basic_client(zagent.email, "pw")
    assert create_ticket(client)["created_by_id"] == zagent.pk


def test_throttled_is_429_in_zammads_shape(settings, zapi):
    settings.HELPDESK = {"THROTTLE_RATES": {"anon": "1/min", "user": "2/min", "upsert": None}}
    assert me(zapi).status_code == 200
    assert me(zapi).status_code == 200
    response = me(zapi)
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    assert set(response.json()) == {"error", "error_human"}
