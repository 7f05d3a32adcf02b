"""Lookups: states, priorities, groups, organizations and users, with Zammad's default ids."""

import pytest

from helpdesk.models import Department
from tests import factories

from .conftest import BASE

pytestmark = pytest.mark.django_db


def test_states_and_priorities_have_zammads_default_ids(zapi):
    states = {s["id"]: s for s in zapi.get(f"{BASE}/ticket_states").json()}
    assert {i: s["name"] for i, s in states.items()} == {
        1: "new", 2: "open", 3: "pending reminder", 4: "closed", 7: "pending close"}
    assert states[1]["default_create"] is True and states[2]["default_follow_up"] is True
    assert states[4]["state_type_id"] == 5
    assert zapi.get(f"{BASE}/ticket_states/4?expand=true").json()["state_type"] == "closed"
    priorities = {p["id"]: p["name"] for p in zapi.get(f"{BASE}/ticket_priorities").json()}
    assert priorities == {1: "1 low", 2: "2 normal", 3: "3 high", 4: "4 urgent"}
    assert zapi.get(f"{BASE}/ticket_priorities/2").json()["default_create"] is True
    for path in ("ticket_states/5", "ticket_states/x", "ticket_priorities/9", "ticket_priorities/-1"):
        assert zapi.get(f"{BASE}/{path}").status_code == 404, path


def test_groups_are_departments(zapi, users_group):
    sales = factories.DepartmentFactory(name="Sales", description="Money")
    groups = zapi.get(f"{BASE}/groups").json()
    assert [(g["id"], g["name"]) for g in groups] == [(users_group.pk, "Support"), (sales.pk, "Sales")]
    assert zapi.get(f"{BASE}/groups/{sales.pk}").json()["note"] == "Money"
    assert zapi.get(f"{BASE}/groups/424242").status_code == 404
    assert zapi.get(f"{BASE}/groups/abc").status_code == 404


def test_group_users_falls_back_to_a_department_named_users(zapi, org):
    Department.objects.update(is_default=False)
    response = zapi.post(f"{BASE}/tickets", {"title": "T", "group": "Users", "customer_id": "guess:a@acme.example",
                                             "article": {"body": "b"}}, format="json")
    assert response.status_code == 422 and "Users" in response.json()["error"]
    users = factories.DepartmentFactory(name="Users")
    response = zapi.post(f"{BASE}/tickets", {"title": "T", "group": "users", "customer_id": "guess:a@acme.example",
                                             "article": {"body": "b"}}, format="json")
    assert response.json()["group_id"] == users.pk


def test_organizations(zapi, customer_api, org):
    other = factories.ClientFactory(name="Globex")
    assert [o["name"] for o in zapi.get(f"{BASE}/organizations").json()] == ["Acme Inc", "Globex"]
    assert zapi.get(f"{BASE}/organizations/{org.pk}?expand=true").json()["domains"] == ["acme.example"]
    assert [o["name"] for o in zapi.get(f"{BASE}/organizations/search?query=glob").json()] == ["Globex"]
    assert [o["name"] for o in customer_api.get(f"{BASE}/organizations").json()] == ["Acme Inc"]
    assert customer_api.get(f"{BASE}/organizations/{other.pk}").status_code == 404
    assert zapi.get(f"{BASE}/organizations/424242").status_code == 404


def test_users(zapi, customer_api, zagent, customer, org):
    colleague = factories.ContactFactory(client=org).user
    stranger = factories.ContactFactory().user
    me = customer_api.get(f"{BASE}/users/me?expand=true").json()
    assert (me["id"], me["organization_id"], me["roles"], me["role_ids"]) == (customer.pk, org.pk, ["Customer"], [3])
    agent = zapi.get(f"{BASE}/users/{zagent.pk}").json()
    assert agent["role_ids"] == [2] and agent["login"] == zagent.username and agent["email"] == zagent.email
    found = zapi.get(f"{BASE}/users/search?query=nicole@acme&limit=10").json()  # names are Faker's
    assert [u["id"] for u in found] == [customer.pk]
    assert customer_api.get(f"{BASE}/users/search?query=a").status_code == 403
    assert customer_api.get(f"{BASE}/users/{colleague.pk}").status_code == 200
    assert customer_api.get(f"{BASE}/users/{stranger.pk}").status_code == 404
    assert sorted(u["id"] for u in customer_api.get(f"{BASE}/users").json()) == sorted([customer.pk, colleague.pk])
    assert zapi.get(f"{BASE}/users/424242").status_code == 404


def test_create_user(zapi, customer_api, org):
    response = zapi.post(f"{BASE}/users", {"firstname": "Bob", "lastname": "Smith", "email": "bob@elsewhere.example",
                                           "organization": "Acme Inc"}, format="json")
    data = response.json()
    assert response.status_code == 201 and data["organization_id"] == org.pk and data["firstname"] == "Bob"
    again = zapi.post(f"{BASE}/users", {"email": "BOB@elsewhere.example"}, format="json")
    assert again.status_code == 422 and "already used" in again.json()["error"]
    for bad in ({"firstname": "No mail"}, {"email": "not an email"}, {"email": "c@x.example", "organization": "Nope"}):
        assert zapi.post(f"{BASE}/users", bad, format="json").status_code == 422, bad
    assert customer_api.post(f"{BASE}/users", {"email": "d@x.example"}, format="json").status_code == 403
