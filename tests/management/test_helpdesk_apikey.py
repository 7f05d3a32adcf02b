"""``manage.py helpdesk_apikey``: the printed key works against the API, and can be revoked."""

import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from helpdesk.models import APIKey

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("helpdesk_apikey", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_prints_only_a_working_key(agent):
    out, _ = run("create", agent.username, "--name", "Zendesk sync")
    key = out.strip()
    assert out == key + "\n" and "." in key
    row = APIKey.objects.get()
    assert row.name == "Zendesk sync" and row.user == agent
    assert key not in row.hashed_key and row.prefix == key.split(".")[0]
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert c.get("/api/tickets").status_code == 200


def test_expiry_and_revoke(agent):
    key = run("create", agent.username, "--expires", "2999-01-01")[0].strip()
    assert APIKey.objects.get().expires_at.year == 2999
    listing = run("list")[0]
    assert key.split(".")[0] in listing and "active" in listing
    run("revoke", key.split(".")[0])
    assert APIKey.objects.get().revoked
    assert "revoked" in run("list", agent.username)[0]
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert c.get("/api/tickets").status_code == 401


@pytest.mark.parametrize("args", [("create", "nobody"), ("create", "{u}", "--expires", "tomorrow"),
                                  ("create", "{u}", "--expires", "2000-01-01"), ("revoke", "nope")])
def test_errors(agent, args):
    with pytest.raises(CommandError):
        run(*[a.format(u=agent.username) for a in args])
    assert not APIKey.objects.filter(revoked=False).exists()
