"""Regenerates the README's screenshots from demo-like data (opt-in, not part of the suite):

    HELPDESK_SCREENSHOTS=docs/screenshots .venv/bin/python -m pytest tests/browser/test_screenshots.py
"""

import os
from pathlib import Path

import pytest

from helpdesk.models import Ticket

from .demo_data import build

OUT = os.environ.get("HELPDESK_SCREENSHOTS")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not OUT, reason="set HELPDESK_SCREENSHOTS=<dir> to regenerate the screenshots"),
]


def _login(page, live_server):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


SHOTS = ("ticket-list.png", "ticket-page.png", "overview.png", "phone-list.png", "phone-ticket.png",
         "dark-ticket-list.png", "dark-ticket-page.png")


def test_screenshots(live_server, browser, helpdesk_rows):
    from tests import factories

    factories.SLAPolicyFactory(name="Standard", first_response_minutes=240, resolution_minutes=2880)
    factories.SLAPolicyFactory(name="Urgent", priority=3, first_response_minutes=30, resolution_minutes=480)
    factories.CannedReplyFactory(title="Asking for a screenshot",
                                 body="Hi {{ requester.first_name }}, could you send us a screenshot of the error?")
    build(tickets=48)
    out = Path(OUT)
    out.mkdir(parents=True, exist_ok=True)
    ticket = (
        Ticket.objects.filter(notes_count__gte=1, status__is_closed=False).order_by("-replies_count", "-notes_count").first()
    )
    for scheme, prefix in (("light", ""), ("dark", "dark-")):
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US", device_scale_factor=1,
                                      color_scheme=scheme)
        page = context.new_page()
        _login(page, live_server)
        page.goto(f"{live_server.url}/admin/helpdesk/ticket/")
        page.screenshot(path=out / f"{prefix}ticket-list.png")
        page.goto(f"{live_server.url}/admin/helpdesk/ticket/{ticket.pk}/change/")
        page.set_viewport_size({"width": 1440, "height": 1300})
        page.screenshot(path=out / f"{prefix}ticket-page.png")
        if not prefix:
            page.set_viewport_size({"width": 1440, "height": 1250})
            page.goto(f"{live_server.url}/admin/helpdesk/ticket/overview/")
            page.screenshot(path=out / "overview.png")
        context.close()

    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US", device_scale_factor=2,
                                is_mobile=True, has_touch=True)
    page = phone.new_page()
    _login(page, live_server)
    page.goto(f"{live_server.url}/admin/helpdesk/ticket/")
    page.screenshot(path=out / "phone-list.png")
    page.goto(f"{live_server.url}/admin/helpdesk/ticket/{ticket.pk}/change/")
    page.locator("#reply").scroll_into_view_if_needed()
    page.screenshot(path=out / "phone-ticket.png")
    phone.close()
    for name in SHOTS:
        assert (out / name).stat().st_size > 10_000
