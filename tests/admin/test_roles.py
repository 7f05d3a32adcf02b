"""Roles: what a member of the "Helpdesk agents" group may do in the admin."""

from django.urls import reverse

from helpdesk.models import Ticket
from tests import factories

LIST = reverse("admin:helpdesk_ticket_changelist")


def test_agents_work_tickets_but_cannot_delete_them(agent_client, group_agent, make_ticket):
    ticket = make_ticket()
    response = agent_client.get(LIST)
    assert response.status_code == 200
    actions = dict(response.context["action_form"].fields["action"].choices)
    assert "delete_selected" not in actions
    assert {"assign_to_me", "archive", "add_tag", "set_status_2"} <= set(actions)
    change = agent_client.get(reverse("admin:helpdesk_ticket_change", args=[ticket.pk]))
    assert change.status_code == 200 and b'class="deletelink"' not in change.content
    delete_url = reverse("admin:helpdesk_ticket_delete", args=[ticket.pk])
    assert agent_client.get(delete_url).status_code == 403
    assert agent_client.post(delete_url, {"post": "yes"}).status_code == 403
    # Forging the bulk delete action does nothing either.
    response = agent_client.post(LIST, {"action": "delete_selected", "_selected_action": [ticket.pk], "post": "yes"})
    assert Ticket.objects.filter(pk=ticket.pk).exists()


def test_agents_can_reply_and_see_the_overview(agent_client, make_ticket):
    ticket = make_ticket()
    reply = reverse("admin:helpdesk_ticket_reply", args=[ticket.pk])
    assert agent_client.post(reply, {"text": "Hi", "type": "reply"}).status_code == 302
    assert ticket.replies.count() == 1
    assert agent_client.get(reverse("admin:helpdesk_ticket_overview")).status_code == 200
    assert b"Overview" in agent_client.get(reverse("admin:index")).content


def test_agents_cannot_change_reference_data(agent_client):
    assert agent_client.get(reverse("admin:helpdesk_department_add")).status_code == 403
    assert agent_client.get(reverse("admin:helpdesk_ticketstatus_add")).status_code == 403
    assert agent_client.get(reverse("admin:helpdesk_apikey_changelist")).status_code == 403


def test_users_with_delete_permission_delete_through_the_service(su_client, make_ticket, superuser):
    ticket = make_ticket()
    from helpdesk import services
    services.reply_post(ticket=ticket, author=superuser, text="x", silent=True)
    response = su_client.post(reverse("admin:helpdesk_ticket_delete", args=[ticket.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Ticket.objects.filter(pk=ticket.pk).exists()


def test_staff_without_ticket_permissions_see_nothing(client, make_ticket):
    client.force_login(factories.StaffFactory())
    assert client.get(LIST).status_code == 403
    assert client.get(reverse("admin:helpdesk_ticket_overview")).status_code == 403
    assert client.get(reverse("admin:helpdesk_ticketoverview_changelist")).status_code == 403
