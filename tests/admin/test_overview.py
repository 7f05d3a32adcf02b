"""The overview page and the report selectors behind it."""

import datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from helpdesk import reports, services
from helpdesk.admin.overview import chart, duration_text, nice_ceiling
from helpdesk.models import Ticket, TicketStatus
from tests import factories

URL = reverse("admin:helpdesk_ticket_overview")


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def status(pk):
    return TicketStatus.objects.get(pk=pk)


def test_open_breakdown_counts_open_active_tickets(make_ticket, superuser):
    billing = factories.DepartmentFactory(name="Billing")
    make_ticket(priority="urgent")
    make_ticket(priority="high", assignees=[superuser])
    held = make_ticket(department=billing)
    services.ticket_change_status(ticket=held, status=status(TicketStatus.ON_HOLD))
    closed = make_ticket()
    services.ticket_change_status(ticket=closed, status=status(TicketStatus.CLOSED))
    archived = make_ticket()
    services.ticket_archive(ticket=archived)

    data = reports.overview(use_cache=False)
    assert data.open_total == 3
    assert data.unassigned == 2
    assert {b.label: b.count for b in data.by_status} == {
        "Open": 2, "Answered": 0, "On Hold": 1, "Customer Replied": 0,
    }
    assert [(b.label, b.count) for b in data.by_department] == [("Support", 2), ("Billing", 1)]
    assert [(b.label, b.count) for b in data.by_priority] == [("urgent", 1), ("high", 1), ("normal", 1)]


def test_daily_created_and_closed_over_30_days(make_ticket):
    now = timezone.now()
    a = make_ticket()
    make_ticket()  # created today
    old = make_ticket()
    Ticket.objects.filter(pk=a.pk).update(created_at=now - datetime.timedelta(days=3))
    Ticket.objects.filter(pk=old.pk).update(created_at=now - datetime.timedelta(days=45))
    services.ticket_change_status(ticket=a, status=status(TicketStatus.CLOSED), at=now - datetime.timedelta(days=1))
    days = reports.daily_created_closed(days=30, now=now)
    assert len(days) == 30 and days[-1].date == timezone.localdate(now)
    by_date = {d.date: d for d in days}
    assert by_date[timezone.localdate(now - datetime.timedelta(days=3))].created == 1
    assert by_date[timezone.localdate(now)].created == 1
    assert by_date[timezone.localdate(now - datetime.timedelta(days=1))].closed == 1
    assert sum(d.created for d in days) == 2  # the 45-day-old ticket is outside


def test_medians_of_first_response_and_resolution(make_ticket, superuser):
    now = timezone.now()
    hours = [1, 3, 8]
    for h in hours:
        t = make_ticket()
        Ticket.objects.filter(pk=t.pk).update(created_at=now - datetime.timedelta(hours=24))
        t.refresh_from_db()
        services.reply_post(ticket=t, author=superuser, text="hi", silent=True,
                            at=t.created_at + datetime.timedelta(hours=h))
        services.ticket_change_status(ticket=t, status=status(TicketStatus.CLOSED), at=t.created_at + datetime.timedelta(hours=2 * h))
    since = now - datetime.timedelta(days=30)
    assert reports.median_first_response(since=since) == datetime.timedelta(hours=3)
    assert reports.median_resolution(since=since) == datetime.timedelta(hours=6)
    t = make_ticket()
    Ticket.objects.filter(pk=t.pk).update(created_at=now - datetime.timedelta(hours=24))
    t.refresh_from_db()
    services.reply_post(ticket=t, author=superuser, text="hi", silent=True, at=t.created_at + datetime.timedelta(hours=5))
    assert reports.median_first_response(since=since) == datetime.timedelta(hours=4)  # mean of 3 h and 5 h


def test_medians_without_data_are_none(db):
    since = timezone.now() - datetime.timedelta(days=30)
    assert reports.median_first_response(since=since) is None
    assert reports.median_resolution(since=since) is None


def test_overview_page_shows_the_figures_and_the_chart(su_client, make_ticket):
    make_ticket()
    make_ticket(priority="urgent")
    response = su_client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-figure="open">2<' in html
    assert 'data-figure="unassigned">2<' in html
    assert "<svg" in html and html.count('class="hd-day"') == 30
    assert f'data-date="{timezone.localdate():%Y-%m-%d}" data-created="2"' in html
    assert "Open by department" in html and "Support" in html
    assert "<script" not in html[html.index("<svg"):html.index("</svg>")]


def test_overview_is_cached_and_refreshable(su_client, make_ticket):
    make_ticket()
    su_client.get(URL)
    with CaptureQueriesContext(connection) as ctx:
        response = su_client.get(URL)
    assert 'data-figure="open">1<' in response.content.decode()
    assert not [q for q in ctx.captured_queries if "helpdesk_ticket" in q["sql"]]
    make_ticket()
    assert 'data-figure="open">1<' in su_client.get(URL).content.decode()  # cached
    assert 'data-figure="open">2<' in su_client.get(URL, {"refresh": "1"}).content.decode()


def test_overview_links_lead_to_working_filtered_lists(su_client, make_ticket):
    make_ticket()
    open_ids = ",".join(str(s.pk) for s in TicketStatus.objects.filter(is_closed=False))
    changelist = reverse("admin:helpdesk_ticket_changelist")
    response = su_client.get(changelist, {"status__id__in": open_ids, "assignee": "none"})
    assert response.status_code == 200 and len(response.context["cl"].result_list) == 1


def test_overview_is_linked_from_the_index_and_the_list(su_client):
    index = su_client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:helpdesk_ticketoverview_changelist") in index
    assert su_client.get(reverse("admin:helpdesk_ticketoverview_changelist")).url == URL
    assert URL in su_client.get(reverse("admin:helpdesk_ticket_changelist")).content.decode()


def test_chart_geometry_scales_to_the_largest_day():
    days = [reports.Day(date=datetime.date(2026, 1, i + 1), created=i, closed=0) for i in range(10)]
    data = chart(days)
    assert [g["value"] for g in data["grid"]] == [0, 3, 6, 9, 12]
    plot_height = data["baseline"] - data["grid"][-1]["y"]
    assert data["bars"][-1]["h_created"] == pytest.approx(plot_height * 9 / 12, abs=0.1)
    assert data["bars"][0]["h_created"] == 0
    assert data["bars"][0]["y_created"] == data["baseline"]


@pytest.mark.parametrize("value, expected", [(0, 4), (3, 4), (7, 8), (12, 12), (39, 40), (41, 48), (250, 320)])
def test_nice_ceiling(value, expected):
    assert nice_ceiling(value) == expected


@pytest.mark.parametrize("minutes, text", [(None, "—"), (0.5, "under a minute"), (45, "45 min"), (200, "3 h 20 min"),
                                           (180, "3 h"), (60 * 24 * 2 + 60 * 4, "2 days 4 h")])
def test_duration_text(minutes, text):
    value = None if minutes is None else datetime.timedelta(minutes=minutes)
    assert duration_text(value) == text
