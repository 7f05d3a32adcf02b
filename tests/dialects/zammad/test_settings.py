"""The mapping tables (``HELPDESK["ZAMMAD_*"]``): their system checks, and that changing
them changes what clients see."""

import pytest

from helpdesk.checks import check_settings
from helpdesk.models import Priority, Ticket, TicketStatus
from tests import factories

from .conftest import BASE, create_ticket

pytestmark = pytest.mark.django_db


def ids(value, settings):
    settings.HELPDESK = value
    return [e.id for e in check_settings()]


GOOD_STATES = {1: {"name": "new", "type": "new", "status_id": 1}, 2: {"name": "open", "type": "open", "status_id": 1}}


@pytest.mark.parametrize("value", [
    {"ZAMMAD_STATES": {}},
    {"ZAMMAD_STATES": []},
    {"ZAMMAD_STATES": {"1": {"name": "new", "type": "new", "status_id": 1}}},
    {"ZAMMAD_STATES": {1: {"name": "new", "type": "fresh", "status_id": 1}}},
    {"ZAMMAD_STATES": {1: {"name": "", "type": "new", "status_id": 1}}},
    {"ZAMMAD_STATES": {1: {"name": "new", "type": "new", "status_id": "1"}}},
    {"ZAMMAD_STATES": {**GOOD_STATES, 3: {"name": "NEW", "type": "open", "status_id": 1}}},
    {"ZAMMAD_STATE_FOR_STATUS": {1: 99}},
    {"ZAMMAD_STATE_FOR_STATUS": "open"},
    {"ZAMMAD_NEW_STATE_ID": 99},
    {"ZAMMAD_NEW_STATE_ID": "1"},
    {"ZAMMAD_PRIORITIES": {1: {"name": "1 low", "priority": "low"}}},
    {"ZAMMAD_PRIORITIES": {1: {"name": "1 low"}}},
    {"ZAMMAD_PRIORITY_FOR_PRIORITY": {"normal": 2, "high": 3}},
    {"ZAMMAD_PRIORITY_FOR_PRIORITY": {"normal": 2, "high": 3, "urgent": 9}},
    {"ZAMMAD_GROUPS": {"Users": 5}},
    {"ZAMMAD_GROUPS": {"": None}},
    {"ZAMMAD_GROUPS": ["Users"]},
    {"ZAMMAD_DEFAULT_ORGANIZATION_ID": 0},
    {"ZAMMAD_DEFAULT_ORGANIZATION_ID": "1"},
])
def test_bad_tables_are_reported(settings, value):
    assert "helpdesk.E011" in ids(value, settings)


def test_good_tables_pass(settings):
    assert ids({"ZAMMAD_STATES": GOOD_STATES, "ZAMMAD_STATE_FOR_STATUS": {1: 2, 2: 2},
                "ZAMMAD_GROUPS": {"Users": "Sales", "1st Level": None},
                "ZAMMAD_DEFAULT_ORGANIZATION_ID": 3}, settings) == []


def test_group_alias_to_a_department(settings, zapi, org):
    sales = factories.DepartmentFactory(name="Sales")
    settings.HELPDESK = {"ZAMMAD_GROUPS": {"Users": "Sales", "1st Level": None}}
    assert create_ticket(zapi, group="Users")["group_id"] == sales.pk
    default = create_ticket(zapi, group="1st level")["group_id"]
    assert default != sales.pk


def test_custom_state_and_priority_tables(settings, zapi, org):
    settings.HELPDESK = {
        "ZAMMAD_STATES": {
            1: {"name": "new", "type": "new", "status_id": 1},
            2: {"name": "open", "type": "open", "status_id": 1},
            9: {"name": "waiting for vendor", "type": "pending reminder", "status_id": 3},
            4: {"name": "closed", "type": "closed", "status_id": 2},
        },
        "ZAMMAD_STATE_FOR_STATUS": {1: 2, 2: 4, 3: 9},
        "ZAMMAD_NEW_STATE_ID": None,
        "ZAMMAD_PRIORITIES": {1: {"name": "low", "priority": "normal"}, 5: {"name": "critical", "priority": "urgent"}},
        "ZAMMAD_PRIORITY_FOR_PRIORITY": {"normal": 1, "high": 5, "urgent": 5},
    }
    data = create_ticket(zapi, state="waiting for vendor", priority="critical")
    ticket = Ticket.objects.get(pk=data["id"])
    assert ticket.status_id == TicketStatus.ON_HOLD and ticket.priority == Priority.URGENT
    assert data["state_id"] == 9 and data["priority_id"] == 5
    assert [s["name"] for s in zapi.get(f"{BASE}/ticket_states").json()] == [
        "new", "open", "closed", "waiting for vendor"]
    assert create_ticket(zapi)["state_id"] == 2  # no "new" rendering
    assert zapi.get(f"{BASE}/ticket_states/3").status_code == 404


def test_a_state_whose_status_was_deleted_is_a_422(settings, zapi, org):
    settings.HELPDESK = {"ZAMMAD_STATES": {**GOOD_STATES, 8: {"name": "gone", "type": "open", "status_id": 999}},
                         "ZAMMAD_STATE_FOR_STATUS": {1: 2}}
    response = zapi.post(f"{BASE}/tickets", {"title": "T", "group": "Users", "state": "gone",
                                             "customer_id": "guess:a@acme.example", "article": {"body": "b"}},
                         format="json")
    assert response.status_code == 422 and "not supported" in response.json()["error"]


def test_unlisted_statuses_show_as_open_or_closed(zapi, org):
    waiting = TicketStatus.objects.create(title="Waiting", is_closed=False)
    done = TicketStatus.objects.create(title="Done", is_closed=True)
    a = factories.TicketFactory(status=waiting, client=org, first_response_at="2026-01-01T00:00Z")
    b = factories.TicketFactory(status=done, client=org)
    assert zapi.get(f"{BASE}/tickets/{a.pk}").json()["state_id"] == 2
    assert zapi.get(f"{BASE}/tickets/{b.pk}").json()["state_id"] == 4
