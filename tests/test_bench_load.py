"""``python -m bench.load --smoke``: gunicorn behind wrk for a few seconds, 0 errors."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_load_command_runs_the_mix_with_no_errors():
    if shutil.which("wrk") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("wrk is required in CI (apt-get install wrk; .ci/run does it)")
        pytest.skip("wrk is not installed")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    done = subprocess.run([sys.executable, "-m", "bench.load", "--smoke"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    [level] = report["results"]
    assert level["requests"] > 0 and level["errors"] == 0
    assert set(level["kinds"]) == {"list", "detail", "search", "replies", "reply", "create", "status"}
    assert level["p50_ms"] <= level["p95_ms"] <= level["p99_ms"]
    assert level["app_cpu_ms_per_request"] > 0


@pytest.mark.django_db
def test_a_reused_database_loses_the_tickets_earlier_runs_created_and_keeps_the_seeded_ones():
    from bench.load import forget_earlier_runs
    from helpdesk.models import Reply, Ticket
    from tests import factories

    seeded = [factories.TicketFactory() for _ in range(3)]
    created = [factories.TicketFactory() for _ in range(2)]
    Reply.objects.create(ticket=created[0], text="Thanks, we are on it")
    Reply.objects.create(ticket=seeded[0], text="A reply a run added to a seeded ticket")
    forget_earlier_runs(3)
    assert sorted(Ticket.objects.values_list("pk", flat=True)) == sorted(t.pk for t in seeded)
    assert list(Reply.objects.values_list("ticket_id", flat=True)) == [seeded[0].pk]
    forget_earlier_runs(3)  # nothing more to delete
    assert Ticket.objects.count() == 3
