"""Nothing sent to ``PUT /tickets`` is a 500: odd bodies, and odd values in every field."""

import json

import pytest

from helpdesk.models import Ticket
from helpdesk.sync import FIELDS
from tests import factories

pytestmark = pytest.mark.django_db

ODD_VALUES = [None, True, 0, -1, 10**30, -(10**30), 1.5, float("inf"), float("nan"), "", " ", "\x00", "a\x00b",
              "\ud800", "ü" * 300, "9999-12-31T23:59:59-05:00", "0", "1", [], [1, [2]], ["\x00"], [None],
              [{"status": "\x00", "time": "x"}], {}, {"a": {"b": 1}}]
ODD_BODIES = [
    "null", "true", "123", '"text"', "[]", "[{}]", "{", "{'a': 1}", '{"a": NaN}', "[" * 5000 + "]" * 5000,
    '[{"sourceId": "\\ud800", "email": "a@acme.com"}]', '{"\\u0000": 1}', "\xff\xfe", "[1, 2, null, []]",
]


@pytest.fixture(autouse=True)
def world(db):
    factories.DepartmentFactory(is_default=True)
    factories.ClientDomainFactory(domain="acme.com")


def assert_clean(response):
    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        assert set(response.json()) == {"error"}
    else:
        assert {"created", "updated", "createdErrors", "updatedErrors"} <= set(response.json())


def test_odd_bodies(api):
    for body in ODD_BODIES:
        assert_clean(api.put("/api/tickets", body.encode("utf-8", "surrogatepass"), content_type="application/json"))
    for content_type in ("application/x-www-form-urlencoded", "multipart/form-data; boundary=zz", "text/plain",
                         "application/json; charset=nonsense"):
        assert_clean(api.put("/api/tickets", b"%zz=%%&a=\xff&&=", content_type=content_type))


@pytest.mark.parametrize("field", FIELDS)
def test_odd_values_in_every_field(api, field):
    for value in ODD_VALUES:
        item = {"source": "odd", "sourceId": f"{field}", "email": "max@acme.com", "title": "t", field: value}
        response = api.put("/api/tickets", json.dumps(item), content_type="application/json")
        assert_clean(response)
        data = response.json()
        # Saved, or reported: never lost.
        assert data["created"] + data["updated"] + len(data["createdErrors"]) + len(data["updatedErrors"]) == 1, value
    if field not in ("sourceId", "source"):  # those are the key: each good value is its own ticket
        assert Ticket.objects.filter(external_source="odd").count() <= 1
