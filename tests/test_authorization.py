"""Object-level authorization over every native API operation and the admin's ticket views.

Four tickets (two clients x two departments), each with a public reply and an internal
note, and eight callers: a superuser, an agent of the "Helpdesk agents" group, the same
limited to one department, a read-only agent (``view_ticket`` alone), a staff user with
no helpdesk permission, a plain user, and a contact of each client. What each may do is
written once, in ``ROLES``; every test derives its expectation from it, and checks both
the answer and that a refused write changed nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.urls import reverse

from helpdesk import services
from helpdesk.models import ActiveState, Reply, ReplyType, StatusChange, Ticket, TicketStatus
from tests import factories
from tests.api.conftest import key_client

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Role:
    """What a caller may do; ``sees`` is "all", "dept1", "client_a", "client_b" or "none"."""

    sees: str
    change: bool = False
    archive: bool = False
    delete: bool = False
    notes: bool = False  # read and write internal notes
    history: bool = False
    add: bool = False
    contact: bool = False


WORKER = dict(change=True, archive=True, notes=True, history=True, add=True)
ROLES = {
    "superuser": Role("all", delete=True, **WORKER),
    "agent": Role("all", **WORKER),
    "scoped_agent": Role("dept1", **WORKER),
    "viewer": Role("all"),
    "staff_without_permissions": Role("none"),
    "plain_user": Role("none"),
    "contact_a": Role("client_a", contact=True),
    "contact_b": Role("client_b", contact=True),
}
API_ROLES = list(ROLES)


class World:
    """The tickets and the callers, built fresh for each test."""

    def __init__(self) -> None:
        self.dept1 = factories.DepartmentFactory(name="Support")
        self.dept2 = factories.DepartmentFactory(name="Billing")
        self.client_a = factories.ClientFactory(name="Alpha Ltd")
        self.client_b = factories.ClientFactory(name="Beta Ltd")
        author = factories.AgentFactory()
        self.tickets: dict[str, Ticket] = {}
        for client_key, client in (("a", self.client_a), ("b", self.client_b)):
            for dept_key, dept in (("1", self.dept1), ("2", self.dept2)):
                ticket = services.ticket_create(
                    subject=f"Printer jammed {client_key}{dept_key}", message="The printer shows an error.",
                    department=dept, client=client, tags=["printer"], silent=True,
                )
                services.reply_post(ticket=ticket, author=author, text="We are on it.", silent=True)
                services.reply_post(ticket=ticket, author=author, text="Secret note zebra.", type=ReplyType.NOTE,
                                    silent=True)
                self.tickets[client_key + dept_key] = ticket
        viewer = factories.StaffFactory()
        viewer.user_permissions.add(Permission.objects.get(codename="view_ticket", content_type__app_label="helpdesk"))
        self.users = {
            "superuser": factories.SuperuserFactory(),
            "agent": factories.AgentFactory(),
            "scoped_agent": factories.AgentFactory(departments=[self.dept1]),
            "viewer": viewer,
            "staff_without_permissions": factories.StaffFactory(),
            "plain_user": factories.UserFactory(),
            "contact_a": factories.ContactFactory(client=self.client_a).user,
            "contact_b": factories.ContactFactory(client=self.client_b).user,
        }

    def visible(self, role: Role) -> set[int]:
        def sees(key: str) -> bool:
            return {
                "all": True, "none": False, "dept1": key[1] == "1",
                "client_a": key[0] == "a", "client_b": key[0] == "b",
            }[role.sees]

        return {t.pk for key, t in self.tickets.items() if sees(key)}

    def reply(self, ticket: Ticket, kind: str = ReplyType.REPLY) -> Reply:
        return Reply.objects.get(ticket=ticket, type=kind)


@pytest.fixture
def world():
    cache.clear()  # throttles
    yield World()
    cache.clear()


def call(world: World, name: str):
    return key_client(world.users[name])


def data_ids(response) -> set[int]:
    return {row["id"] for row in response.json()["data"]}


def expect_for(role: Role, ticket_pk: int, world: World, allowed: bool, ok: int) -> int:
    """The status a caller gets: 403 for nobody, 404 for a ticket they cannot see, then
    ``ok`` if allowed, else 403."""
    if role.sees == "none":
        return 403
    if ticket_pk not in world.visible(role):
        return 404
    return ok if allowed else 403


# -- reading ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", API_ROLES)
def test_list_search_and_detail(world, name):
    role, api = ROLES[name], call(world, name)
    visible = world.visible(role)
    for url in ("/api/tickets?active_state=all&limit=100", "/api/tickets?search=printer",
                "/api/tickets?search=zebra", "/api/tickets?tags[]=printer"):
        response = api.get(url)
        if role.sees == "none":
            assert response.status_code == 403, url
            continue
        assert response.status_code == 200, url
        wanted = visible if "zebra" not in url or role.notes else set()
        assert data_ids(response) == wanted, url
        assert response.json()["meta"]["total"] == len(wanted), url
    for ticket in world.tickets.values():
        response = api.get(f"/api/tickets/{ticket.pk}")
        assert response.status_code == expect_for(role, ticket.pk, world, True, 200)


@pytest.mark.parametrize("name", API_ROLES)
def test_replies_and_notes(world, name):
    role, api = ROLES[name], call(world, name)
    for ticket in world.tickets.values():
        response = api.get(f"/api/tickets/{ticket.pk}/replies")
        assert response.status_code == expect_for(role, ticket.pk, world, True, 200)
        if response.status_code == 200:
            kinds = sorted(r["type"] for r in response.json()["data"])
            assert kinds == (["note", "reply"] if role.notes else ["reply"])


@pytest.mark.parametrize("name", API_ROLES)
def test_history(world, name):
    role, api = ROLES[name], call(world, name)
    for ticket in world.tickets.values():
        response = api.get(f"/api/tickets/{ticket.pk}/history")
        assert response.status_code == expect_for(role, ticket.pk, world, role.history, 200)
        if response.status_code == 200:
            assert len(response.json()["data"]) == 1


@pytest.mark.parametrize("name", API_ROLES)
def test_reference_lists(world, name):
    role, api = ROLES[name], call(world, name)
    tags = api.get("/api/tags")
    departments = api.get("/api/departments")
    if role.sees == "none":
        assert tags.status_code == departments.status_code == 403
        assert api.get("/api/clients").status_code == api.get("/api/projects").status_code == 403
        return
    # The tag count is the number of tickets this caller can see with it.
    assert {t["name"]: t["count"] for t in tags.json()["data"]} == {"printer": len(world.visible(role))}
    names = {d["name"] for d in departments.json()["data"]}
    assert names == ({"Support"} if role.sees == "dept1" else {"Support", "Billing"})
    for url in ("/api/clients", "/api/projects"):
        # Clients and projects: agents with view_client / view_project (the group has them).
        allowed = role.sees != "none" and not role.contact and name != "viewer"
        assert api.get(url).status_code == (200 if allowed else 403), url


# -- writing ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", API_ROLES)
def test_edit(world, name):
    role, api = ROLES[name], call(world, name)
    for ticket in world.tickets.values():
        response = api.patch(f"/api/tickets/{ticket.pk}", {"ticket_subject": "Edited"}, format="json")
        status = expect_for(role, ticket.pk, world, role.change, 200)
        assert response.status_code == status
        assert (Ticket.objects.get(pk=ticket.pk).subject == "Edited") == (status == 200)


@pytest.mark.parametrize("name", API_ROLES)
def test_status_and_tags(world, name):
    role, api = ROLES[name], call(world, name)
    for ticket in world.tickets.values():
        status = expect_for(role, ticket.pk, world, role.change, 200)
        assert api.put(f"/api/tickets/{ticket.pk}/status", {"status": 2}, format="json").status_code == status
        assert api.put(f"/api/tickets/{ticket.pk}/tags", {"tags": ["x"]}, format="json").status_code == status
        ticket.refresh_from_db()
        assert (ticket.status_id == TicketStatus.CLOSED) == (status == 200)
        assert (list(ticket.tags.values_list("name", flat=True)) == ["x"]) == (status == 200)


@pytest.mark.parametrize("name", API_ROLES)
def test_archive_and_restore(world, name):
    role, api = ROLES[name], call(world, name)
    for ticket in world.tickets.values():
        status = expect_for(role, ticket.pk, world, role.archive, 200)
        assert api.put(f"/api/tickets/{ticket.pk}/archive").status_code == status
        ticket.refresh_from_db()
        assert ticket.is_archived == (status == 200)
        assert api.put(f"/api/tickets/{ticket.pk}/restore").status_code == status
        ticket.refresh_from_db()
        assert ticket.active_state == ActiveState.ACTIVE


@pytest.mark.parametrize("name", API_ROLES)
def test_delete(world, name):
    role, api = ROLES[name], call(world, name)
    for ticket in world.tickets.values():
        status = expect_for(role, ticket.pk, world, role.delete, 204)
        assert api.delete(f"/api/tickets/{ticket.pk}").status_code == status
        assert Ticket.objects.filter(pk=ticket.pk).exists() == (status != 204)


@pytest.mark.parametrize("name", API_ROLES)
def test_post_replies_and_notes(world, name):
    role, api = ROLES[name], call(world, name)
    for ticket in world.tickets.values():
        before = Reply.objects.filter(ticket=ticket).count()
        reply = api.post(f"/api/tickets/{ticket.pk}/replies", {"ticketreply_text": "Hello"}, format="json")
        # A public reply: agents who may change the ticket, and contacts on their tickets.
        assert reply.status_code == expect_for(role, ticket.pk, world, role.change or role.contact, 201)
        note = api.post(f"/api/tickets/{ticket.pk}/replies", {"ticketreply_text": "Psst", "ticketreply_type": "note"},
                        format="json")
        # A contact's note is the documented 422 ("agents only"); an agent without the
        # permission gets 403.
        note_ok = expect_for(role, ticket.pk, world, role.notes or role.contact, 201)
        assert note.status_code == (422 if role.contact and note_ok == 201 else note_ok)
        written = (reply.status_code == 201) + (note.status_code == 201)
        assert Reply.objects.filter(ticket=ticket).count() == before + written


@pytest.mark.parametrize("name", API_ROLES)
def test_delete_replies(world, name):
    role, api = ROLES[name], call(world, name)
    for ticket in world.tickets.values():
        for kind in (ReplyType.REPLY, ReplyType.NOTE):
            reply = world.reply(ticket, kind)
            status = expect_for(role, ticket.pk, world, role.change, 204)
            assert api.delete(f"/api/tickets/{ticket.pk}/replies/{reply.pk}").status_code == status
            assert Reply.objects.filter(pk=reply.pk).exists() == (status != 204)


@pytest.mark.parametrize("name", API_ROLES)
def test_create(world, name):
    role, api = ROLES[name], call(world, name)
    for dept in (world.dept1, world.dept2):
        body = {"ticket_clientid": world.client_a.pk, "ticket_categoryid": dept.pk, "ticket_subject": "New",
                "ticket_message": "Help", "ticket_priority": "normal"}
        before = Ticket.objects.count()
        response = api.post("/api/tickets", body, format="json")
        if role.sees == "none" or name == "viewer":
            expected = 403
        elif role.contact:
            expected = 201 if name == "contact_a" else 422  # another client's id
        elif role.sees == "dept1" and dept == world.dept2:
            expected = 422  # a department they do not have
        else:
            expected = 201
        assert response.status_code == expected, response.json()
        assert Ticket.objects.count() == before + (expected == 201)
        if expected == 422 and role.sees == "dept1":
            assert "ticket_categoryid" in response.json()["error"]["fields"]


@pytest.mark.parametrize("name", API_ROLES)
def test_move_to_another_department(world, name):
    role, api = ROLES[name], call(world, name)
    ticket = world.tickets["a1"]
    response = api.patch(f"/api/tickets/{ticket.pk}", {"ticket_categoryid": world.dept2.pk}, format="json")
    expected = expect_for(role, ticket.pk, world, role.change, 200)
    if expected == 200 and role.sees == "dept1":
        expected = 422
    assert response.status_code == expected
    ticket.refresh_from_db()
    assert (ticket.department_id == world.dept2.pk) == (expected == 200)


@pytest.mark.parametrize("name", API_ROLES)
def test_bulk_upsert(world, name):
    role, api = ROLES[name], call(world, name)
    items = [{"_id": t.pk, "title": "Synced"} for t in world.tickets.values()]
    items.append({"source": "crm", "sourceId": "n1", "title": "New one", "email": "x@alpha.example",
                  "companyId": str(world.client_a.pk), "departmentId": world.dept2.pk})
    response = api.put("/api/tickets", items, format="json")
    if role.sees == "none" or role.contact or name == "viewer":
        assert response.status_code == 403
        assert not Ticket.objects.filter(subject__in=["Synced", "New one"]).exists()
        return
    body = response.json()
    allowed = world.visible(role) if role.sees == "dept1" else set(world.visible(role))
    synced = set(Ticket.objects.filter(subject="Synced").values_list("pk", flat=True))
    assert synced == allowed
    assert body["updated"] == len(allowed)
    assert {e["index"] for e in body["updatedErrors"]} == {
        i for i, t in enumerate(world.tickets.values()) if t.pk not in allowed}
    created = Ticket.objects.filter(subject="New one").exists()
    assert created == (role.sees != "dept1")
    assert response.status_code == (206 if role.sees == "dept1" else 200)
    if role.sees == "dept1":
        assert [e["fields"] for e in body["createdErrors"]] == [{"departmentId": ["You have no access to this department."]}]


def test_inactive_users_key_answers_as_a_bad_key(world):
    user = world.users["agent"]
    api = key_client(user)
    user.is_active = False
    user.save()
    inactive = api.get("/api/tickets")
    bad = key_client(world.users["agent"])
    bad.credentials(HTTP_AUTHORIZATION="Bearer " + api.key[:-1] + ("x" if api.key[-1] != "x" else "y"))
    wrong = bad.get("/api/tickets")
    assert inactive.status_code == wrong.status_code == 401
    assert inactive.json()["error"] == wrong.json()["error"]
    assert "inactive" not in inactive.content.decode()
    assert inactive["WWW-Authenticate"] == wrong["WWW-Authenticate"]


# -- the admin ----------------------------------------------------------------------------

ADMIN_ROLES = ["superuser", "agent", "scoped_agent", "viewer", "staff_without_permissions"]


def admin_client(client, world, name):
    client.force_login(world.users[name])
    return client


@pytest.mark.parametrize("name", ADMIN_ROLES)
def test_admin_list_search_and_pages(client, world, name):
    role, c = ROLES[name], admin_client(client, world, name)
    changelist = reverse("admin:helpdesk_ticket_changelist")
    response = c.get(changelist)
    if role.sees == "none":
        assert response.status_code == 403
        assert c.get(reverse("admin:helpdesk_ticket_overview")).status_code == 403
        return
    assert {t.pk for t in response.context["cl"].result_list} == world.visible(role)
    searched = c.get(changelist, {"q": "zebra"})
    assert {t.pk for t in searched.context["cl"].result_list} == (world.visible(role) if role.notes else set())
    # The department filter offers only the departments this agent works (with one,
    # Django leaves the filter out).
    spec = next((s for s in response.context["cl"].filter_specs if getattr(s, "field_path", "") == "department"), None)
    offered = {str(label) for _pk, label in spec.lookup_choices} if spec else {"Support"}
    assert offered == ({"Support"} if role.sees == "dept1" else {"Support", "Billing"})
    assert (spec is None) == (role.sees == "dept1")
    for ticket in world.tickets.values():
        page = c.get(reverse("admin:helpdesk_ticket_change", args=[ticket.pk]))
        if ticket.pk in world.visible(role):
            assert page.status_code == 200
            text = page.content.decode()
            assert ("Secret note zebra" in text) == role.notes
            assert ('id="reply"' in text) == role.change
        else:
            # Django's answer for a ticket that does not exist: back to the index.
            assert page.status_code == 302 and page["Location"] == reverse("admin:index")


@pytest.mark.parametrize("name", ADMIN_ROLES)
def test_admin_edit_reply_and_delete(client, world, name):
    role, c = ROLES[name], admin_client(client, world, name)
    for ticket in world.tickets.values():
        visible = ticket.pk in world.visible(role)
        reply_url = reverse("admin:helpdesk_ticket_reply", args=[ticket.pk])
        before = Reply.objects.filter(ticket=ticket).count()
        response = c.post(reply_url, {"text": "Hi", "type": "reply"})
        note = c.post(reply_url, {"text": "Psst", "type": "note"})
        if role.sees == "none":
            assert response.status_code == note.status_code == 403
        elif not visible:
            assert response.status_code == note.status_code == 302
            assert response["Location"] == reverse("admin:index")
        else:
            assert response.status_code == (302 if role.change else 403)
            assert note.status_code == (302 if role.notes else 403)
        written = int(visible and role.change) + int(visible and role.notes)
        assert Reply.objects.filter(ticket=ticket).count() == before + written
        delete = c.post(reverse("admin:helpdesk_ticket_delete", args=[ticket.pk]), {"post": "yes"})
        assert Ticket.objects.filter(pk=ticket.pk).exists() == (not (visible and role.delete))
        if visible and not role.delete:
            assert delete.status_code == 403


@pytest.mark.parametrize("name", ["superuser", "agent", "scoped_agent", "viewer"])
def test_admin_bulk_actions_touch_only_what_the_agent_may_change(client, world, name):
    role, c = ROLES[name], admin_client(client, world, name)
    every = [t.pk for t in world.tickets.values()]
    c.post(reverse("admin:helpdesk_ticket_changelist"), {"action": "set_status_2", "_selected_action": every})
    # The list's default view hides closed tickets (and an action acts within the view shown).
    c.post(reverse("admin:helpdesk_ticket_changelist") + "?view=all", {"action": "archive", "_selected_action": every})
    closed = set(Ticket.objects.filter(status_id=TicketStatus.CLOSED).values_list("pk", flat=True))
    archived = set(Ticket.objects.filter(active_state=ActiveState.ARCHIVED).values_list("pk", flat=True))
    assert closed == (world.visible(role) if role.change else set())
    assert archived == (world.visible(role) if role.archive else set())


@pytest.mark.parametrize("name", ["superuser", "agent", "scoped_agent", "viewer"])
def test_admin_overview_counts_what_the_agent_sees(client, world, name):
    role, c = ROLES[name], admin_client(client, world, name)
    cache.clear()
    data = c.get(reverse("admin:helpdesk_ticket_overview")).context["overview"]
    assert data.open_total == len(world.visible(role))
    assert {b.label for b in data.by_department} == ({"Support"} if role.sees == "dept1" else {"Support", "Billing"})
    assert sum(d.created for d in data.daily) == len(world.visible(role))


@pytest.mark.parametrize("name", ["superuser", "agent", "scoped_agent", "viewer"])
def test_admin_reply_and_history_lists(client, world, name):
    role, c = ROLES[name], admin_client(client, world, name)
    replies = c.get(reverse("admin:helpdesk_reply_changelist"))
    history = c.get(reverse("admin:helpdesk_statuschange_changelist"))
    if name == "viewer":  # no view_reply, no view_statuschange
        assert replies.status_code == history.status_code == 403
        return
    rows = list(replies.context["cl"].result_list)
    assert {r.ticket_id for r in rows} == world.visible(role)
    assert {r.type for r in rows} == {"reply", "note"}
    assert {h.ticket_id for h in history.context["cl"].result_list} == world.visible(role)
    outside = [t for t in world.tickets.values() if t.pk not in world.visible(role)]
    for ticket in outside:
        note = world.reply(ticket, ReplyType.NOTE)
        page = c.get(reverse("admin:helpdesk_reply_change", args=[note.pk]))
        assert page.status_code == 302
        assert StatusChange.objects.filter(ticket=ticket).exists()


def test_admin_ticket_form_offers_only_the_agents_departments(client, world):
    c = admin_client(client, world, "scoped_agent")
    ticket = world.tickets["a1"]
    form = c.get(reverse("admin:helpdesk_ticket_change", args=[ticket.pk])).context["adminform"].form
    assert list(form.fields["department"].queryset) == [world.dept1]
    add = c.get(reverse("admin:helpdesk_ticket_add")).context["adminform"].form
    assert list(add.fields["department"].queryset) == [world.dept1]


def test_a_refusal_names_the_missing_permission(world):
    api = call(world, "viewer")
    ticket = world.tickets["a1"]
    response = api.patch(f"/api/tickets/{ticket.pk}", {"ticket_subject": "x"}, format="json")
    assert response.status_code == 403 and "helpdesk.change_ticket" in response.json()["error"]["message"]
    response = call(world, "agent").delete(f"/api/tickets/{ticket.pk}")
    assert response.status_code == 403 and "helpdesk.delete_ticket" in response.json()["error"]["message"]
