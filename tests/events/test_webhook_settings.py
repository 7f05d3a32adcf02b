"""The webhook settings' system checks (helpdesk.E030-E032) and the demo's switch."""

import pytest

from helpdesk.checks import check_settings


@pytest.mark.parametrize("value, expected", [
    ({"WEBHOOK_MAX_ATTEMPTS": 0}, "helpdesk.E030"),
    ({"WEBHOOK_DISABLE_AFTER_FAILURES": "20"}, "helpdesk.E030"),
    ({"WEBHOOK_MAX_RESPONSE_BYTES": True}, "helpdesk.E030"),
    ({"WEBHOOK_TIMEOUT_SECONDS": 0}, "helpdesk.E031"),
    ({"WEBHOOK_TIMEOUT_SECONDS": 600}, "helpdesk.E031"),
    ({"WEBHOOK_RETRY_BACKOFF_SECONDS": -1}, "helpdesk.E031"),
    ({"WEBHOOK_RETRY_MAX_DELAY_SECONDS": "1h"}, "helpdesk.E031"),
    ({"WEBHOOK_ALLOW_PRIVATE": "yes"}, "helpdesk.E032"),
])
def test_bad_webhook_settings_are_reported(settings, value, expected):
    settings.HELPDESK = value
    assert [e.id for e in check_settings()] == [expected]


def test_good_webhook_settings_pass(settings):
    settings.HELPDESK = {"WEBHOOK_TIMEOUT_SECONDS": 2.5, "WEBHOOK_ALLOW_PRIVATE": True, "WEBHOOK_MAX_ATTEMPTS": 3,
                         "WEBHOOK_RETRY_BACKOFF_SECONDS": 0}
    assert check_settings() == []


def test_the_demo_allows_private_webhooks_from_its_environment():
    import os
    import subprocess
    import sys

    code = "import django; django.setup(); from helpdesk.conf import helpdesk_settings as s; print(s.WEBHOOK_ALLOW_PRIVATE)"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    off = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    on = subprocess.run([sys.executable, "-c", code], env={**env, "HELPDESK_WEBHOOK_ALLOW_PRIVATE": "1"},
                        capture_output=True, text=True, check=True)
    assert (off.stdout.strip(), on.stdout.strip()) == ("False", "True")
