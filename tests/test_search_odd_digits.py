"""Search text that looks like a number but is not one an id column holds: no 500."""

import pytest

from helpdesk import search
from helpdesk.models import Ticket
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("text", ["²", "١٢", "9" * 5000, "99999999999999999999"])
def test_odd_digits_search_as_words(text, agent):
    factories.TicketFactory(subject="Plain")
    assert list(search.search_tickets(Ticket.objects.all(), text, user=agent)) == []


def test_a_real_id_still_matches(agent):
    ticket = factories.TicketFactory(subject="Plain")
    assert list(search.search_tickets(Ticket.objects.all(), str(ticket.pk), user=agent)) == [ticket]
