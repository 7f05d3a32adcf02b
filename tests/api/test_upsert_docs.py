"""The curl examples of docs/sync.md work against the API, as written."""

from pathlib import Path

import pytest

from helpdesk.models import Ticket
from tests import factories
from tests.api import curl

DOCS = Path(__file__).resolve().parents[2] / "docs" / "sync.md"
COMMANDS = curl.commands_in(DOCS)


def test_the_docs_have_examples():
    assert len(COMMANDS) == 2


@pytest.mark.parametrize("command", COMMANDS, ids=["json", "form"])
def test_example_works_and_is_idempotent(api, command):
    factories.DepartmentFactory(is_default=True)

    first = curl.run(api, curl.parse(command), api.key)
    again = curl.run(api, curl.parse(command), api.key)

    assert first.status_code == again.status_code == 200, first.content
    assert (first.json()["created"], again.json()["updated"]) == (1, 1)
    assert Ticket.objects.get().client.name == "customer.com"
