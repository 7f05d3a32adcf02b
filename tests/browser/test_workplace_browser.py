"""The workplace in a real browser: no lost edit, a list that fits the screen, a Send
button a thumb can hit, and the success message in sight after posting."""

import re

import pytest

from helpdesk.models import Ticket
from tests import factories

from .demo_data import build

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(helpdesk_rows):
    # An SLA for every ticket, so the list is measured with its SLA lines.
    factories.SLAPolicyFactory(name="Standard", first_response_minutes=240, resolution_minutes=2880)
    return build(tickets=30)


def navigate(page, action):
    with page.expect_navigation():
        action()


def open_ticket(page, live_server):
    ticket = Ticket.objects.filter(status__is_closed=False).order_by("-replies_count").first()
    page.goto(f"{live_server.url}/admin/helpdesk/ticket/{ticket.pk}/change/")
    return ticket


def in_viewport(page, selector):
    box = page.locator(selector).first.bounding_box()
    size = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= size["height"] and box["x"] + box["width"] <= size["width"]


def test_edit_subject_then_send_reply_keeps_both(live_server, page, login, demo):
    login(page)
    ticket = open_ticket(page, live_server)
    page.fill("#id_subject", "Renamed while replying")
    page.fill("#id_reply_text", "Here is the answer.")
    navigate(page, lambda: page.get_by_role("button", name="Send reply").click())
    page.wait_for_url(re.compile(r"#reply-\d+$"))
    ticket.refresh_from_db()
    assert ticket.subject == "Renamed while replying"  # the edit was not thrown away
    assert page.locator("h1").inner_text() == f"#{ticket.pk} Renamed while replying"
    assert "Here is the answer." in page.locator("article.hd-msg-agent").last.inner_text()
    # Scrolled to the new reply, and the success message is still in sight.
    assert page.locator("ul.messagelist").inner_text().strip() == "Reply posted."
    assert in_viewport(page, "ul.messagelist")
    reply = page.locator(f"#reply-{ticket.replies.latest('created_at').pk}")
    assert in_viewport(page, f"#{reply.get_attribute('id')}"), reply.bounding_box()


def test_send_without_text_refuses_and_keeps_the_edit(live_server, page, login, demo):
    login(page)
    ticket = open_ticket(page, live_server)
    before = ticket.subject
    page.fill("#id_subject", "Edited subject")
    navigate(page, lambda: page.get_by_role("button", name="Send reply").click())
    assert "Write a message before sending" in page.locator("#reply").inner_text()
    assert page.locator("#id_subject").input_value() == "Edited subject"
    ticket.refresh_from_db()
    assert ticket.subject == before


def test_enter_in_a_details_field_saves_not_sends(live_server, page, login, demo):
    login(page)
    ticket = open_ticket(page, live_server)
    replies = ticket.replies.count()
    page.fill("#id_subject", "Saved with Enter")
    navigate(page, lambda: page.press("#id_subject", "Enter"))
    ticket.refresh_from_db()
    assert ticket.subject == "Saved with Enter" and ticket.replies.count() == replies
    assert "was changed successfully" in page.locator("ul.messagelist").inner_text()


def page_overflow(page):
    return page.evaluate(
        """() => {
            const doc = document.documentElement;
            const results = document.querySelector('#changelist .results');
            const table = document.querySelector('#result_list');
            return {
                page: doc.scrollWidth - doc.clientWidth,
                results: results.scrollWidth - results.clientWidth,
                tableRight: table.getBoundingClientRect().right,
                width: window.innerWidth,
            };
        }"""
    )


@pytest.mark.parametrize("width", [1280, 1440])
def test_list_fits_without_horizontal_scroll(live_server, page, login, demo, width):
    page.set_viewport_size({"width": width, "height": 900})
    login(page)
    page.goto(f"{live_server.url}/admin/helpdesk/ticket/?view=all")
    assert page.locator("#result_list tbody tr").count() >= 25
    overflow = page_overflow(page)
    assert overflow["page"] <= 0 and overflow["results"] <= 0, overflow
    assert overflow["tableRight"] <= width, overflow
    # Every column's header is on screen.
    for header in page.locator("#result_list thead th").all():
        box = header.bounding_box()
        assert box and box["x"] + box["width"] <= width


def test_phone_shows_id_subject_and_status(live_server, page, login, demo):
    page.set_viewport_size({"width": 390, "height": 844})
    login(page)
    page.goto(f"{live_server.url}/admin/helpdesk/ticket/")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() >= 20
    for row in rows.all():
        for cell in ("td.field-ticket_id", ".field-subject_line", "td.field-status_display"):
            box = row.locator(cell).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, (cell, box)
        assert row.locator(".hd-status").is_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def test_send_button_is_touch_sized_on_a_phone(live_server, page, login, demo):
    page.set_viewport_size({"width": 390, "height": 844})
    login(page)
    open_ticket(page, live_server)
    box = page.get_by_role("button", name="Send reply").bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44, box
