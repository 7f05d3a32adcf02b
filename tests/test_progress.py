"""Progress of long commands: a rate and an ETA, plain lines in logs, nothing with --quiet."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from helpdesk import progress as progress_module
from helpdesk.models import Ticket
from helpdesk.progress import progress

from . import factories


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_in_a_log_each_update_is_a_whole_line_with_a_rate(monkeypatch):
    monkeypatch.setattr(progress_module, "LINE_INTERVAL", 0)
    log = io.StringIO()
    with progress(total=3, desc="Loading", unit="ticket", stream=log) as bar:
        for _ in range(3):
            bar.update()
    text = log.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert lines[0].startswith("Loading:  33%") and lines[-1].startswith("Loading: 100%")
    assert all("ticket/s" in line and "3/3" in lines[-1] for line in lines)
    assert len(lines) == len(set(lines)) == 3  # one line per count, the last not repeated


def test_on_a_terminal_it_is_a_redrawn_bar_with_an_eta():
    tty = Terminal()
    with progress(total=10, desc="Loading", unit="ticket", stream=tty) as bar:
        bar.update(5)
    assert "\r" in tty.getvalue()
    assert "<" in tty.getvalue()  # "[elapsed<remaining, rate]"


def test_quiet_writes_nothing():
    log = io.StringIO()
    with progress(total=3, desc="Loading", stream=log, quiet=True) as bar:
        bar.update(3)
    assert log.getvalue() == ""


@pytest.mark.django_db
def test_the_demo_shows_progress_on_stderr_and_keeps_stdout_for_the_login(monkeypatch):
    monkeypatch.setattr(progress_module, "LINE_INTERVAL", 0)
    out, err = io.StringIO(), io.StringIO()
    call_command("helpdesk_demo", "--tickets", "20", "--force", stdout=out, stderr=err)
    assert "Demo tickets: 100%" in err.getvalue() and "Saving: 100%" in err.getvalue()
    assert "\r" not in err.getvalue()
    assert "API key:" in out.getvalue() and "Demo tickets" not in out.getvalue()
    assert Ticket.objects.count() == 20


@pytest.mark.django_db
def test_the_demo_with_quiet_shows_no_progress():
    err = io.StringIO()
    call_command("helpdesk_demo", "--tickets", "5", "--quiet", "--force", stdout=io.StringIO(), stderr=err)
    assert err.getvalue() == ""


@pytest.mark.django_db
def test_a_large_demo_has_no_colliding_external_ids():
    # Random external ids collided past a few thousand tickets (an IntegrityError).
    call_command("helpdesk_demo", "--tickets", "4000", "--quiet", "--force", stdout=io.StringIO())
    keys = list(Ticket.objects.exclude(external_id=None).values_list("external_source", "external_id"))
    assert len(keys) > 100 and len(keys) == len(set(keys))


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="search documents exist on PostgreSQL only")
def test_the_search_rebuild_counts_every_ticket_across_its_batches(monkeypatch):
    monkeypatch.setattr(progress_module, "LINE_INTERVAL", 0)
    tickets = factories.TicketFactory.create_batch(5)
    Ticket.objects.filter(pk=tickets[2].pk).delete()  # a gap in the ids
    err, out = io.StringIO(), io.StringIO()
    call_command("helpdesk_search_rebuild", "--batch", "2", stdout=out, stderr=err)
    assert "Rebuilt 4 search documents" in out.getvalue()
    assert err.getvalue().splitlines()[-1].startswith("Search documents: 100%")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM helpdesk_ticket_search")
        assert cursor.fetchone()[0] == 4
