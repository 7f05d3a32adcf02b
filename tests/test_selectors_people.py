"""``user_list`` and ``client_list``: who may look up which people and organizations
(the Zammad dialect's users and organizations), and ``can_act_on_behalf_of``."""

import pytest
from django.contrib.auth.models import Permission

from helpdesk import selectors
from helpdesk.permissions import can_act_on_behalf_of
from tests import factories

pytestmark = pytest.mark.django_db


def test_user_list_by_role():
    agent = factories.AgentFactory()
    contact = factories.ContactFactory()
    colleague = factories.ContactFactory(client=contact.client)
    stranger = factories.ContactFactory()
    loner = factories.UserFactory()
    assert set(selectors.user_list(user=agent)) == {agent, contact.user, colleague.user, stranger.user, loner}
    assert set(selectors.user_list(user=contact.user)) == {contact.user, colleague.user}
    assert list(selectors.user_list(user=loner)) == [loner]
    loner.is_active = False
    assert list(selectors.user_list(user=loner)) == []
    assert list(selectors.user_list(user=None)) == []


def test_client_list_by_role():
    agent = factories.AgentFactory()
    contact = factories.ContactFactory()
    other = factories.ClientFactory()
    assert set(selectors.client_list(user=agent)) == {contact.client, other}
    assert list(selectors.client_list(user=contact.user)) == [contact.client]
    assert list(selectors.client_list(user=factories.UserFactory())) == []
    limited = factories.AgentFactory()
    limited.groups.clear()
    limited.user_permissions.add(Permission.objects.get(codename="view_ticket", content_type__app_label="helpdesk"))
    assert list(selectors.client_list(user=type(limited).objects.get(pk=limited.pk))) == []


def test_can_act_on_behalf_of():
    agent = factories.AgentFactory()
    assert not can_act_on_behalf_of(agent)
    agent.user_permissions.add(Permission.objects.get(codename="change_user", content_type__app_label="auth"))
    agent = type(agent).objects.get(pk=agent.pk)  # fresh permission cache
    assert can_act_on_behalf_of(agent)
    assert can_act_on_behalf_of(factories.SuperuserFactory())
    customer = factories.ContactFactory().user
    customer.user_permissions.add(Permission.objects.get(codename="change_user", content_type__app_label="auth"))
    assert not can_act_on_behalf_of(type(customer).objects.get(pk=customer.pk))
    assert not can_act_on_behalf_of(None)
