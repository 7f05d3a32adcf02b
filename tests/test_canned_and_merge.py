"""Canned replies (sandboxed placeholders, status and tags, personal or shared) and
merging duplicates, through the services, the admin and the API."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from helpdesk import canned, selectors, services
from helpdesk.models import ReplyType, Ticket, TicketStatus
from tests import factories
from tests.api.conftest import key_client


@pytest.fixture
def agent(db):
    return factories.AgentFactory(first_name="Sam", last_name="Rivera")


@pytest.fixture
def ticket(db):
    requester = factories.UserFactory(first_name="Maria", email="maria@customer.example")
    return services.ticket_create(subject="Printer on fire", message="Help!", department=factories.DepartmentFactory(),
                                  client=factories.ClientFactory(), requester=requester, silent=True)


# -- canned replies ------------------------------------------------------------------------

def test_placeholders_are_filled_in(ticket, agent):
    text = canned.render("Hi {{ requester.first_name }}, #{{ ticket.id }} is with {{ agent.name }}.{% if ticket.client %} ok{% endif %}",
                         ticket=ticket, agent=agent)
    assert text == f"Hi Maria, #{ticket.pk} is with Sam Rivera. ok"


@pytest.mark.parametrize("body", [
    "{% load static %}", "{% include 'admin/base.html' %}", "{% debug %}", "{{ ticket.id|center:'999999999' }}",
    "{% now 'Y' %}", "{% if %}{% endif %}",
])
def test_anything_beyond_placeholders_is_refused(db, body):
    with pytest.raises(ValidationError):
        factories.CannedReplyFactory.build(body=body).full_clean()


def test_a_template_cannot_reach_model_internals(ticket, agent):
    # Only plain values are in the context: no relation, no method, no settings.
    text = canned.render("[{{ ticket.requester.password }}{{ requester.check_password }}{{ settings.SECRET_KEY }}]",
                         ticket=ticket, agent=agent)
    assert text == "[]"


def test_using_a_canned_reply_posts_it_sets_status_and_tags(ticket, agent):
    reply = factories.CannedReplyFactory(status=TicketStatus.objects.get(pk=TicketStatus.ANSWERED), tags="howto, faq")
    posted = services.canned_reply_use(canned=reply, ticket=ticket, by=agent)
    ticket.refresh_from_db()
    assert posted.text == f"Hi Maria, about ticket #{ticket.pk}: we are on it."
    assert ticket.status_id == TicketStatus.ANSWERED
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["faq", "howto"]


def test_personal_replies_are_their_owners(ticket, agent):
    mine = factories.CannedReplyFactory(owner=agent, title="mine")
    shared = factories.CannedReplyFactory(title="shared")
    other = factories.CannedReplyFactory(owner=factories.AgentFactory(), title="theirs")
    assert set(selectors.canned_reply_list(user=agent)) == {mine, shared}
    with pytest.raises(ValidationError):
        services.canned_reply_use(canned=other, ticket=ticket, by=agent)
    assert not selectors.canned_reply_list(user=factories.UserFactory()).exists()


def test_canned_reply_picked_in_the_reply_box(client, ticket):
    from tests.admin.test_ticket_page import change_url, form_data

    admin = factories.SuperuserFactory(first_name="Alex", last_name="Morgan")
    client.force_login(admin)
    reply = factories.CannedReplyFactory(title="Greeting", body="Hello {{ requester.first_name }}!",
                                         status=TicketStatus.objects.get(pk=TicketStatus.ON_HOLD))
    html = client.get(change_url(ticket)).content.decode()
    assert f'<option value="{reply.pk}" data-text="Hello Maria!"' in html  # rendered for this ticket
    response = client.post(change_url(ticket), form_data(ticket, canned_reply=reply.pk, reply_text="", _reply="1"))
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.replies.get().text == "Hello Maria!" and ticket.status_id == TicketStatus.ON_HOLD


def test_api_lists_the_callers_canned_replies(agent):
    factories.CannedReplyFactory(title="shared", tags="a,b")
    factories.CannedReplyFactory(title="mine", owner=agent)
    factories.CannedReplyFactory(title="theirs", owner=factories.AgentFactory())
    data = key_client(agent).get("/api/canned-replies").json()["data"]
    assert [(c["title"], c["shared"]) for c in data] == [("mine", False), ("shared", True)]
    assert data[1]["tags"] == ["a", "b"]
    contact = factories.ContactFactory()
    assert key_client(contact.user).get("/api/canned-replies").status_code == 403


# -- merge ---------------------------------------------------------------------------------

def make(subject, **kw):
    return services.ticket_create(subject=subject, message=f"{subject} body", department=factories.DepartmentFactory(),
                                  client=factories.ClientFactory(), silent=True, **kw)


def test_merge_moves_the_conversation_and_tags_and_closes_the_source(agent):
    target = make("Printer on fire", tags=["hardware"])
    source = make("Printer still burning", tags=["urgent"])
    services.reply_post(ticket=source, author=agent, text="Looking", silent=True)
    services.reply_post(ticket=source, author=agent, text="secret", type=ReplyType.NOTE, silent=True)
    services.ticket_merge(source=source, target=target, by=agent)
    source.refresh_from_db()
    target.refresh_from_db()
    assert source.merged_into == target and source.status.is_closed
    assert sorted(target.tags.values_list("name", flat=True)) == ["hardware", "urgent"]
    texts = list(target.replies.values_list("text", flat=True))
    assert "Looking" in texts and "secret" in texts
    assert any("Printer still burning body" in t and f"Merged #{source.pk}" in t for t in texts)
    assert (target.replies_count, target.notes_count) == (1, 2)
    assert list(source.replies.values_list("text", flat=True)) == [f"Merged into #{target.pk} (Printer on fire)."]
    assert source.status_changes.filter(to_status__is_closed=True).exists()


def test_merge_refuses_itself_and_chains(agent):
    a, b, c = make("a"), make("b"), make("c")
    with pytest.raises(ValidationError):
        services.ticket_merge(source=a, target=a, by=agent)
    services.ticket_merge(source=a, target=b, by=agent)
    with pytest.raises(ValidationError):
        services.ticket_merge(source=a, target=c, by=agent)  # already merged
    with pytest.raises(ValidationError):
        services.ticket_merge(source=c, target=a, by=agent)  # into a merged ticket
    assert not Ticket.objects.get(pk=c.pk).status.is_closed


@pytest.mark.parametrize("notify", [False, True])
def test_requester_is_told_only_when_the_site_wants(agent, settings, django_capture_on_commit_callbacks, notify):
    settings.HELPDESK = {"NOTIFIER": "helpdesk.notify.EmailNotifier", "MERGE_NOTIFY_REQUESTER": notify}
    requester = factories.UserFactory(email="max@customer.example")
    target, source = make("t"), make("s", requester=requester)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_merge(source=source, target=target, by=agent)
    assert len(mail.outbox) == (1 if notify else 0)
    if notify:
        assert f"merged into #{target.pk}" in mail.outbox[0].body


def test_admin_action_merges_into_the_typed_ticket(db, client):
    admin = factories.SuperuserFactory()
    client.force_login(admin)
    target, one, two = make("target"), make("one"), make("two")
    url = reverse("admin:helpdesk_ticket_changelist")
    response = client.post(url, {"action": "merge_into", "_selected_action": [one.pk, two.pk], "merge_target": target.pk},
                           follow=True)
    assert f"2 tickets merged into #{target.pk}." in [str(m) for m in response.context["messages"]]
    assert set(Ticket.objects.filter(merged_into=target).values_list("pk", flat=True)) == {one.pk, two.pk}
    response = client.post(url, {"action": "merge_into", "_selected_action": [target.pk], "merge_target": "abc"},
                           follow=True)
    assert "Type the id of the ticket to merge into (e.g. 123)." in [str(m) for m in response.context["messages"]]
    page = client.get(reverse("admin:helpdesk_ticket_change", args=[one.pk])).content.decode()
    assert f"merged into #{target.pk}" in page


def test_api_merge(agent):
    api = key_client(agent)
    target, source = make("target"), make("source")
    response = api.post(f"/api/tickets/{source.pk}/merge", {"target": target.pk}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["data"]["id"] == target.pk
    assert Ticket.objects.get(pk=source.pk).merged_into_id == target.pk
    again = api.post(f"/api/tickets/{source.pk}/merge", {"target": target.pk}, format="json")
    assert again.status_code == 422
    assert api.post(f"/api/tickets/{target.pk}/merge", {"target": 999999}, format="json").status_code == 422
    assert api.post(f"/api/tickets/{target.pk}/merge", {"target": "x"}, format="json").status_code == 422
    assert api.post(f"/api/tickets/{target.pk}/merge", {}, format="json").status_code == 422
