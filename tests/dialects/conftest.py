"""Fixtures of the dialect tests: keys per role, a default department, and real curl."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.cache import cache

from helpdesk.models import APIKey
from tests import factories
from tests.api.conftest import key_client

#: The seeds' API pages, copied here so the suite runs where /work/shared is not checked out.
SEEDS = Path(__file__).parent / "seeds"
SHARED_SEEDS = Path("/work/shared/seeds")


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def department(db):
    return factories.DepartmentFactory(name="Support", is_default=True)


@pytest.fixture
def agent_api(agent):
    return key_client(agent)


@pytest.fixture
def admin_api(db):
    return key_client(factories.SuperuserFactory())


def new_key(user) -> str:
    _row, key = APIKey.objects.create_key(user=user, name="dialect test")
    return key


def curl_binary() -> str:
    path = shutil.which("curl")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("curl is not installed (CI must have it)")
        pytest.skip("curl is not installed")
    return path


def run_curl(command: str) -> tuple[int, dict[str, str], object]:
    """Run a curl command line as written (quotes, continuations) and return
    (status, headers, parsed JSON body). No terminal: a password prompt reads nothing."""
    args = shlex.split(command.replace("\\\n", " "))
    assert args[0] == "curl", command
    args[0] = curl_binary()
    args[1:1] = ["-sS", "--max-time", "30", "-D", "-"]
    out = subprocess.run(
        args, capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL, start_new_session=True
    ).stdout
    out = out.replace("\r\n", "\n")
    # -D - writes every response's head (a redirect's too); the last one is the answer.
    while out.startswith("HTTP/") and "\n\n" in out:
        head, _sep, rest = out.partition("\n\n")
        if not rest.startswith("HTTP/"):
            break
        out = rest
    head, _sep, body = out.partition("\n\n")
    lines = head.split("\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _c, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, (json.loads(body) if body.strip() else None)
