"""Playwright (sync API) driving Debian's Chromium against pytest-django's live server.

Never ``playwright install``: the browser is Debian's ``chromium`` package (installed by
``.ci/run``). Without /usr/bin/chromium the tests skip with the reason, except under CI
(the ``CI`` environment variable), where a missing browser is a failure.
"""

import importlib
import os
import shutil

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM (used by the test
# to arrange data) would otherwise refuse to run next to it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


def _unavailable(reason):
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required under CI)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        _unavailable(f"{CHROMIUM} is missing: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed: pip install -r requirements.txt")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def helpdesk_rows(transactional_db):
    """What a flushed database lacks after a transactional test: the default statuses and the agents group."""
    from helpdesk.models import TicketStatus
    from helpdesk.permissions import ensure_agent_group

    migration = importlib.import_module("helpdesk.migrations.0002_default_statuses_and_agent_group")
    for pk, title, order, is_closed, colour in migration.STATUSES:
        TicketStatus.objects.update_or_create(
            pk=pk, defaults={"title": title, "order": order, "is_closed": is_closed, "colour": colour}
        )
    ensure_agent_group()  # the group with its permissions, as migrations 0002 and 0010 leave it


@pytest.fixture
def login(live_server):
    def do(page, username="admin", password="pw"):
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("input[type=submit]")
        page.wait_for_url(f"{live_server.url}/admin/")
    return do
