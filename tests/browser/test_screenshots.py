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


def test_screenshots(live_server, browser, helpdesk_rows):
    build(tickets=48)
    out = Path(OUT)
    out.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1680, "height": 960}, locale="en-US", device_scale_factor=1)
    # Start with Django's navigation sidebar collapsed: more room for the list.
    context.add_init_script("localStorage.setItem('django.admin.navSidebarIsOpen', 'false')")
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")

    page.goto(f"{live_server.url}/admin/helpdesk/ticket/")
    page.screenshot(path=out / "ticket-list.png")

    ticket = (
        Ticket.objects.filter(notes_count__gte=1).exclude(status_id=1).order_by("-replies_count", "-notes_count").first()
    )
    page.goto(f"{live_server.url}/admin/helpdesk/ticket/{ticket.pk}/change/")
    page.set_viewport_size({"width": 1680, "height": 1150})
    page.screenshot(path=out / "ticket-page.png")

    page.set_viewport_size({"width": 1680, "height": 960})
    page.goto(f"{live_server.url}/admin/helpdesk/ticket/overview/")
    page.screenshot(path=out / "overview.png")
    context.close()
    for name in ("ticket-list.png", "ticket-page.png", "overview.png"):
        assert (out / name).stat().st_size > 10_000
