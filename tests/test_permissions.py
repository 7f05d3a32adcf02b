"""Roles: agent, client contact, or nobody."""

import pytest
from django.contrib.auth.models import AnonymousUser, Permission

from helpdesk import permissions

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
