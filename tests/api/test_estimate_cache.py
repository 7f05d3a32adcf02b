"""The planner's estimates are remembered per process (``helpdesk.counting.explain``).

A list past ``COUNT_EXACT_UP_TO`` shows the planner's estimate as its total; asking the
planner is a round trip and a planning of the query on every page, so the answer is kept
for ``ESTIMATE_CACHE_SECONDS``, per SQL text and parameters (so per scope and filter).
"""

import types

import pytest
from django.core.checks import run_checks
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpdesk import counting
from tests import factories
from tests.api.conftest import key_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    """``helpdesk.counting``'s clock, moved by hand (PostgreSQL only: the planner to ask)."""
    if connection.vendor != "postgresql":
        pytest.skip("only PostgreSQL has a planner to ask")
    now = [1000.0]
    monkeypatch.setattr(counting, "time", types.SimpleNamespace(monotonic=lambda: now[0]))
    return now


def tickets(n, **kwargs):
    for _ in range(n):
        factories.TicketFactory(**kwargs)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE helpdesk_ticket")


def explains(queries):
    return [q["sql"] for q in queries if q["sql"].startswith("EXPLAIN")]


def total(api, query="limit=2"):
    with CaptureQueriesContext(connection) as queries:
        response = api.get(f"/api/tickets?{query}")
    assert response.status_code == 200, response.content
    meta = response.json()["meta"]
    assert meta["total_exact"] is False
    return meta["total"], len(explains(queries))


@pytest.fixture
def estimated(settings):
    # Every total past 0 rows is the planner's estimate: nothing is counted.
    settings.HELPDESK = {"COUNT_EXACT_UP_TO": 0}


def test_the_same_list_asked_again_reuses_the_estimate(api, estimated, clock, department, client_org):
    tickets(3, department=department, client=client_org)
    first, asked = total(api)
    assert asked == 1 and first >= 3
    tickets(40, department=department, client=client_org)
    # Within the time: no EXPLAIN, the earlier total (and never below the rows this page shows).
    clock[0] += 9
    assert total(api) == (first, 0)
    # Past it: asked again, and the new rows show.
    clock[0] += 2
    later, asked = total(api)
    assert asked == 1 and later >= 40


def test_zero_seconds_asks_every_time(api, settings, clock, department, client_org):
    settings.HELPDESK = {"COUNT_EXACT_UP_TO": 0, "ESTIMATE_CACHE_SECONDS": 0}
    tickets(3, department=department, client=client_org)
    assert total(api)[1] == 1
    tickets(40, department=department, client=client_org)
    later, asked = total(api)
    assert asked == 1 and later >= 40


def test_each_filter_and_scope_has_its_own_estimate(api, estimated, clock, department, client_org, agent):
    other = factories.DepartmentFactory(name="Billing")
    tickets(3, department=department, client=client_org)
    tickets(30, department=other, client=client_org)
    mine, asked = total(api, f"limit=2&category_id={department.pk}")
    assert asked == 1 and mine < 30
    theirs, asked = total(api, f"limit=2&category_id={other.pk}")
    assert asked == 1 and theirs >= 30  # not the first filter's answer
    # An agent limited to one department: the scope is a parameter of the SQL, so the
    # unlimited agent's estimate for the whole list is not theirs; their list is the same
    # query as the first filter's, whose answer they share.
    everything, asked = total(api)
    assert asked == 1 and everything >= 33
    limited = key_client(factories.AgentFactory(departments=[department]))
    assert total(limited) == (mine, 0)

def test_forget_plans_and_the_size_bound(api, estimated, clock, monkeypatch, department, client_org):
    tickets(3, department=department, client=client_org)
    assert total(api)[1] == 1
    counting.forget_plans()
    assert total(api)[1] == 1
    monkeypatch.setattr(counting, "PLAN_CACHE_SIZE", 1)
    assert total(api, f"limit=2&category_id={department.pk}")[1] == 1  # pushes the plain list out
    assert total(api)[1] == 1
    assert len(counting._plans) == 1


def test_a_search_for_a_common_word_asks_the_planner_once(api, estimated, clock, department, client_org):
    tickets(3, department=department, client=client_org, subject="Invoice missing")
    with CaptureQueriesContext(connection) as first:
        assert api.get("/api/tickets?search=invoice").status_code == 200
    with CaptureQueriesContext(connection) as again:
        assert api.get("/api/tickets?search=invoice").status_code == 200
    assert explains(first) and not explains(again)


@pytest.mark.parametrize("value", [-1, "10", True, None])
def test_a_bad_setting_is_a_check_error(settings, value):
    settings.HELPDESK = {"ESTIMATE_CACHE_SECONDS": value}
    errors = [e for e in run_checks() if "ESTIMATE_CACHE_SECONDS" in e.msg]
    assert errors and errors[0].id == "helpdesk.E010"


def test_a_list_of_matching_ids_is_not_remembered(api, estimated, clock, department, client_org):
    # A search for a rare word filters by its matching ids (one array parameter, up to
    # 2,000 ids): that estimate is the search's own and is asked every time, while the
    # search's test for a common word (no array) is remembered.
    tickets(3, department=department, client=client_org, subject="Invoice missing")
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            assert api.get("/api/tickets?search=invoice&limit=2").status_code == 200
    asked = explains(queries)
    assert len(asked) == 1 and "= ANY(" in asked[0]
    assert len(counting._plans) == 1
