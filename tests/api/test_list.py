"""GET /tickets: filters, sort, select, pagination, search, roles and query counts."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from helpdesk import services
from helpdesk.models import ActiveState, Priority, ReplyType
from tests import factories

pytestmark = pytest.mark.django_db


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["data"]]


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def three(department, client_org, now):
    """Three tickets, oldest first, with different status, priority and department."""
    other_dept = factories.DepartmentFactory(name="Billing")
    a = factories.TicketFactory(department=department, client=client_org, priority=Priority.URGENT,
                                created_at=now - datetime.timedelta(days=3), subject="Printer on fire")
    b = factories.TicketFactory(department=other_dept, client=client_org, priority=Priority.NORMAL, status_id=2,
                                created_at=now - datetime.timedelta(days=2), subject="Invoice wrong")
    c = factories.TicketFactory(department=department, priority=Priority.HIGH, status_id=3,
                                created_at=now - datetime.timedelta(days=1), subject="Login broken")
    return a, b, c


class TestFilters:
    def test_default_is_active_newest_first(self, api, three):
        a, b, c = three
        factories.TicketFactory(active_state=ActiveState.ARCHIVED)
        assert ids(api.get("/api/tickets")) == [c.pk, b.pk, a.pk]

    def test_active_state(self, api, three):
        archived = factories.TicketFactory(active_state=ActiveState.ARCHIVED)
        assert ids(api.get("/api/tickets?active_state=archived")) == [archived.pk]
        assert len(ids(api.get("/api/tickets?active_state=all"))) == 4
        assert api.get("/api/tickets?active_state=gone").status_code == 422

    @pytest.mark.parametrize("value, expected", [("1", "a"), ("Closed", "b"), ("on hold", "c"), ("1,2", "ab"), ("open,3", "ac")])
    def test_status_by_id_title_and_lists(self, api, three, value, expected):
        by_name = dict(zip("abc", three, strict=False))
        assert sorted(ids(api.get("/api/tickets", {"status": value}))) == sorted(by_name[x].pk for x in expected)

    def test_unknown_status_is_422(self, api, three):
        r = api.get("/api/tickets?status=Nope,1")
        assert r.status_code == 422
        assert "status" in r.json()["error"]["fields"]

    def test_priority(self, api, three):
        a, b, c = three
        assert ids(api.get("/api/tickets?priority=urgent,high")) == [c.pk, a.pk]
        assert api.get("/api/tickets?priority=asap").status_code == 422

    def test_category_client_company_project(self, api, three, client_org):
        a, b, c = three
        project = factories.ProjectFactory(client=client_org)
        a.project = project
        a.save()
        assert ids(api.get(f"/api/tickets?category_id={a.department_id}")) == [c.pk, a.pk]
        assert ids(api.get(f"/api/tickets?client_id={client_org.pk}")) == [b.pk, a.pk]
        assert ids(api.get(f"/api/tickets?companyId={c.client_id}")) == [c.pk]
        assert ids(api.get(f"/api/tickets?client_id={client_org.pk},{c.client_id}")) == [c.pk, b.pk, a.pk]
        assert ids(api.get(f"/api/tickets?project_id={project.pk}")) == [a.pk]

    @pytest.mark.parametrize("param", ["client_id=abc", "category_id=1.5", "project_id=0", f"client_id={10**30}", "assignee_id=x"])
    def test_bad_ids_are_422(self, api, param):
        r = api.get(f"/api/tickets?{param}")
        assert r.status_code == 422
        assert param.split("=")[0] in r.json()["error"]["fields"]

    def test_assignee_and_email(self, api, three, agent):
        a, b, c = three
        a.assignees.set([agent])
        b.requester = factories.UserFactory(email="Max@Customer.com")
        b.save()
        assert ids(api.get(f"/api/tickets?assignee_id={agent.pk}")) == [a.pk]
        assert ids(api.get("/api/tickets?email=max@customer.com")) == [b.pk]

    def test_tags_all_of_them(self, api, three):
        a, b, c = three
        t1, t2 = factories.TagFactory(name="billing"), factories.TagFactory(name="vip")
        a.tags.set([t1, t2])
        b.tags.set([t1])
        assert ids(api.get("/api/tickets?tags[]=billing&tags[]=vip")) == [a.pk]
        assert ids(api.get("/api/tickets?tags[]=Billing")) == [b.pk, a.pk]
        assert ids(api.get("/api/tickets?tags=billing&tags=vip")) == [a.pk]
        assert ids(api.get("/api/tickets?tags[]=nothing")) == []

    def test_updated_and_created_since(self, api, three, now):
        a, b, c = three
        since = (now - datetime.timedelta(days=1, hours=12)).isoformat()
        assert ids(api.get("/api/tickets", {"created_since": since})) == [c.pk]
        assert ids(api.get("/api/tickets", {"updated_since": since})) == [c.pk]
        assert len(ids(api.get("/api/tickets", {"created_since": "2000-01-01"}))) == 3
        assert len(ids(api.get("/api/tickets", {"created_since": "2000-01-01T00:00:00Z"}))) == 3

    @pytest.mark.parametrize("value", ["yesterday", "2024-13-45", "2024-01-01T25:00:00"])
    def test_bad_dates_are_422(self, api, value):
        r = api.get("/api/tickets", {"updated_since": value})
        assert r.status_code == 422
        assert "updated_since" in r.json()["error"]["fields"]


class TestSort:
    def test_sort_keys_and_order(self, api, three):
        a, b, c = three
        assert ids(api.get("/api/tickets?sort=ticket_created&order=asc")) == [a.pk, b.pk, c.pk]
        assert ids(api.get("/api/tickets?sort=ticket_priority")) == [a.pk, c.pk, b.pk]  # urgent, high, normal
        assert ids(api.get("/api/tickets?sort=ticket_priority&order=asc")) == [b.pk, c.pk, a.pk]
        assert ids(api.get("/api/tickets?sort=-ticket_status")) == [c.pk, b.pk, a.pk]
        assert ids(api.get("/api/tickets?sort=ticket_status&order=asc")) == [a.pk, b.pk, c.pk]

    def test_ties_within_a_priority_follow_the_direction(self, api, department, client_org, now):
        old, new = (
            factories.TicketFactory(priority=Priority.HIGH, created_at=now - datetime.timedelta(hours=h))
            for h in (5, 1)
        )
        assert ids(api.get("/api/tickets?sort=-ticket_priority")) == [new.pk, old.pk]
        assert ids(api.get("/api/tickets?sort=ticket_priority&order=asc")) == [old.pk, new.pk]

    def test_last_updated(self, api, three, now):
        a, b, c = three
        a.updated_at = now
        a.save()
        assert ids(api.get("/api/tickets?sort=ticket_last_updated"))[0] == a.pk

    @pytest.mark.parametrize("query", ["sort=subject", "order=up", "sort=--ticket_created"])
    def test_unknown_sort_is_422(self, api, query):
        r = api.get(f"/api/tickets?{query}")
        assert r.status_code == 422
        assert query.split("=")[0] in r.json()["error"]["fields"]


class TestPagination:
    @pytest.fixture
    def many(self, department, client_org, now):
        return [
            factories.TicketFactory(department=department, client=client_org, created_at=now - datetime.timedelta(minutes=i))
            for i in range(7)
        ]

    def test_meta_and_pages(self, api, many):
        r = api.get("/api/tickets?limit=3")
        assert r.json()["meta"] == {"page": 1, "limit": 3, "offset": 0, "total": 7, "pages": 3}
        r = api.get("/api/tickets?limit=3&page=3")
        assert ids(r) == [many[6].pk]
        assert r.json()["meta"] == {"page": 3, "limit": 3, "offset": 6, "total": 7, "pages": 3}

    def test_offset(self, api, many):
        r = api.get("/api/tickets?limit=2&offset=5")
        assert ids(r) == [many[5].pk, many[6].pk]
        assert r.json()["meta"]["total"] == 7

    def test_past_the_end_is_empty_with_true_total(self, api, many):
        r = api.get("/api/tickets?limit=3&page=9")
        assert ids(r) == []
        assert r.json()["meta"]["total"] == 7

    def test_exact_multiple_counts(self, api, many):
        r = api.get("/api/tickets?limit=7")
        assert r.json()["meta"] == {"page": 1, "limit": 7, "offset": 0, "total": 7, "pages": 1}

    def test_default_limit(self, api, many):
        assert api.get("/api/tickets").json()["meta"]["limit"] == 25

    def test_empty(self, api):
        r = api.get("/api/tickets")
        assert r.json() == {"data": [], "meta": {"page": 1, "limit": 25, "offset": 0, "total": 0, "pages": 0}}

    @pytest.mark.parametrize(
        "query, field",
        [("limit=1001", "limit"), ("limit=0", "limit"), ("limit=abc", "limit"), (f"limit={10**40}", "limit"),
         ("page=0", "page"), ("page=-1", "page"), ("offset=-5", "offset"), ("page=2&offset=3", "offset")],
    )
    def test_bad_paging_is_422(self, api, query, field):
        r = api.get(f"/api/tickets?{query}")
        assert r.status_code == 422
        assert field in r.json()["error"]["fields"]

    def test_count_is_exact_up_to_the_setting(self, api, many, settings):
        settings.HELPDESK = {"COUNT_EXACT_UP_TO": 7}
        assert api.get("/api/tickets?limit=2").json()["meta"] == {
            "page": 1, "limit": 2, "offset": 0, "total": 7, "pages": 4
        }

    def test_past_the_cap_the_total_is_an_estimate_never_below_the_known_rows(self, api, many, settings):
        from django.db import connection

        settings.HELPDESK = {"COUNT_EXACT_UP_TO": 3}
        meta = api.get("/api/tickets?limit=2&page=3").json()["meta"]
        if connection.vendor == "postgresql":
            assert meta["total_exact"] is False
            assert meta["total"] >= 7  # 6 rows seen up to this full page, and one more
            assert meta["pages"] == -(-meta["total"] // 2)
        else:  # other databases always count
            assert meta["total"] == 7 and "total_exact" not in meta

    def test_a_list_the_planner_knows_is_huge_is_not_counted(self, api, many, settings):
        # Far past the cap (ESTIMATE_MARGIN times it, as the admin decides): counting up to
        # the cap would only confirm it, so no COUNT runs and the total is the estimate.
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        if connection.vendor != "postgresql":
            pytest.skip("only PostgreSQL has a planner to ask")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE helpdesk_ticket")
        settings.HELPDESK = {"COUNT_EXACT_UP_TO": 0}
        with CaptureQueriesContext(connection) as queries:
            meta = api.get("/api/tickets?limit=2").json()["meta"]
        assert meta["total_exact"] is False and meta["total"] >= 3
        assert not [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]

    def test_max_limit_is_accepted(self, api, many):
        assert api.get("/api/tickets?limit=1000").status_code == 200


class TestSelect:
    def test_sparse_fields(self, api, three):
        rows = api.get("/api/tickets?select=id,status").json()["data"]
        assert all(set(row) == {"id", "status"} for row in rows)

    def test_unknown_field_is_422(self, api):
        r = api.get("/api/tickets?select=id,password")
        assert r.status_code == 422 and "select" in r.json()["error"]["fields"]


class TestRoles:
    def test_contact_lists_own_client_only(self, contact_api, contact, three):
        own = factories.TicketFactory(client=contact.client)
        assert ids(contact_api.get("/api/tickets")) == [own.pk]
        assert ids(contact_api.get(f"/api/tickets?client_id={three[0].client_id}")) == []


class TestSearch:
    def test_subject_message_words(self, api, three):
        a, b, c = three
        assert ids(api.get("/api/tickets?search=printer")) == [a.pk]
        assert ids(api.get("/api/tickets?search=print fire")) == [a.pk]
        assert ids(api.get("/api/tickets?search=printer invoice")) == []

    def test_id_client_email_and_replies(self, api, three, agent):
        a, b, c = three
        c.client = factories.ClientFactory(name="Globex Corporation")
        c.requester = factories.UserFactory(email="homer@globex.example")
        c.save()
        services.reply_post(ticket=b, author=agent, text="The refund was processed", silent=True)
        assert ids(api.get(f"/api/tickets?search={a.pk}")) == [a.pk]
        assert ids(api.get("/api/tickets?search=Globex")) == [c.pk]
        assert ids(api.get("/api/tickets?search=homer@globex")) == [c.pk]
        assert ids(api.get("/api/tickets?search=refund")) == [b.pk]

    def test_contacts_never_match_internal_notes(self, contact_api, contact, agent):
        t = factories.TicketFactory(client=contact.client, subject="Hello")
        services.reply_post(ticket=t, author=agent, text="secretword inside", type=ReplyType.NOTE, silent=True)
        assert ids(contact_api.get("/api/tickets?search=secretword")) == []

    def test_agents_match_notes(self, api, agent, three):
        services.reply_post(ticket=three[0], author=agent, text="secretword inside", type=ReplyType.NOTE, silent=True)
        assert ids(api.get("/api/tickets?search=secretword")) == [three[0].pk]

    @pytest.mark.parametrize("text", ["'", "\\", "a & b | !c", ":*", "(", "%_", "x" * 200, "ünïcödé", "99999999999999999999999"])
    def test_odd_input_is_never_an_error(self, api, three, text):
        assert api.get("/api/tickets", {"search": text}).status_code == 200

    @pytest.mark.parametrize("cap", [0, 1, 2000])
    def test_same_results_past_the_matched_ids_cap(self, api, three, agent, monkeypatch, cap):
        # Past MAX_MATCHED_IDS the search filters row by row; the answer must not change.
        from helpdesk import search

        monkeypatch.setattr(search, "MAX_MATCHED_IDS", cap)
        a, b, c = three
        services.reply_post(ticket=b, author=agent, text="printer refund", silent=True)
        assert ids(api.get("/api/tickets?search=printer")) == [b.pk, a.pk]
        assert ids(api.get(f"/api/tickets?search={c.pk}")) == [c.pk]
        assert ids(api.get("/api/tickets?search=" + c.client.name)) == [c.pk]
        assert ids(api.get("/api/tickets?search=nothing-like-it")) == []

    @pytest.mark.parametrize("cap", [0, 1])
    def test_contacts_never_match_internal_notes_past_the_cap(self, contact_api, contact, agent, monkeypatch, cap):
        from helpdesk import search

        monkeypatch.setattr(search, "MAX_MATCHED_IDS", cap)
        noted, replied = (factories.TicketFactory(client=contact.client, subject="Hello") for _ in range(2))
        services.reply_post(ticket=noted, author=agent, text="secretword inside", type=ReplyType.NOTE, silent=True)
        services.reply_post(ticket=replied, author=agent, text="secretword told", silent=True)
        assert ids(contact_api.get("/api/tickets?search=secretword")) == [replied.pk]

    def test_total_and_paging_past_the_matched_ids_cap(self, api, department, client_org, monkeypatch, settings):
        # Many matches: the page and the count filter by the union of matching ids.
        from helpdesk import search

        monkeypatch.setattr(search, "MAX_MATCHED_IDS", 2)
        settings.HELPDESK = {"COUNT_EXACT_UP_TO": 3}
        matching = [factories.TicketFactory(department=department, client=client_org, subject=f"Refund {i}")
                    for i in range(6)]
        factories.TicketFactory(department=department, client=client_org, subject="Unrelated")
        newest_first = [t.pk for t in sorted(matching, key=lambda t: (t.created_at, t.pk), reverse=True)]
        first = api.get("/api/tickets?search=refund&limit=2")
        assert ids(first) == newest_first[:2]
        meta = first.json()["meta"]
        if connection.vendor == "postgresql":
            assert meta["total_exact"] is False and meta["total"] >= 3
        else:  # other databases always count
            assert meta["total"] == 6 and "total_exact" not in meta
        last = api.get("/api/tickets?search=refund&limit=4&offset=4")
        assert ids(last) == newest_first[4:]
        assert last.json()["meta"]["total"] == 6

    @pytest.mark.parametrize("query", ["", "&sort=ticket_priority&order=asc", "&select=id,subject,tags",
                                       "&limit=2&offset=2", "&limit=2&page=9"])
    def test_a_broad_search_page_is_the_page_of_a_narrow_one(self, api, department, client_org, monkeypatch, query):
        # Past the cap (PostgreSQL): the page's ids first, then their rows by id. The rows,
        # their order, the sparse fields and the paging must not change.
        from helpdesk import search

        tag = factories.TagFactory(name="vip")
        for i, priority in enumerate([Priority.NORMAL, Priority.URGENT, Priority.NORMAL, Priority.HIGH, Priority.URGENT]):
            t = factories.TicketFactory(department=department, client=client_org, priority=priority,
                                        subject=f"Refund {i}")
            if i % 2:
                t.tags.add(tag)
        factories.TicketFactory(department=department, client=client_org, subject="Unrelated")
        narrow = api.get("/api/tickets?search=refund" + query)
        monkeypatch.setattr(search, "MAX_MATCHED_IDS", 0)
        broad = api.get("/api/tickets?search=refund" + query)
        assert broad.status_code == narrow.status_code == 200
        assert broad.json()["data"] == narrow.json()["data"]
        assert len(narrow.json()["data"]) == {"": 5, "&limit=2&offset=2": 2, "&limit=2&page=9": 0}.get(query, 5)

    def test_a_broad_search_plans_its_rows_without_the_match(self, api, three, monkeypatch):
        from django.test.utils import CaptureQueriesContext

        from helpdesk import search

        if connection.vendor != "postgresql":
            pytest.skip("the two-step page is PostgreSQL's")
        monkeypatch.setattr(search, "MAX_MATCHED_IDS", 0)
        with CaptureQueriesContext(connection) as queries:
            assert ids(api.get("/api/tickets?search=printer")) == [three[0].pk]
        rows = [q["sql"] for q in queries if 'JOIN "helpdesk_ticketstatus"' in q["sql"]]
        assert len(rows) == 1 and "= ANY(" in rows[0] and "to_tsquery" not in rows[0]

    def test_combined_with_filters(self, api, three):
        assert ids(api.get("/api/tickets?search=login&status=1")) == []


class TestQueryCount:
    def test_list_queries_do_not_grow_with_page_size(self, api, department, client_org, agent, django_assert_max_num_queries):
        tags = [factories.TagFactory() for _ in range(3)]
        for _i in range(30):
            factories.TicketFactory(
                department=department, client=client_org, tags=tags, assignees=[agent],
                requester=factories.UserFactory(),
            )
        api.get("/api/tickets")  # touches last_used_at once
        # key, the agent's permissions (user's, groups'), page, tags, assignees, attachments, count; on
        # PostgreSQL tags and assignees ride in the page query
        with django_assert_max_num_queries(6 if connection.vendor == "postgresql" else 8):
            r = api.get("/api/tickets?limit=30")
        assert len(r.json()["data"]) == 30
        assert all(len(row["tags"]) == 3 and row["assignee_ids"] == [agent.pk] for row in r.json()["data"])
        with django_assert_max_num_queries(10):
            r = api.get("/api/tickets?limit=10&status=1&tags[]=" + tags[0].name + "&search=a")
        assert r.status_code == 200

    def test_detail_queries(self, api, ticket, agent, django_assert_max_num_queries):
        ticket.tags.set([factories.TagFactory()])
        ticket.assignees.set([agent])
        api.get(f"/api/tickets/{ticket.pk}")
        # + 2: the agent's permissions (the user's, their groups'); + the attachments
        with django_assert_max_num_queries(5 if connection.vendor == "postgresql" else 7):
            r = api.get(f"/api/tickets/{ticket.pk}")
        assert r.json()["data"]["assignee_ids"] == [agent.pk] and len(r.json()["data"]["tags"]) == 1

    def test_contact_list_queries(self, contact_api, contact, django_assert_max_num_queries):
        for _ in range(10):
            factories.TicketFactory(client=contact.client)
        contact_api.get("/api/tickets")
        with django_assert_max_num_queries(6):  # + the tickets' attachments, in one query
            assert contact_api.get("/api/tickets").status_code == 200


@pytest.mark.parametrize("value, ok", [(None, True), (1, True), (0, False), ("many", False), (True, False)])
def test_count_cap_setting_is_checked(settings, value, ok):
    from helpdesk.checks import check_settings

    settings.HELPDESK = {"COUNT_EXACT_UP_TO": value}
    messages = [e.msg for e in check_settings()]
    assert ok == (not any("COUNT_EXACT_UP_TO" in m for m in messages))


def test_sparse_fields_skip_unneeded_prefetches(api, department, client_org, agent, django_assert_max_num_queries):
    for _ in range(5):
        factories.TicketFactory(department=department, client=client_org, tags=[factories.TagFactory()], assignees=[agent])
    api.get("/api/tickets")
    with django_assert_max_num_queries(4):  # key lookup, the agent's permissions (2), page
        rows = api.get("/api/tickets?select=id,subject").json()["data"]
    assert len(rows) == 5 and set(rows[0]) == {"id", "subject"}
    rows = api.get("/api/tickets?select=tags,assignee_ids").json()["data"]
    assert all(len(r["tags"]) == 1 and r["assignee_ids"] == [agent.pk] for r in rows)
