"""The ticket list: columns, filters, search, and a query count that does not grow with rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from helpdesk import services
from helpdesk.admin.pagination import EstimatedCountPaginator
from helpdesk.counting import forget_plans
from helpdesk.models import ActiveState, Priority, Ticket, TicketStatus
from tests import factories

URL = reverse("admin:helpdesk_ticket_changelist")


def rows(response):
    """The ticket ids the list shows, in order."""
    return [obj.pk for obj in response.context["cl"].result_list]


def test_list_shows_the_columns_an_agent_needs(su_client, make_ticket, superuser):
    requester = factories.UserFactory(email="max@customer.example")
    ticket = make_ticket(subject="Printer on fire", priority="urgent", requester=requester, assignees=[superuser])
    services.reply_post(ticket=ticket, author=superuser, text="On it", silent=True)
    response = su_client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert f"#{ticket.pk}" in html
    assert "Printer on fire" in html
    assert "Acme Inc" in html and "Support" in html
    assert 'class="hd-badge hd-status"' in html and ">Open<" in html
    assert "hd-priority-urgent" in html
    assert "Alex Morgan" in html  # the assignee
    assert "max@customer.example" in html
    assert "just now</time>" in html
    assert 'class="field-reply_count">1<' in html


def test_default_order_is_most_recently_updated_first(su_client, make_ticket, superuser):
    old = make_ticket(subject="old")
    new = make_ticket(subject="new")
    services.reply_post(ticket=old, author=superuser, text="bump", silent=True)
    assert rows(su_client.get(URL))[:2] == [old.pk, new.pk]


def test_archived_tickets_are_hidden_unless_asked_for(su_client, make_ticket):
    active = make_ticket(subject="active one")
    archived = make_ticket(subject="archived one")
    services.ticket_archive(ticket=archived)
    assert rows(su_client.get(URL)) == [active.pk]
    assert rows(su_client.get(URL, {"state": "archived"})) == [archived.pk]
    assert set(rows(su_client.get(URL, {"state": "all"}))) == {active.pk, archived.pk}


def test_filter_by_status_priority_and_department(su_client, make_ticket):
    other_dept = factories.DepartmentFactory(name="Billing")
    a = make_ticket(priority="high")
    b = make_ticket(department=other_dept)
    services.ticket_change_status(ticket=b, status=TicketStatus.objects.get(pk=TicketStatus.ON_HOLD))
    assert rows(su_client.get(URL, {"priority__exact": Priority.HIGH})) == [a.pk]
    assert rows(su_client.get(URL, {"status__id__exact": TicketStatus.ON_HOLD})) == [b.pk]
    assert rows(su_client.get(URL, {"department__id__exact": other_dept.pk})) == [b.pk]


def test_assignee_filter_mine_unassigned_and_an_agent(su_client, superuser, make_ticket):
    colleague = factories.AgentFactory(first_name="Priya", last_name="Shah")
    mine = make_ticket(assignees=[superuser])
    theirs = make_ticket(assignees=[colleague])
    nobody = make_ticket()
    assert rows(su_client.get(URL, {"assignee": "mine"})) == [mine.pk]
    assert rows(su_client.get(URL, {"assignee": "none"})) == [nobody.pk]
    response = su_client.get(URL, {"assignee": str(colleague.pk)})
    assert rows(response) == [theirs.pk]
    assert "Priya Shah" in response.content.decode()  # offered as a choice
    assert len(rows(su_client.get(URL, {"assignee": "nonsense"}))) == 3


def test_client_and_tag_filters_use_autocomplete(su_client, make_ticket):
    globex = factories.ClientFactory(name="Globex")
    a = make_ticket(client=globex, tags=["vip"])
    make_ticket(tags=["billing"])
    response = su_client.get(URL, {"client__id__exact": globex.pk})
    html = response.content.decode()
    assert rows(response) == [a.pk]
    # Django's autocomplete widget, with the chosen client pre-selected (no list of all clients).
    assert 'class="admin-autocomplete' in html and 'data-field-name="client"' in html
    assert f'<option value="{globex.pk}" selected>Globex</option>' in html
    assert "select2" in html
    tag = a.tags.get()
    assert rows(su_client.get(URL, {"tags__id__exact": tag.pk})) == [a.pk]


def test_autocomplete_filter_ignores_a_non_numeric_id(su_client, make_ticket):
    make_ticket()
    response = su_client.get(URL, {"client__id__exact": "abc"})
    assert response.status_code == 200
    assert rows(response) == []


def test_autocomplete_endpoint_finds_clients_for_the_filter(su_client):
    factories.ClientFactory(name="Umbrella Health")
    factories.ClientFactory(name="Globex")
    response = su_client.get(
        reverse("admin:autocomplete"),
        {"term": "umbr", "app_label": "helpdesk", "model_name": "ticket", "field_name": "client"},
    )
    assert [r["text"] for r in response.json()["results"]] == ["Umbrella Health"]


def test_assignee_autocomplete_offers_agents_only(su_client, superuser):
    factories.UserFactory(username="customer-jo", first_name="Jo")
    factories.AgentFactory(username="agent-jo", first_name="Jo")
    response = su_client.get(
        reverse("admin:autocomplete"),
        {"term": "jo", "app_label": "helpdesk", "model_name": "ticket", "field_name": "assignees"},
    )
    assert [r["text"] for r in response.json()["results"]] == ["agent-jo"]


@pytest.mark.parametrize(
    "term, field",
    [("Printer", "subject"), ("toner", "message"), ("umbrella", "client"), ("max@customer", "requester")],
)
def test_search_covers_subject_message_client_and_requester(su_client, make_ticket, term, field):
    target = make_ticket(
        subject="Printer jammed", message="Out of toner again",
        client=factories.ClientFactory(name="Umbrella Health"),
        requester=factories.UserFactory(email="max@customer.example"),
    )
    make_ticket(subject="Something else", message="Nothing to see")
    assert rows(su_client.get(URL, {"q": term})) == [target.pk]


def test_search_by_id(su_client, make_ticket):
    first = make_ticket(subject="first")
    second = make_ticket(subject=f"mentions {first.pk} in its subject")
    assert rows(su_client.get(URL, {"q": f"#{first.pk}"})) == [first.pk]
    assert set(rows(su_client.get(URL, {"q": str(first.pk)}))) == {first.pk, second.pk}


def _list_queries(client, params=None):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries), response


def _bulk_tickets(n, *, agent, tags):
    dept = factories.DepartmentFactory()
    org = factories.ClientFactory()
    requester = factories.UserFactory()
    status = TicketStatus.objects.get(pk=1)
    tickets = Ticket.objects.bulk_create(
        [Ticket(subject=f"t{i}", message="m", status=status, department=dept, client=org, requester=requester)
         for i in range(n)]
    )
    for t in tickets:
        t.assignees.add(agent)
        t.tags.add(*tags)
    return tickets


def test_list_query_count_does_not_grow_with_rows(su_client, superuser):
    tags = [factories.TagFactory(), factories.TagFactory()]
    _bulk_tickets(5, agent=superuser, tags=tags)
    five, response = _list_queries(su_client)
    assert len(response.context["cl"].result_list) == 5
    _bulk_tickets(45, agent=superuser, tags=tags)
    # The estimate is remembered for a while (helpdesk.counting): ask afresh, like the first view.
    forget_plans()
    fifty, response = _list_queries(su_client)
    assert len(response.context["cl"].result_list) == 50
    assert fifty == five
    filtered, _ = _list_queries(su_client, {"assignee": "mine", "tags__id__exact": tags[0].pk, "q": "t1"})
    # A search adds a constant few: the client/requester/id matches, and on PostgreSQL
    # the planner's estimate for the words and their ids (helpdesk.search).
    assert filtered <= five + 4


def test_list_never_counts_the_whole_table(su_client, superuser, settings):
    settings.HELPDESK = {"ADMIN_COUNT_LIMIT": 10}
    _bulk_tickets(12, agent=superuser, tags=[])
    _, response = _list_queries(su_client)
    cl = response.context["cl"]
    assert cl.full_result_count is None  # show_full_result_count is off
    assert isinstance(cl.paginator, EstimatedCountPaginator)
    if connection.vendor == "postgresql":
        assert cl.paginator.count_is_estimate
        assert "about" in response.content.decode()
    else:
        assert cl.result_count == 12


def test_paginator_counts_exactly_below_the_limit(db, superuser):
    _bulk_tickets(7, agent=superuser, tags=[])
    paginator = EstimatedCountPaginator(Ticket.objects.all(), 5, count_limit=10)
    assert paginator.count == 7 and not paginator.count_is_estimate
    assert paginator.num_pages == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the planner estimate is PostgreSQL's")
def test_paginator_estimates_past_the_limit_on_postgresql(db, superuser):
    _bulk_tickets(30, agent=superuser, tags=[])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE helpdesk_ticket")
    paginator = EstimatedCountPaginator(Ticket.objects.filter(active_state=ActiveState.ACTIVE), 10, count_limit=5)
    assert paginator.count_is_estimate is False  # not computed yet
    assert paginator.count >= 6
    assert paginator.count_is_estimate


def test_estimate_of_an_empty_query_is_zero(db):
    from helpdesk.admin.pagination import estimate_rows

    assert estimate_rows(Ticket.objects.none()) in (0, None)
    assert estimate_rows(Ticket.objects.filter(pk__in=[])) in (0, None)
