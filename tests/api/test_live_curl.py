"""The seed's create example, sent by the real curl binary to a live server."""

import json
import shlex
import shutil
import subprocess

import pytest

from helpdesk.models import APIKey, Ticket
from tests import factories
from tests.api.test_seed_examples import COMMANDS


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
