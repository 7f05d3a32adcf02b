"""The ticket page: thread, reply form, status timeline, and saves that go through the services."""

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from helpdesk import services
from helpdesk.models import Channel, Reply, ReplyType, StatusChange, Ticket, TicketStatus
from tests import factories


def change_url(ticket):
    return reverse("admin:helpdesk_ticket_change", args=[ticket.pk])


def reply_url(ticket):
    return reverse("admin:helpdesk_ticket_reply", args=[ticket.pk])


def form_data(ticket, **overrides):
    """The change form's POST data for ``ticket`` as it is, with ``overrides``."""
    data = {
        "subject": ticket.subject, "message": ticket.message, "status": ticket.status_id,
        "priority": ticket.priority, "department": ticket.department_id, "client": ticket.client_id,
        "project": ticket.project_id or "", "requester": ticket.requester_id or "",
        "assignees": [u.pk for u in ticket.assignees.all()], "tags": [t.pk for t in ticket.tags.all()],
        "new_tags": "", "type": ticket.type, "severity": ticket.severity, "product": ticket.product,
        "time_spent": str(ticket.time_spent), "custom_fields": "{}", "metadata": "{}",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_page_shows_thread_with_replies_and_notes_apart_and_the_timeline(su_client, superuser, make_ticket):
    customer = factories.UserFactory(first_name="Maria", last_name="Lopez")
    ticket = make_ticket(requester=customer, creator=customer, subject="Export times out")
    services.reply_post(ticket=ticket, author=superuser, text="Looking into it", silent=True)
    services.reply_post(ticket=ticket, author=superuser, text="Escalated to platform", type=ReplyType.NOTE, silent=True)
    services.reply_post(ticket=ticket, author=customer, text="Thanks!", silent=True)
    services.ticket_change_status(ticket=ticket, status=TicketStatus.objects.get(pk=TicketStatus.ON_HOLD), by=superuser)
    html = su_client.get(change_url(ticket)).content.decode()
    assert "Export times out" in html
    assert "The login page shows an error." in html  # the opening message
    note = html.index("Escalated to platform")
    assert html.rfind("hd-msg-note", 0, note) > html.rfind("hd-msg-agent", 0, note)  # the note is styled as one
    assert "Internal note" in html
    assert html.index("Looking into it") < note < html.index("Thanks!")  # oldest first
    assert "hd-msg-customer" in html and "Maria Lopez" in html
    timeline = html[html.index('id="status-history"'):]
    assert timeline.index("Open") < timeline.index("On Hold")
    assert "Alex Morgan" in timeline
    # The reply box is part of the ticket's one form (so "Send reply" saves the details too).
    assert 'id="reply"' in html and 'name="reply_text" id="id_reply_text" rows="5" form="ticket_form"' in html


def test_dates_are_read_only(su_client, make_ticket):
    ticket = make_ticket()
    form = su_client.get(change_url(ticket)).context["adminform"].form
    for name in ("created_at", "updated_at", "closed_at", "first_response_at", "last_reply_at", "replies_count"):
        assert name not in form.fields


def test_post_a_reply_updates_counters_and_dates(su_client, superuser, make_ticket):
    ticket = make_ticket()
    response = su_client.post(reply_url(ticket), {"text": "We fixed it.", "type": "reply"}, follow=True)
    assert "Reply posted." in messages_of(response)
    ticket.refresh_from_db()
    reply = ticket.replies.get()
    assert (reply.text, reply.type, reply.author) == ("We fixed it.", ReplyType.REPLY, superuser)
    assert ticket.replies_count == 1 and ticket.first_response_at == reply.created_at
    assert "We fixed it." in response.content.decode()
    assert LogEntry.objects.filter(object_id=str(ticket.pk), change_message="Reply added.").exists()


def test_post_a_note_with_a_status_change(su_client, superuser, make_ticket):
    ticket = make_ticket()
    response = su_client.post(
        reply_url(ticket), {"text": "Waiting for the vendor.", "type": "note", "status": TicketStatus.ON_HOLD}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.notes_count == 1 and ticket.replies_count == 0
    assert ticket.first_response_at is None  # a note is not a response
    assert ticket.status_id == TicketStatus.ON_HOLD
    change = StatusChange.objects.filter(ticket=ticket).last()
    assert (change.to_status_id, change.changed_by) == (TicketStatus.ON_HOLD, superuser)


def test_blank_reply_is_refused_and_nothing_is_written(su_client, make_ticket):
    ticket = make_ticket()
    response = su_client.post(reply_url(ticket), {"text": "   ", "type": "reply"}, follow=True)
    assert response.status_code == 200
    assert any("required" in m for m in messages_of(response))
    assert not Reply.objects.exists()


def test_reply_with_an_unknown_type_or_status_is_refused(su_client, make_ticket):
    ticket = make_ticket()
    response = su_client.post(reply_url(ticket), {"text": "hi", "type": "shout", "status": 999}, follow=True)
    assert len([m for m in messages_of(response) if "valid choice" in m]) == 2
    assert not Reply.objects.exists()


def test_reply_url_accepts_post_only_and_known_tickets(su_client, make_ticket):
    ticket = make_ticket()
    assert su_client.get(reply_url(ticket)).status_code == 405
    response = su_client.post(reverse("admin:helpdesk_ticket_reply", args=[999999]), {"text": "x"})
    assert response.status_code == 302 and response.url == reverse("admin:index")


def test_reply_needs_the_permission(client, make_ticket):
    viewer = factories.StaffFactory()
    viewer.user_permissions.add(Permission.objects.get(codename="view_ticket"))
    client.force_login(viewer)
    ticket = make_ticket()
    assert client.post(reply_url(ticket), {"text": "hi", "type": "reply"}).status_code == 403
    assert 'id="reply"' not in client.get(change_url(ticket)).content.decode()
    assert not Reply.objects.exists()


def test_status_change_on_the_form_records_history(su_client, superuser, make_ticket):
    ticket = make_ticket()
    response = su_client.post(change_url(ticket), form_data(ticket, status=TicketStatus.CLOSED))
    assert response.status_code == 302, response.context["adminform"].form.errors
    ticket.refresh_from_db()
    assert ticket.status_id == TicketStatus.CLOSED and ticket.closed_at is not None
    change = StatusChange.objects.filter(ticket=ticket).last()
    assert (change.from_status_id, change.to_status_id, change.changed_by) == (1, 2, superuser)


def test_editing_fields_tags_and_assignees_goes_through_the_services(su_client, superuser, make_ticket):
    ticket = make_ticket(tags=["old"])
    before = ticket.updated_at
    tag = factories.TagFactory(name="billing")
    response = su_client.post(change_url(ticket), form_data(
        ticket, subject="Cannot log in (SSO)", priority=3, tags=[tag.pk], new_tags="vip, Urgent-fix",
        assignees=[superuser.pk],
    ))
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.subject == "Cannot log in (SSO)" and ticket.priority == 3
    assert sorted(ticket.tags.values_list("name", flat=True), key=str.lower) == ["billing", "Urgent-fix", "vip"]
    assert list(ticket.assignees.all()) == [superuser]
    assert ticket.updated_at > before
    assert StatusChange.objects.filter(ticket=ticket).count() == 1  # no status change recorded


def test_only_agents_can_be_assigned(su_client, make_ticket):
    ticket = make_ticket()
    customer = factories.UserFactory()
    response = su_client.post(change_url(ticket), form_data(ticket, assignees=[customer.pk]))
    assert response.status_code == 200
    assert "assignees" in response.context["adminform"].form.errors
    assert not ticket.assignees.exists()


def test_project_must_belong_to_the_client(su_client, make_ticket):
    ticket = make_ticket()
    foreign = factories.ProjectFactory()
    response = su_client.post(change_url(ticket), form_data(ticket, project=foreign.pk))
    assert "does not belong" in str(response.context["adminform"].form.errors["project"])
    ticket.refresh_from_db()
    assert ticket.project is None


def test_custom_fields_are_validated(su_client, make_ticket):
    factories.CustomFieldFactory(key="order_number", type="integer")
    ticket = make_ticket()
    response = su_client.post(change_url(ticket), form_data(ticket, custom_fields='{"order_number": "abc"}'))
    assert "order_number" in str(response.context["adminform"].form.errors["custom_fields"])
    response = su_client.post(change_url(ticket), form_data(ticket, custom_fields='{"nope": 1}'))
    assert "Unknown" in str(response.context["adminform"].form.errors["custom_fields"])
    response = su_client.post(change_url(ticket), form_data(ticket, custom_fields='{"order_number": "42"}'))
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.custom_fields == {"order_number": 42}
    su_client.post(change_url(ticket), form_data(ticket, custom_fields="{}"))
    ticket.refresh_from_db()
    assert ticket.custom_fields == {}


def test_a_service_error_at_save_is_shown_and_nothing_is_written(su_client, make_ticket, monkeypatch):
    ticket = make_ticket()

    def refuse(**kwargs):
        raise ValidationError({"subject": ["Changed by someone else meanwhile."]})

    monkeypatch.setattr(services, "ticket_update", refuse)
    response = su_client.post(
        change_url(ticket), form_data(ticket, subject="New subject", status=TicketStatus.CLOSED), follow=True
    )
    assert response.status_code == 200
    assert "subject: Changed by someone else meanwhile." in messages_of(response)
    ticket.refresh_from_db()
    assert ticket.subject == "Cannot log in" and ticket.status_id == TicketStatus.OPEN  # rolled back


def test_adding_a_ticket_uses_ticket_create(su_client, superuser):
    dept = factories.DepartmentFactory()
    org = factories.ClientFactory()
    add_url = reverse("admin:helpdesk_ticket_add")
    assert su_client.get(add_url).status_code == 200
    response = su_client.post(add_url, {
        "subject": "Phone call: invoice question", "message": "Customer called about invoice 123.",
        "status": 1, "priority": 2, "department": dept.pk, "client": org.pk, "assignees": [superuser.pk],
        "new_tags": "phone", "time_spent": "5", "custom_fields": "{}", "metadata": "{}",
    })
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response.url == reverse("admin:helpdesk_ticket_changelist")
    assert ticket.channel == Channel.WEB and ticket.creator == superuser
    assert list(ticket.tags.values_list("name", flat=True)) == ["phone"]
    assert list(ticket.assignees.all()) == [superuser]
    assert StatusChange.objects.filter(ticket=ticket, from_status=None, to_status_id=1).count() == 1


def test_adding_a_ticket_with_missing_fields_shows_errors(su_client):
    response = su_client.post(reverse("admin:helpdesk_ticket_add"), {"subject": "", "custom_fields": "{}", "metadata": "{}"})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert {"subject", "department", "client"} <= set(errors)
    assert not Ticket.objects.exists()


def _page_queries(client, ticket):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(change_url(ticket))
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("with_links", [False, True])
def test_ticket_page_query_count_does_not_grow_with_replies(su_client, superuser, make_ticket, with_links):
    extra = {}
    if with_links:
        extra = {"requester": factories.UserFactory(), "assignees": [superuser], "tags": ["a", "b"]}
    ticket = make_ticket(**extra)
    for i in range(3):
        services.reply_post(ticket=ticket, author=superuser, text=f"r{i}", silent=True)
    _page_queries(su_client, ticket)  # warm Django's content type cache
    few = _page_queries(su_client, ticket)
    authors = [factories.AgentFactory(), factories.AgentFactory(), factories.UserFactory()]
    for i in range(30):
        kind = "reply" if i % 3 == 2 else "note"
        services.reply_post(ticket=ticket, author=authors[i % 3], text=f"n{i}", type=kind, silent=True)
        services.ticket_change_status(ticket=ticket, status=TicketStatus.objects.get(pk=(i % 5) + 1), silent=True)
    many = _page_queries(su_client, ticket)
    assert many == few
    assert many <= 25, many


def test_a_form_error_keeps_the_conversation_on_the_page(su_client, superuser, make_ticket):
    ticket = make_ticket()
    services.reply_post(ticket=ticket, author=superuser, text="Earlier answer", silent=True)
    response = su_client.post(change_url(ticket), form_data(ticket, subject=""))
    html = response.content.decode()
    assert response.status_code == 200 and "subject" in response.context["adminform"].form.errors
    assert "Earlier answer" in html and 'id="status-history"' in html
    assert "Cannot log in" in html[: html.index('id="conversation"')]  # the summary shows the saved subject


def test_ticket_page_pickers_link_only_where_an_agent_can_look(su_client, make_ticket):
    ticket = make_ticket(requester=factories.UserFactory())
    html = su_client.get(change_url(ticket)).content.decode()
    for name in ("client", "project", "requester"):
        assert f'id="view_id_{name}"' in html
    for name in ("status", "department", "assignees", "tags"):
        assert f'id="view_id_{name}"' not in html and f'id="add_id_{name}"' not in html
    assert 'class="related-widget-wrapper-link add-related"' not in html
    assert "change-related" not in html and "delete-related" not in html


def test_without_user_autocomplete_people_are_raw_ids_not_a_select_of_all_users(su_client, make_ticket, monkeypatch):
    monkeypatch.setattr("helpdesk.admin.tickets.user_autocomplete_available", lambda site: False)
    requester = factories.UserFactory()
    ticket = make_ticket(requester=requester)
    response = su_client.get(change_url(ticket))
    html = response.content.decode()
    assert '<select name="requester"' not in html and '<select name="assignees"' not in html
    assert re.search(r'<input[^>]*name="requester"[^>]*value="%d"' % requester.pk, html) or re.search(
        r'<input[^>]*value="%d"[^>]*name="requester"' % requester.pk, html
    )
    response = su_client.post(change_url(ticket), form_data(ticket, requester=str(requester.pk), subject="Renamed"))
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.subject == "Renamed" and ticket.requester_id == requester.pk


def test_saving_over_a_newer_change_is_refused_and_names_who_made_it(su_client, make_ticket, group_agent):
    ticket = make_ticket()
    shown = su_client.get(change_url(ticket)).context["adminform"].form["version"].value()
    assert shown
    # Meanwhile another agent changes the status.
    services.ticket_change_status(ticket=ticket, status=TicketStatus.objects.get(pk=3), by=group_agent)
    stale = Ticket.objects.get(pk=ticket.pk)
    r = su_client.post(change_url(ticket), form_data(stale, subject="My edit", version=shown))
    assert r.status_code == 200
    html = r.content.decode()
    assert "Sam Rivera changed this ticket at" in html
    assert Ticket.objects.get(pk=ticket.pk).subject == "Cannot log in"
    # With the page reloaded, the same edit saves.
    fresh = su_client.get(change_url(ticket)).context["adminform"].form["version"].value()
    r = su_client.post(change_url(ticket), form_data(stale, subject="My edit", version=fresh))
    assert r.status_code == 302, r.content[:2000]
    assert Ticket.objects.get(pk=ticket.pk).subject == "My edit"


def test_send_reply_over_a_newer_change_is_refused_and_keeps_the_reply(su_client, make_ticket, group_agent):
    """The one-form page: "Send reply" saves the details too, so a stale page refuses it whole."""
    ticket = make_ticket()
    shown = su_client.get(change_url(ticket)).context["adminform"].form["version"].value()
    services.ticket_change_status(ticket=ticket, status=TicketStatus.objects.get(pk=3), by=group_agent)
    stale = Ticket.objects.get(pk=ticket.pk)
    r = su_client.post(change_url(ticket), form_data(
        stale, subject="My edit", version=shown, reply_text="On it", _reply="1"))
    assert r.status_code == 200
    html = r.content.decode()
    assert "Sam Rivera changed this ticket at" in html
    assert ">On it</textarea>" in html  # the reply being written is still in the box
    assert not ticket.replies.exists() and Ticket.objects.get(pk=ticket.pk).subject == "Cannot log in"
