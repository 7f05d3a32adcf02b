"""Reads scoped by role: agents see all, contacts their client's tickets and no notes."""

import pytest

from helpdesk import selectors, services
from helpdesk.models import ReplyType, Ticket, TicketStatus

from . import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(agent, contact):
    """Two clients' tickets; ``contact`` belongs to the first client."""
    mine = factories.TicketFactory(client=contact.client)
    theirs = factories.TicketFactory()
    services.reply_post(ticket=mine, author=agent, text="public answer")
    services.reply_post(ticket=mine, author=agent, text="internal note", type=ReplyType.NOTE)
    services.reply_post(ticket=theirs, author=agent, text="other client's answer")
    return mine, theirs


def test_agent_sees_every_ticket(world, agent):
    assert set(selectors.ticket_list(user=agent)) == set(world)


def test_contact_sees_only_their_clients_tickets(world, contact):
    mine, theirs = world
    assert list(selectors.ticket_list(user=contact.user)) == [mine]
    assert selectors.ticket_get(user=contact.user, pk=mine.pk) == mine
    with pytest.raises(Ticket.DoesNotExist):
        selectors.ticket_get(user=contact.user, pk=theirs.pk)


@pytest.mark.parametrize("who", ["anonymous", "stranger", "inactive agent", "inactive contact", "none"])
def test_others_see_nothing(world, who, contact):
    from django.contrib.auth.models import AnonymousUser

    if who == "inactive contact":
        contact.user.is_active = False
        contact.user.save()
    user = {
        "anonymous": AnonymousUser(),
        "stranger": factories.UserFactory(),
        "inactive agent": factories.AgentFactory(is_active=False),
        "inactive contact": contact.user,
        "none": None,
    }[who]
    mine, _ = world
    assert list(selectors.ticket_list(user=user)) == []
    assert list(selectors.reply_list(user=user, ticket=mine)) == []
    with pytest.raises(Ticket.DoesNotExist):
        selectors.ticket_get(user=user, pk=mine.pk)


def test_contact_never_sees_notes(world, agent, contact):
    mine, _ = world
    assert [r.text for r in selectors.reply_list(user=agent, ticket=mine)] == ["public answer", "internal note"]
    assert [r.text for r in selectors.reply_list(user=contact.user, ticket=mine)] == ["public answer"]


def test_contact_sees_no_replies_of_another_clients_ticket(world, contact):
    _, theirs = world
    assert list(selectors.reply_list(user=contact.user, ticket=theirs)) == []


@pytest.mark.parametrize("pk", ["abc", None, "1.5", "", -1, 0, 2**63, "99999999999999999999999999"])
def test_ticket_get_with_a_bad_id_is_not_found(world, agent, pk):
    with pytest.raises(Ticket.DoesNotExist):
        selectors.ticket_get(user=agent, pk=pk)


def test_ticket_get_accepts_a_string_id(world, agent):
    mine, _ = world
    assert selectors.ticket_get(user=agent, pk=str(mine.pk)) == mine


def test_replies_oldest_first(agent):
    ticket = factories.TicketFactory()
    for text in ("one", "two", "three"):
        services.reply_post(ticket=ticket, author=agent, text=text)
    assert [r.text for r in selectors.reply_list(user=agent, ticket=ticket)] == ["one", "two", "three"]


def test_status_history_oldest_first(agent, department, client_org):
    ticket = services.ticket_create(subject="s", message="m", department=department, client=client_org)
    for pk in (3, 2, 1):
        services.ticket_change_status(ticket=ticket, status=TicketStatus.objects.get(pk=pk), by=agent)
    rows = [(c.from_status_id, c.to_status_id) for c in selectors.status_history(ticket=ticket)]
    assert rows == [(None, 1), (1, 3), (3, 2), (2, 1)]


def test_ticket_list_fetches_related_rows_in_bulk(agent, django_assert_max_num_queries):
    for _ in range(10):
        ticket = factories.TicketFactory(requester=factories.UserFactory())
        ticket.tags.set([factories.TagFactory(), factories.TagFactory()])
        ticket.assignees.set([agent])
    # + 3: the agent's permissions (the user's, their groups') and department access
    with django_assert_max_num_queries(6):
        rows = [(t.status.title, t.department.name, t.client.name, t.requester.email,
                 [tag.name for tag in t.tags.all()], [a.pk for a in t.assignees.all()])
                for t in selectors.ticket_list(user=agent)]
    assert len(rows) == 10 and all(len(r[4]) == 2 for r in rows)


def test_status_list_in_order():
    assert list(selectors.status_list().values_list("title", flat=True)) == [
        "Open", "Answered", "On Hold", "Customer Replied", "Closed"]
