"""axe-core (the copy that the PyPI package axe-playwright-python ships) on the ticket list, the
ticket page and the overview: no serious or critical violation; and the agent's main
actions reachable by keyboard alone."""

import json
import os
from pathlib import Path

import pytest

from helpdesk.models import Ticket
from tests import factories

from .demo_data import build

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def axe_script() -> str:
    try:
        import axe_playwright_python
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("axe-playwright-python is not installed (required under CI)", pytrace=False)
        pytest.skip("axe-playwright-python is not installed: pip install -r requirements.txt")
    return str(Path(axe_playwright_python.__file__).parent / "axe.min.js")


def serious_violations(page):
    page.add_script_tag(path=axe_script())
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [n["target"] for n in v["nodes"][:5]]}
        for v in result["violations"] if v["impact"] in ("serious", "critical")
    ]


@pytest.fixture
def demo(helpdesk_rows):
    factories.SLAPolicyFactory(name="Standard", first_response_minutes=240, resolution_minutes=2880)
    factories.CannedReplyFactory(title="Greeting")
    return build(tickets=24)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_no_serious_violations_on_list_page_and_overview(live_server, browser, login, demo, theme):
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="en-US", color_scheme=theme)
    page = context.new_page()
    login(page)
    ticket = Ticket.objects.filter(status__is_closed=False).order_by("-replies_count").first()
    found = {}
    for name, url in {
        "list": "/admin/helpdesk/ticket/",
        "ticket": f"/admin/helpdesk/ticket/{ticket.pk}/change/",
        "overview": "/admin/helpdesk/ticket/overview/",
    }.items():
        page.goto(live_server.url + url)
        found[name] = serious_violations(page)
    context.close()
    assert found == {"list": [], "ticket": [], "overview": []}, json.dumps(found, indent=1)


def test_every_main_action_is_reachable_by_keyboard(live_server, page, login, demo):
    login(page)
    page.goto(f"{live_server.url}/admin/helpdesk/ticket/")
    reached = set()
    for _ in range(80):
        page.keyboard.press("Tab")
        reached.add(page.evaluate(
            "() => { const e = document.activeElement; return (e.dataset && e.dataset.view) || e.name || e.id || e.textContent.trim().slice(0, 30); }"))
    for view in ("mine", "unassigned", "open", "waiting", "breaching"):
        assert view in reached, (view, reached)
    assert "q" in reached  # the search box
    assert "action" in reached  # the bulk actions

    ticket = Ticket.objects.filter(status__is_closed=False).first()
    page.goto(f"{live_server.url}/admin/helpdesk/ticket/{ticket.pk}/change/")
    reached = set()
    for _ in range(60):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("() => document.activeElement.name || document.activeElement.id"))
    for name in ("reply_type", "canned_reply", "reply_text", "reply_files", "status", "_reply"):
        assert name in reached, (name, reached)
    # Type a reply and send it from the keyboard.
    page.focus("#id_reply_text")
    page.keyboard.type("Sent from the keyboard.")
    page.keyboard.press("Tab")  # Attach files
    page.keyboard.press("Tab")  # the status picker
    page.keyboard.press("Tab")  # Send reply
    assert page.evaluate("() => document.activeElement.name") == "_reply"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert ticket.replies.filter(text="Sent from the keyboard.").exists()
