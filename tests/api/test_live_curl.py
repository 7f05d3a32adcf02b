"""The seed's create example, sent by the real curl binary to a live server."""

import json
import shlex
import shutil
import subprocess

import pytest

from helpdesk.models import APIKey, Ticket
from tests import factories
from tests.api.test_seed_examples import COMMANDS


@pytest.fixture
def default_statuses(transactional_db):
    """The default statuses (a migration's data), which an earlier transactional test's flush removes."""
    import importlib

    from django.apps import apps
    from django.db import connection

    from helpdesk.models import TicketStatus

    if not TicketStatus.objects.exists():
        migration = importlib.import_module("helpdesk.migrations.0002_default_statuses_and_agent_group")
        with connection.schema_editor() as editor:
            migration.create_statuses(apps, editor)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("default_statuses")
def test_real_curl_creates_a_ticket(live_server):
    factories.ClientFactory(pk=1, name="Acme Inc")
    factories.DepartmentFactory(pk=72, name="Sales")
    _row, key = APIKey.objects.create_key(user=factories.AgentFactory(), name="curl")
    command = COMMANDS[1].replace("https://your-domain", live_server.url).replace("YOUR_API_KEY", key)
    args = shlex.split(command.replace("\\\n", " "))
    args[1:1] = ["-sS", "--max-time", "20", "-D", "-", "-H", "X-Request-Id: live-1"]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    head, _, body = out.replace("\r\n", "\n").partition("\n\n")
    assert head.startswith("HTTP/1.1 201"), out
    assert "X-Request-Id: live-1" in head and "X-Api-Version:" in head
    data = json.loads(body)["data"]
    assert data["subject"] == "Cannot log in" and data["source"] == "api"
    assert Ticket.objects.filter(pk=data["id"]).exists()
