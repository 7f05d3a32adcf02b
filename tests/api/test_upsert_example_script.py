"""docs/examples/sync_tickets.py, run against a live server: it syncs, re-syncs safely,
and reports the items the helpdesk refused."""

import importlib.util
import json
from pathlib import Path

import pytest

from helpdesk.models import APIKey, Ticket, TicketStatus
from tests import factories


SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "examples" / "sync_tickets.py"


def load_script():
    spec = importlib.util.spec_from_file_location("sync_tickets", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXPORT = [
    {"id": 1, "subject": "Printer on fire", "description": "Help", "url": "https://zd.example/1",
     "requester": {"email": "ann@acme.com", "name": "Ann Lee"}, "status": "solved", "priority": "high",
     "tags": ["hardware"], "created_at": "2025-01-01T10:00:00Z", "updated_at": "2025-01-02T10:00:00Z",
     "status_history": [{"status": "new", "at": "2025-01-01T10:00:00Z"}, {"status": "solved", "at": "2025-01-02T09:00:00Z"}]},
    {"id": 2, "subject": "Invoice", "requester": {"email": "bob@acme.com"}, "status": "open", "priority": "low",
     "assignee": {"email": "agent@helpdesk.example"}},
    {"id": 3, "subject": "Broken", "requester": {"email": "not-an-email"}},
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("default_statuses")
def test_the_example_script_syncs_and_resyncs(live_server, tmp_path, monkeypatch, capsys):
    factories.DepartmentFactory(is_default=True)
    factories.ClientDomainFactory(domain="acme.com")
    agent = factories.AgentFactory(email="agent@helpdesk.example")
    _row, key = APIKey.objects.create_key(user=agent, name="zendesk")
    export = tmp_path / "export.json"
    export.write_text(json.dumps(EXPORT))
    monkeypatch.setenv("HELPDESK_URL", f"{live_server.url}/api")
    monkeypatch.setenv("HELPDESK_KEY", key)
    monkeypatch.setattr("sys.argv", ["sync_tickets.py", str(export), "--source", "zendesk"])
    script = load_script()

    assert script.main() == 1  # one item refused
    out, err = capsys.readouterr()
    assert "created 2, updated 0, failed 1" in out
    assert "item 2 (sourceId 3): email" in err
    first = Ticket.objects.get(external_id="1")
    assert (first.status_id, first.priority_slug, first.subject) == (TicketStatus.CLOSED, "high", "Printer on fire")
    assert first.status_changes.count() == 2
    assert list(Ticket.objects.get(external_id="2").assignees.all()) == [agent]

    assert script.main() == 1
    out, _ = capsys.readouterr()
    assert "created 0, updated 2, failed 1" in out
    assert Ticket.objects.count() == 2
