"""``ticket_remove_tags`` and ``ticket_add_time_spent``: services the Zammad dialect calls
(``DELETE /tags/remove``, an article's ``time_unit``), open to the native API too."""

import decimal

import pytest
from django.core.exceptions import ValidationError

from helpdesk import services
from helpdesk.models import Ticket
from tests import factories
from tests.concurrency import errors, needs_postgresql, run_concurrently

pytestmark = pytest.mark.django_db


def test_remove_tags_case_insensitively_and_ignores_missing():
    ticket = factories.TicketFactory()
    services.ticket_add_tags(ticket=ticket, tags=["Billing", "vip"])
    before = Ticket.objects.get(pk=ticket.pk).updated_at
    removed = services.ticket_remove_tags(ticket=ticket, tags=["billing", "never-there"])
    assert [t.name for t in removed] == ["Billing"]
    assert [t.name for t in ticket.tags.all()] == ["vip"]
    assert Ticket.objects.get(pk=ticket.pk).updated_at > before
    still = Ticket.objects.get(pk=ticket.pk).updated_at
    assert services.ticket_remove_tags(ticket=ticket, tags=["nope"]) == []
    assert Ticket.objects.get(pk=ticket.pk).updated_at == still


def test_remove_tags_validates_names():
    ticket = factories.TicketFactory()
    with pytest.raises(ValidationError):
        services.ticket_remove_tags(ticket=ticket, tags=["x" * 51])


def test_add_time_spent_adds_and_validates():
    ticket = factories.TicketFactory()
    services.ticket_add_time_spent(ticket=ticket, minutes="12")
    services.ticket_add_time_spent(ticket=ticket, minutes=2.5)
    assert Ticket.objects.get(pk=ticket.pk).time_spent == decimal.Decimal("14.50")
    for bad in ("lots", -1, float("nan"), 10**9):
        with pytest.raises(ValidationError):
            services.ticket_add_time_spent(ticket=ticket, minutes=bad)
    Ticket.objects.filter(pk=ticket.pk).update(time_spent=decimal.Decimal("99999990"))
    with pytest.raises(ValidationError, match="99999999"):
        services.ticket_add_time_spent(ticket=ticket, minutes=60)
    assert Ticket.objects.get(pk=ticket.pk).time_spent == decimal.Decimal("99999990")


@needs_postgresql  # SQLite serialises writers; the race needs PostgreSQL
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("default_statuses")
def test_concurrent_additions_all_count():
    ticket = factories.TicketFactory()

    results = run_concurrently(
        lambda n: services.ticket_add_time_spent(ticket=Ticket.objects.get(pk=ticket.pk), minutes=5), 4)

    assert not errors(results), results
    assert Ticket.objects.get(pk=ticket.pk).time_spent == decimal.Decimal("20.00")
