"""Bulk actions on the ticket list: each goes through a service and leaves a log entry."""

from django.contrib.admin.models import LogEntry
from django.urls import reverse

from helpdesk.models import ActiveState, StatusChange, TicketStatus
from tests import factories

URL = reverse("admin:helpdesk_ticket_changelist")


def run(client, action, tickets, **extra):
    data = {"action": action, "_selected_action": [t.pk for t in tickets], **extra}
    return client.post(URL, data, follow=True)


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def test_status_actions_are_offered_per_status(su_client):
    html = su_client.get(URL).content.decode()
    for title in ("Open", "Closed", "On Hold", "Answered", "Customer Replied"):
        assert f"Set status: {title}" in html


def test_set_status_records_history_for_each_ticket(su_client, superuser, make_ticket):
    a, b = make_ticket(), make_ticket()
    response = run(su_client, f"set_status_{TicketStatus.CLOSED}", [a, b])
    assert "2 tickets set to Closed." in messages_of(response)
    for t in (a, b):
        t.refresh_from_db()
        assert t.status_id == TicketStatus.CLOSED and t.closed_at is not None
        assert StatusChange.objects.filter(ticket=t, to_status_id=TicketStatus.CLOSED, changed_by=superuser).exists()
        assert LogEntry.objects.filter(object_id=str(t.pk), change_message="Status set to Closed.").exists()
    # Again: nothing changes, no duplicate history.
    response = run(su_client, f"set_status_{TicketStatus.CLOSED}", [a, b])
    assert "0 tickets set to Closed." in messages_of(response)
    assert StatusChange.objects.filter(to_status_id=TicketStatus.CLOSED).count() == 2


def test_assign_to_me_keeps_other_assignees_and_unassign_clears(su_client, superuser, make_ticket):
    colleague = factories.AgentFactory()
    a = make_ticket(assignees=[colleague])
    b = make_ticket()
    response = run(su_client, "assign_to_me", [a, b])
    assert "2 tickets assigned to you." in messages_of(response)
    assert set(a.assignees.all()) == {colleague, superuser}
    assert list(b.assignees.all()) == [superuser]
    response = run(su_client, "unassign", [a, b])
    assert "2 tickets unassigned." in messages_of(response)
    assert not a.assignees.exists() and not b.assignees.exists()
    assert LogEntry.objects.filter(change_message="Unassigned.").count() == 2


def test_archive_and_restore(su_client, make_ticket):
    a = make_ticket()
    response = run(su_client, "archive", [a])
    assert "1 ticket archived." in messages_of(response)
    a.refresh_from_db()
    assert a.active_state == ActiveState.ARCHIVED
    assert a.pk not in [t.pk for t in response.context["cl"].result_list]  # gone from the default list
    response = su_client.post(
        URL + "?state=archived", {"action": "restore", "_selected_action": [a.pk]}, follow=True
    )
    assert "1 ticket restored." in messages_of(response)
    a.refresh_from_db()
    assert a.active_state == ActiveState.ACTIVE


def test_add_tag(su_client, make_ticket):
    a, b = make_ticket(tags=["vip"]), make_ticket()
    response = run(su_client, "add_tag", [a, b], tag="Billing")
    assert "Tagged 2 tickets with Billing." in messages_of(response)
    assert sorted(a.tags.values_list("name", flat=True)) == ["Billing", "vip"]
    assert list(b.tags.values_list("name", flat=True)) == ["Billing"]


def test_add_tag_without_a_tag_or_too_long_is_refused(su_client, make_ticket):
    a = make_ticket()
    response = run(su_client, "add_tag", [a], tag="  ")
    assert "Enter the tag to add in the Tag box." in messages_of(response)
    response = run(su_client, "add_tag", [a], tag="x" * 60)
    assert response.status_code == 200
    assert not a.tags.exists()


def test_actions_on_all_matching_tickets(su_client, make_ticket):
    tickets = [make_ticket() for _ in range(3)]
    response = su_client.post(URL, {"action": "assign_to_me", "select_across": "1", "index": "0",
                                    "_selected_action": [tickets[0].pk]}, follow=True)
    assert "3 tickets assigned to you." in messages_of(response)
