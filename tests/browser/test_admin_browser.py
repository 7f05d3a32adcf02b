"""An agent's day in a real browser: log in, filter, open a ticket, reply, note, change
status, run bulk actions; each step asserts what the page shows."""

import re

import pytest

from helpdesk import services
from helpdesk.models import ActiveState, Ticket
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk(helpdesk_rows):
    admin = factories.SuperuserFactory(username="admin", first_name="Alex", last_name="Morgan")
    support = factories.DepartmentFactory(name="Support")
    acme = factories.ClientFactory(name="Acme Inc")
    globex = factories.ClientFactory(name="Globex")
    make = lambda **kw: services.ticket_create(department=support, message="Details inside.", silent=True, **kw)  # noqa: E731
    tickets = {
        "login": make(subject="Cannot log in", client=acme, priority="urgent"),
        "invoice": make(subject="Invoice has the wrong VAT", client=globex, priority="high"),
        "export": make(subject="Export to CSV times out", client=globex),
        "sso": make(subject="SSO stopped working", client=acme, priority="urgent"),
    }
    return {"admin": admin, "tickets": tickets, "globex": globex}


def navigate(page, action):
    """Run ``action`` (a click, a key press) and wait for the page it loads."""
    with page.expect_navigation():
        action()


def visible_subjects(page):
    return page.locator("#result_list .field-subject_line .hd-subject").all_inner_texts()


def test_agent_filters_replies_notes_and_changes_status(live_server, page, login, desk):
    login(page)
    assert page.get_by_role("link", name="Overview", exact=True).first.is_visible()  # the overview in the index

    page.goto(f"{live_server.url}/admin/helpdesk/ticket/")
    assert len(visible_subjects(page)) == 4
    # A plain filter link.
    page.locator("#changelist-filter details[data-filter-title='priority'] a", has_text="urgent").click()
    page.wait_for_url(re.compile(r"priority__exact=3"))
    assert sorted(visible_subjects(page)) == ["Cannot log in", "SSO stopped working"]
    assert set(page.locator("#result_list .hd-priority").all_inner_texts()) == {"urgent"}

    # The client filter: Django's autocomplete, searching as you type.
    page.goto(f"{live_server.url}/admin/helpdesk/ticket/")
    page.locator("#changelist-filter details[data-filter-title='client'] .select2-selection").click()
    page.locator(".select2-search__field").fill("glob")
    page.locator(".select2-results__option", has_text="Globex").click()
    page.wait_for_url(re.compile(rf"client__id__exact={desk['globex'].pk}"))
    assert sorted(visible_subjects(page)) == ["Export to CSV times out", "Invoice has the wrong VAT"]

    # Search by id.
    ticket = desk["tickets"]["export"]
    page.fill("#searchbar", f"#{ticket.pk}")
    page.press("#searchbar", "Enter")
    page.wait_for_url(re.compile(r"q=%23"))
    assert visible_subjects(page) == ["Export to CSV times out"]

    # Open it, reply to the customer.
    page.locator("#result_list a", has_text="Export to CSV times out").click()
    page.wait_for_url(re.compile(rf"/ticket/{ticket.pk}/change/"))
    assert page.locator(".hd-ticket-head").inner_text().count("Globex") == 1
    page.fill("#id_reply_text", "We are on it; a fix ships today.")
    page.locator("#reply button[type=submit]").click()
    page.wait_for_url(re.compile(r"#reply-\d+"))
    assert page.locator("ul.messagelist").inner_text().strip() == "Reply posted."
    agent_reply = page.locator("article.hd-msg-agent")
    assert "We are on it; a fix ships today." in agent_reply.inner_text()
    assert "Alex Morgan" in agent_reply.inner_text()

    # An internal note looks different before and after posting.
    page.locator("#reply input[value=note]").check()
    assert "hd-is-note" in page.locator("#reply").get_attribute("class")
    assert page.locator("#reply button[type=submit]").inner_text() == "Add note"
    page.fill("#id_reply_text", "Customer is on the enterprise plan.")
    navigate(page, lambda: page.locator("#reply button[type=submit]").click())
    note = page.locator("article.hd-msg-note")
    assert note.count() == 1
    assert "Customer is on the enterprise plan." in note.inner_text()
    assert "INTERNAL NOTE" in note.inner_text().upper()

    # Change the status on the form; the timeline shows it.
    page.select_option("#id_status", label="Closed")
    navigate(page, lambda: page.click("input[name=_continue]"))
    assert "was changed successfully" in page.locator("ul.messagelist").inner_text()
    timeline = page.locator("#status-history").inner_text()
    assert timeline.index("Open") < timeline.index("Closed")
    assert page.locator(".hd-ticket-head .hd-status").inner_text() == "Closed"
    ticket.refresh_from_db()
    assert (ticket.status.title, ticket.replies_count, ticket.notes_count) == ("Closed", 1, 1)


def test_agent_runs_bulk_actions(live_server, page, login, desk):
    login(page)
    page.goto(f"{live_server.url}/admin/helpdesk/ticket/?priority__exact=3")
    page.locator("#action-toggle").check()
    tag_box = page.locator("#changelist-form input[name=tag]")
    assert not tag_box.is_visible()  # only shown for "Add a tag"
    page.select_option("#changelist-form select[name=action]", "assign_to_me")
    navigate(page, lambda: page.click("#changelist-form button[name=index]"))
    assert "2 tickets assigned to you." in page.locator("ul.messagelist").inner_text()
    assert set(page.locator("#result_list td.field-assignee_list").all_inner_texts()) == {"Alex Morgan"}

    page.locator("#action-toggle").check()
    page.select_option("#changelist-form select[name=action]", "add_tag")
    assert tag_box.is_visible()
    tag_box.fill("escalated")
    navigate(page, lambda: page.click("#changelist-form button[name=index]"))
    assert "Tagged 2 tickets with escalated." in page.locator("ul.messagelist").inner_text()

    page.locator("#result_list input[name=_selected_action]").first.check()
    page.select_option("#changelist-form select[name=action]", label="Set status: On Hold")
    navigate(page, lambda: page.click("#changelist-form button[name=index]"))
    assert "1 ticket set to On Hold." in page.locator("ul.messagelist").inner_text()
    assert "On Hold" in page.locator("#result_list td.field-status_display").all_inner_texts()

    page.locator("#action-toggle").check()
    page.select_option("#changelist-form select[name=action]", "archive")
    navigate(page, lambda: page.click("#changelist-form button[name=index]"))
    assert "2 tickets archived." in page.locator("ul.messagelist").inner_text()
    assert visible_subjects(page) == []  # archived tickets leave the default list
    assert Ticket.objects.filter(active_state=ActiveState.ARCHIVED).count() == 2

    page.goto(f"{live_server.url}/admin/helpdesk/ticket/overview/?refresh=1")  # not another test's cached figures
    assert page.locator("[data-figure=open]").inner_text() == "2"
    assert page.locator("svg.hd-chart g.hd-day").count() == 30
