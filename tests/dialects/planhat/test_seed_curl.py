"""The Planhat seeds' own curl commands, run verbatim by the real curl binary against a
live server; only the host and the token are replaced (and the legacy page's missing
line-continuation backslash added)."""

import re

import pytest

from helpdesk.models import Ticket
from tests import factories
from tests.dialects.conftest import SEEDS, SHARED_SEEDS, new_key, run_curl

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("default_statuses")]

PAGE = (SEEDS / "planhat-tickets.md").read_text()
LEGACY = (SEEDS / "planhat-tickets-legacy.md").read_text()
PUT = re.search(r"curl --location -g --request PUT .*?\]'", PAGE, re.S).group(0)
GET = re.search(r"curl --location -g --request GET .*?\{\{apiToken\}\}'", PAGE, re.S).group(0)
DELETE = re.search(r"curl --location -g --request DELETE .*?\{\{apiToken\}\}'", PAGE, re.S).group(0)
LEGACY_PUT = re.search(r"curl -X PUT \\\n--user.*?https://api\.planhat\.com/tickets", LEGACY, re.S).group(0)


@pytest.mark.parametrize("name", ["planhat-tickets.md", "planhat-tickets-legacy.md", "spp-tickets.md"])
def test_our_copy_is_the_seed(name):
    if not (SHARED_SEEDS / name).exists():
        pytest.skip("the shared seeds are not checked out here")
    assert (SEEDS / name).read_text() == (SHARED_SEEDS / name).read_text()


def live(command, live_server, key):
    return command.replace("https://api.planhat.com", f"{live_server.url}/planhat").replace(
        "{{apiToken}}", key).replace("[PERSONAL_ACCESS_TOKEN]", key)


def test_put_get_delete_exactly_as_the_seed_shows(live_server):
    factories.DepartmentFactory(is_default=True)
    # The seed's companyId is a Planhat company id: a client that carries it as its external id.
    company = factories.ClientFactory(name="Planhat customer", external_id="61006bc89a3e0b702ed8ea49")
    key = new_key(factories.SuperuserFactory())

    status, headers, body = run_curl(live(PUT, live_server, key))
    assert status == 200, body
    assert (body["created"], body["updated"]) == (1, 0)
    ticket = Ticket.objects.get()
    assert ticket.client == company and ticket.external_source == "freshdesk" and ticket.external_id == "119"

    status, _headers, body = run_curl(live(PUT, live_server, key))
    assert (status, body["created"], body["updated"]) == (200, 0, 1)

    status, _headers, body = run_curl(live(GET, live_server, key))
    assert status == 200
    assert isinstance(body, list) and len(body) == 1
    obj = body[0]
    assert obj["_id"] == str(ticket.pk) and obj["externalId"] == "119" and obj["source"] == "freshdesk"
    assert obj["subject"] == "Test Ticket" and obj["snippet"] == "Let have a chat?"
    assert obj["email"] == "ojpsoi57pzn@gmail.com" and obj["status"] == "Open" and obj["isOpen"] is True
    assert obj["history"] == [{"status": "Open", "time": "2019-12-15T09:09:08.000Z"}]
    assert obj["companyId"] == str(company.pk) and obj["companyName"] == "Planhat customer"
    assert obj["url"] == "http://urltoyourticket.com/119"

    status, _headers, body = run_curl(live(DELETE.replace(":_id", str(ticket.pk)), live_server, key))
    assert status == 200
    assert body["_id"] == str(ticket.pk) and body["subject"] == "Test Ticket"
    assert not Ticket.objects.exists()
    status, _headers, body = run_curl(live(DELETE.replace(":_id", str(ticket.pk)), live_server, key))
    assert status == 404 and body["error"]["code"] == "not_found"


def test_the_legacy_put_with_basic_credentials(live_server):
    factories.DepartmentFactory(is_default=True)
    factories.ClientDomainFactory(domain="customer.com")
    key = new_key(factories.AgentFactory())
    # The page's only defect: the --user line lacks its line-continuation backslash.
    command = LEGACY_PUT.replace('--user "[PERSONAL_ACCESS_TOKEN]"\n', '--user "[PERSONAL_ACCESS_TOKEN]" \\\n')
    assert command != LEGACY_PUT

    status, _headers, body = run_curl(live(command, live_server, key))
    assert status == 200, body
    assert body["created"] == 1
    ticket = Ticket.objects.get()
    assert ticket.external_source == "HomeGrownSupport" and ticket.status.title == "Closed"
    assert ticket.created_at.isoformat() == "2016-10-17T14:00:00+00:00"
    assert ticket.updated_at.isoformat() == "2016-10-17T14:02:00+00:00"

    # sourceId alone (no source) finds the same ticket, as the legacy page promises.
    status, _headers, body = run_curl(live(
        command.replace('"source": "HomeGrownSupport", ', ""), live_server, key))
    assert (status, body["created"], body["updated"]) == (200, 0, 1)
    assert Ticket.objects.count() == 1
