"""Every curl example of docs/dialects/*.md, run by the real curl binary against a live
server (only the host and the key are replaced), so the pages stay true."""

import re
from pathlib import Path

import pytest

from helpdesk.models import Ticket
from tests import factories
from tests.dialects.conftest import new_key, run_curl

DOCS = Path(__file__).resolve().parents[2] / "docs" / "dialects"
pytestmark = [pytest.mark.django_db(transaction=True, reset_sequences=True), pytest.mark.usefixtures("default_statuses")]


def commands(page: str) -> list[str]:
    found = []
    for block in re.findall(r"```sh\n(.*?)```", (DOCS / page).read_text(), re.S):
        found.extend(re.findall(r"curl (?:[^\n]*\\\n)*[^\n]*", block))
    return found


def live(command, live_server, key):
    return command.replace("https://your-domain", live_server.url).replace("YOUR_API_KEY", key)


def test_planhat_page(live_server):
    factories.DepartmentFactory(is_default=True)
    factories.ClientDomainFactory(domain="customer.com", client__name="Customer")
    key = new_key(factories.SuperuserFactory())
    get, put, delete = commands("planhat.md")
    status, _h, body = run_curl(live(get, live_server, key))
    assert (status, body) == (200, [])
    status, _h, body = run_curl(live(put, live_server, key))
    assert status == 200 and body["created"] == 1, body
    status, _h, body = run_curl(live(get, live_server, key))
    assert status == 200 and body == []  # Escalated is not open: s=open matches nothing
    ticket = Ticket.objects.get()
    assert ticket.status.title == "Escalated"
    status, _h, body = run_curl(live(delete.replace("/57", f"/{ticket.pk}"), live_server, key))
    assert status == 200 and body["externalId"] == "5003X00002CDLbHQAX"
    assert not Ticket.objects.exists()


def test_spp_page(live_server):
    factories.DepartmentFactory(is_default=True)
    key = new_key(factories.SuperuserFactory())  # user 1: the employee of the example
    customer = factories.ContactFactory().user  # user 2: the example's user_id
    assert customer.pk == 2
    post, get_one, get_list = commands("spp.md")
    status, headers, body = run_curl(live(post, live_server, key))
    assert status == 201, body
    assert headers["x-api-identifier"] and headers["x-api-version"]
    assert body["user_id"] == 2 and body["employees"][0]["id"] == 1 and body["order_id"] == 123456
    status, _h, one = run_curl(live(get_one, live_server, key))
    assert status == 200 and one == body
    status, _h, page = run_curl(live(get_list, live_server, key))
    assert status == 200 and page["data"] == [body] and page["meta"]["total"] == 1
