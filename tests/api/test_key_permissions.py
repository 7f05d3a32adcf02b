"""The API key's lookup reads the caller's permissions, department access and client in
its one query (``helpdesk.user_permissions``): never cached across requests, so every
change applies on the very next request, on every app server."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpdesk.models import APIKey
from helpdesk.permissions import AGENT_GROUP
from helpdesk.user_permissions import folds_permissions
from tests import factories
from tests.concurrency import needs_postgresql, run_concurrently

from .conftest import key_client

pytestmark = pytest.mark.django_db


def reply(api, ticket):
    return api.post(f"/api/tickets/{ticket.pk}/replies", {"ticketreply_text": "On it."}, format="json")


def test_a_permission_taken_from_the_group_is_refused_on_the_next_request(api, ticket):
    assert reply(api, ticket).status_code == 201
    Group.objects.get(name=AGENT_GROUP).permissions.remove(Permission.objects.get(codename="add_reply"))
    response = reply(api, ticket)
    assert response.status_code == 403
    assert "helpdesk.add_reply" in response.json()["error"]["message"]
    assert ticket.replies.count() == 1


def test_a_user_removed_from_the_group_is_refused_on_the_next_request(agent, api, ticket):
    assert api.get("/api/tickets").status_code == 200
    agent.groups.clear()
    assert api.get("/api/tickets").status_code == 403
    assert reply(api, ticket).status_code == 403


def test_a_permission_of_the_user_itself_applies_and_goes_on_the_next_request(ticket):
    staff = factories.StaffFactory()
    api = key_client(staff)
    assert api.get("/api/tickets").status_code == 403  # staff without permissions: nobody
    staff.user_permissions.add(Permission.objects.get(codename="view_ticket"))
    assert [t["id"] for t in api.get("/api/tickets").json()["data"]] == [ticket.pk]
    staff.user_permissions.clear()
    assert api.get("/api/tickets").status_code == 403


def test_a_deactivated_user_is_refused_on_the_next_request(agent, api, ticket):
    assert api.get(f"/api/tickets/{ticket.pk}").status_code == 200
    type(agent).objects.filter(pk=agent.pk).update(is_active=False)
    assert api.get(f"/api/tickets/{ticket.pk}").status_code == 401
    assert reply(api, ticket).status_code == 401


def test_department_access_applies_on_the_next_request(agent, api, ticket):
    assert reply(api, ticket).status_code == 201
    access = factories.models.AgentAccess.objects.create(user=agent)  # limited to no department
    assert reply(api, ticket).status_code == 404
    access.departments.add(ticket.department)
    assert reply(api, ticket).status_code == 201
    access.delete()  # every department again
    assert api.get(f"/api/tickets/{ticket.pk}").status_code == 200


def test_a_contact_moved_to_another_client_sees_its_tickets_on_the_next_request(contact, ticket):
    api = key_client(contact.user)
    contact.client = ticket.client
    contact.save()
    assert api.get(f"/api/tickets/{ticket.pk}").status_code == 200
    contact.client = factories.ClientFactory()
    contact.save()
    assert api.get(f"/api/tickets/{ticket.pk}").status_code == 404


def test_a_superuser_has_every_permission(ticket):
    api = key_client(factories.SuperuserFactory(agent_group=False))
    assert reply(api, ticket).status_code == 201
    assert api.delete(f"/api/tickets/{ticket.pk}").status_code == 204


def test_the_key_lookup_is_one_query_with_the_permissions(agent):
    _row, key = APIKey.objects.create_key(user=agent, name="test")
    APIKey.objects.get_from_key(key).user.has_perm("x.y")  # a warm process: the id → name map loaded
    with CaptureQueriesContext(connection) as queries:
        found = APIKey.objects.get_from_key(key)
        assert found.user.has_perm("helpdesk.add_reply")
        assert not found.user.has_perm("helpdesk.delete_ticket")
        folded = found.user.get_all_permissions()
    assert len(queries) == 1, [q["sql"] for q in queries.captured_queries]
    # The very sets Django's backend reads with its own two queries.
    fresh = type(agent).objects.get(pk=agent.pk)
    assert folded == ModelBackend().get_all_permissions(fresh) and "helpdesk.add_reply" in folded
    assert found.user._user_perm_cache == ModelBackend().get_user_permissions(fresh) == set()
    assert found.user._group_perm_cache == ModelBackend().get_group_permissions(fresh)


def test_the_compiled_lookup_finds_each_key_its_own_user_and_refuses_a_revoked_one_at_once():
    # The lookup's SQL is compiled once per process and run with each request's prefix.
    agents = [factories.AgentFactory() for _ in range(3)]
    keys = [APIKey.objects.create_key(user=agent, name="test") for agent in agents]
    for agent, (_row, key) in zip(agents, keys, strict=True):
        assert APIKey.objects.get_from_key(key).user == agent
    row, key = keys[1]
    APIKey.objects.filter(pk=row.pk).update(revoked=True)
    assert APIKey.objects.get_from_key(key) is None
    assert APIKey.objects.get_from_key(keys[2][1]).user == agents[2]
    # A well-formed key whose prefix no row has.
    assert APIKey.objects.get_from_key("Zz" * 4 + "." + "x" * 40) is None


@pytest.mark.django_db(transaction=True)
@needs_postgresql
def test_threads_looking_up_keys_at_once_each_get_their_own_user(default_statuses):
    # Each thread runs the compiled lookup on its own connection.
    agents = [factories.AgentFactory() for _ in range(6)]
    keys = [APIKey.objects.create_key(user=agent, name="test")[1] for agent in agents]

    def look_up(n):
        return [APIKey.objects.get_from_key(keys[n]).user.pk for _ in range(20)]

    results = run_concurrently(look_up, len(keys))
    assert results == [[agent.pk] * 20 for agent in agents]


class ViewOnlyBackend(ModelBackend):
    """A site's own backend: its agents may only look, whatever their groups say."""

    def _get_group_permissions(self, user_obj):
        return Permission.objects.filter(codename="view_ticket")


def test_a_site_with_its_own_backend_gets_its_answers_not_the_folded_ones(settings, api, ticket):
    settings.AUTHENTICATION_BACKENDS = [f"{__name__}.ViewOnlyBackend"]
    assert not folds_permissions()
    assert api.get(f"/api/tickets/{ticket.pk}").status_code == 200
    assert reply(api, ticket).status_code == 403  # the backend says no add_reply


def test_a_new_permission_is_named_at_once(agent, api, ticket):
    """The id → name map is per process; a permission it does not know yet reloads it."""
    from django.contrib.contenttypes.models import ContentType

    from helpdesk.user_permissions import _NAMES

    assert api.get("/api/tickets").status_code == 200  # the map is loaded
    new = Permission.objects.create(codename="frobnicate_ticket", name="Can frobnicate",
                                    content_type=ContentType.objects.get(app_label="helpdesk", model="ticket"))
    _NAMES[new.pk + 1000] = "stale"  # a map that did not see the new row (another process's)
    _NAMES.pop(new.pk, None)
    agent.user_permissions.add(new)
    found = APIKey.objects.get_from_key(api.key)
    assert found.user.has_perm("helpdesk.frobnicate_ticket")
