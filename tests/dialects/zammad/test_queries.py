"""A page costs a fixed number of queries, however many tickets it holds (no query per row)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpdesk import services
from tests import factories

from .conftest import BASE

pytestmark = pytest.mark.django_db


def queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", [
    "/tickets?per_page={n}&expand=true",
    "/tickets/search?query=*&per_page={n}",
    "/tickets/search?query=*&per_page={n}&expand=true",
])
def test_list_and_search_queries_do_not_grow_with_the_page(zapi, org, customer, zagent, url):
    def grow(n):
        for _ in range(n):
            ticket = factories.TicketFactory(client=org, requester=customer, creator=zagent)
            services.ticket_add_tags(ticket=ticket, tags=["a"])
            services.ticket_set_assignees(ticket=ticket, assignees=[zagent])

    grow(2)
    queries(zapi, BASE + url.format(n=2))  # the key's first use writes its last_used_at
    small = queries(zapi, BASE + url.format(n=2))
    grow(20)
    large = queries(zapi, BASE + url.format(n=22))
    assert large == small, (small, large)
    assert small <= 12
