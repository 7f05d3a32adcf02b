"""Roles: agent, client contact, or nobody."""

import pytest
from django.contrib.auth.models import AnonymousUser, Permission

from helpdesk import permissions
from helpdesk.models import AgentAccess

from . import factories

pytestmark = pytest.mark.django_db


def test_agent_is_active_staff(agent):
    assert permissions.is_agent(agent)
    assert permissions.contact_client_id(agent) is None
    agent.is_active = False
    assert not permissions.is_agent(agent)


@pytest.mark.parametrize("user", [None, AnonymousUser()])
def test_nobody_is_nothing(user):
    assert not permissions.is_agent(user)
    assert permissions.contact_client_id(user) is None
    assert not permissions.is_contact(user)
    assert not permissions.can_delete_ticket(user)


def test_contact_has_their_client(contact):
    assert permissions.contact_client_id(contact.user) == contact.client_id
    assert permissions.is_contact(contact.user)
    assert not permissions.is_agent(contact.user)


def test_contact_lookup_is_cached_per_user_object(contact, django_assert_num_queries):
    user = contact.user
    with django_assert_num_queries(1):
        permissions.contact_client_id(user)
        permissions.contact_client_id(user)


def test_inactive_contact_and_plain_user_are_nothing(contact):
    assert permissions.contact_client_id(factories.UserFactory()) is None
    contact.user.is_active = False
    assert permissions.contact_client_id(contact.user) is None


def test_staff_linked_to_a_client_is_an_agent_not_a_contact():
    staff = factories.AgentFactory()
    factories.ContactFactory(user=staff)
    assert permissions.is_agent(staff) and permissions.contact_client_id(staff) is None


def test_delete_needs_the_model_permission(agent):
    assert not permissions.can_delete_ticket(agent)
    agent.user_permissions.add(Permission.objects.get(codename="delete_ticket", content_type__app_label="helpdesk"))
    agent = type(agent).objects.get(pk=agent.pk)  # permissions are cached on the instance
    assert permissions.can_delete_ticket(agent)
    assert permissions.can_delete_ticket(factories.SuperuserFactory())
    assert not permissions.can_delete_ticket(factories.UserFactory(is_superuser=True))  # not staff


def test_agents_group_has_working_permissions_but_not_delete():
    from django.contrib.auth.models import Group

    group = Group.objects.get(name="Helpdesk agents")
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert {"view_ticket", "change_ticket", "archive_ticket", "add_reply"} <= codenames
    assert "delete_ticket" not in codenames and "change_ticketstatus" not in codenames


# -- the permission model (issue #12): model permissions and department scopes ------------


def test_staff_without_ticket_permissions_is_nobody():
    staff = factories.StaffFactory()
    assert not permissions.is_agent(staff)
    assert permissions.contact_client_id(staff) is None
    assert not permissions.can_view_ticket(staff) and not permissions.can_change_ticket(staff)


def test_view_permission_alone_makes_a_read_only_agent():
    staff = factories.StaffFactory()
    staff.user_permissions.add(Permission.objects.get(codename="view_ticket", content_type__app_label="helpdesk"))
    ticket = factories.TicketFactory()
    assert permissions.is_agent(staff) and permissions.can_view_ticket(staff, ticket)
    for check in (permissions.can_change_ticket, permissions.can_archive_ticket, permissions.can_view_notes,
                  permissions.can_add_note, permissions.can_add_reply, permissions.can_view_history):
        assert not check(staff, ticket), check.__name__
    assert not permissions.can_sync(staff)


def test_the_agents_group_carries_every_working_permission(agent):
    ticket = factories.TicketFactory()
    for check in (permissions.can_view_ticket, permissions.can_change_ticket, permissions.can_archive_ticket,
                  permissions.can_view_notes, permissions.can_add_note, permissions.can_add_reply,
                  permissions.can_delete_reply, permissions.can_view_history):
        assert check(agent, ticket), check.__name__
    assert permissions.can_add_ticket(agent) and permissions.can_sync(agent)
    assert permissions.can_view_clients(agent) and permissions.can_view_projects(agent)
    assert not permissions.can_delete_ticket(agent, ticket)


def test_the_migration_granted_the_group_the_note_permissions():
    from django.contrib.auth.models import Group

    codenames = set(Group.objects.get(name="Helpdesk agents").permissions.values_list("codename", flat=True))
    assert {"view_note", "add_note"} <= codenames


def test_superusers_have_everything_and_are_never_limited():
    su = factories.SuperuserFactory()
    AgentAccess.objects.create(user=su)  # even a row limiting them to nothing
    ticket = factories.TicketFactory()
    assert permissions.agent_department_ids(su) is None
    assert permissions.can_delete_ticket(su, ticket) and permissions.can_view_notes(su, ticket)


def test_a_department_limited_agent_works_only_those_departments():
    support, billing = factories.DepartmentFactory(), factories.DepartmentFactory()
    agent = factories.AgentFactory(departments=[support])
    mine, other = factories.TicketFactory(department=support), factories.TicketFactory(department=billing)
    assert permissions.agent_department_ids(agent) == {support.pk}
    assert permissions.can_view_ticket(agent, mine) and permissions.can_change_ticket(agent, mine)
    assert not permissions.can_view_ticket(agent, other) and not permissions.can_change_ticket(agent, other)
    assert not permissions.can_add_note(agent, other) and not permissions.can_view_notes(agent, other)
    assert permissions.can_use_department(agent, support) and not permissions.can_use_department(agent, billing.pk)
    # Still an agent, with the group's permissions, for "any ticket" questions.
    assert permissions.is_agent(agent) and permissions.can_change_ticket(agent)


def test_an_access_row_without_departments_is_no_ticket_and_no_row_is_every_department():
    nothing = factories.AgentFactory(departments=[])
    everything = factories.AgentFactory()
    ticket = factories.TicketFactory()
    assert permissions.agent_department_ids(nothing) == frozenset()
    assert not permissions.can_view_ticket(nothing, ticket)
    assert permissions.agent_department_ids(everything) is None and permissions.can_view_ticket(everything, ticket)


def test_department_access_is_read_once_per_user_object(django_assert_num_queries):
    agent = factories.AgentFactory(departments=[factories.DepartmentFactory()])
    with django_assert_num_queries(1):
        permissions.agent_department_ids(agent)
        permissions.agent_department_ids(agent)


def test_contacts_are_never_limited_by_departments(contact):
    assert permissions.can_use_department(contact.user, factories.DepartmentFactory())
    ticket = factories.TicketFactory(client=contact.client)
    assert permissions.can_view_ticket(contact.user, ticket) and permissions.can_add_reply(contact.user, ticket)
    assert not permissions.can_view_notes(contact.user, ticket) and not permissions.can_add_note(contact.user, ticket)
    assert not permissions.can_view_ticket(contact.user, factories.TicketFactory())


def test_ensure_agent_group_restores_a_flushed_group():
    from django.contrib.auth.models import Group

    Group.objects.filter(name=permissions.AGENT_GROUP).delete()
    group = permissions.ensure_agent_group()
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert {"view_ticket", "change_ticket", "add_note", "view_note", "view_statuschange"} <= codenames
    assert "delete_ticket" not in codenames
    assert permissions.ensure_agent_group().pk == group.pk
