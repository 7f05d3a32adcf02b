"""System checks: each misconfiguration is reported with its id."""

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from helpdesk.checks import check_settings


def ids(settings_value, settings):
    settings.HELPDESK = settings_value
    return [e.id for e in check_settings()]


@pytest.mark.django_db  # the model checks ask SQLite whether it supports JSON
def test_the_demo_site_passes(settings):
    assert check_settings() == []
    call_command("check")  # raises SystemCheckError on any error


@pytest.mark.django_db
def test_checks_run_through_manage_py_check(settings):
    settings.HELPDESK = {"PAGE_SIZE": 0}
    with pytest.raises(SystemCheckError, match="helpdesk.E003"):
        call_command("check")


CASES = [
    ({"NOPE": 1}, ["helpdesk.E001"]),
    ("not a dict", ["helpdesk.E001"]),
    ({"PAGE_SIZE": 0}, ["helpdesk.E003"]),
    ({"PAGE_SIZE": 2000}, ["helpdesk.E003"]),
    ({"PAGE_SIZE": "25"}, ["helpdesk.E003"]),
    ({"PAGE_SIZE": True}, ["helpdesk.E003"]),
    ({"MAX_PAGE_SIZE": 10}, ["helpdesk.E003"]),
    ({"UPSERT_MAX_ITEMS": 0}, ["helpdesk.E004"]),
    ({"UPSERT_MAX_BYTES": -1}, ["helpdesk.E004"]),
    ({"MAX_BODY_BYTES": 1.5}, ["helpdesk.E004"]),
    ({"NOTIFIER": "helpdesk.notify.Nope"}, ["helpdesk.E005"]),
    ({"NOTIFIER": "no_such_module.Notifier"}, ["helpdesk.E005"]),
    ({"THROTTLE_RATES": "60/min"}, ["helpdesk.E006"]),
    ({"THROTTLE_RATES": {"anon": "sixty"}}, ["helpdesk.E006"]),
    ({"THROTTLE_RATES": {"anon": 60}}, ["helpdesk.E006"]),
    ({"THROTTLE_RATES": {"anon": "60/fortnight"}}, ["helpdesk.E006"]),
    ({"DEFAULT_STATUS_ID": "1"}, ["helpdesk.E007"]),
    ({"DEFAULT_STATUS_ID": None}, ["helpdesk.E007"]),
    ({"STATUS_ON_AGENT_REPLY": "Answered"}, ["helpdesk.E007"]),
    ({"STATUS_ON_CONTACT_REPLY": 0}, ["helpdesk.E007"]),
    ({"API_VERSION": ""}, ["helpdesk.E008"]),
    ({"SEARCH_CONFIG": None}, ["helpdesk.E008"]),
    ({"UPSERT_CREATE_STATUSES": "yes"}, ["helpdesk.E009"]),
    ({"UPSERT_CLOSED_STATUS_WORDS": "closed"}, ["helpdesk.E009"]),
    ({"UPSERT_CLOSED_STATUS_WORDS": ["closed", ""]}, ["helpdesk.E009"]),
    ({"METADATA_MAX_BYTES": 0}, ["helpdesk.E004"]),
]


@pytest.mark.parametrize("value,expected", CASES, ids=[str(value) for value, _ in CASES])
def test_each_misconfiguration_is_reported(value, expected, settings):
    assert ids(value, settings) == expected


@pytest.mark.parametrize("value", [
    {"PAGE_SIZE": 1000},
    {"THROTTLE_RATES": {"anon": None, "user": "10/s", "upsert": "5/hour", "burst": "100/day"}},
    {"STATUS_ON_AGENT_REPLY": 4, "STATUS_ON_CONTACT_REPLY": 5, "DEFAULT_STATUS_ID": 3},
    {"NOTIFIER": "helpdesk.notify.EmailNotifier"},
])
def test_valid_values_pass(value, settings):
    assert ids(value, settings) == []


def test_several_errors_at_once(settings):
    assert ids({"PAGE_SIZE": 0, "UPSERT_MAX_ITEMS": 0, "NOTIFIER": "x.y"}, settings) == [
        "helpdesk.E003", "helpdesk.E004", "helpdesk.E005"]


def test_missing_api_apps_are_reported(settings):
    settings.INSTALLED_APPS = [a for a in settings.INSTALLED_APPS if a not in ("rest_framework", "django_filters")]
    errors = check_settings()
    assert [e.id for e in errors] == ["helpdesk.E002", "helpdesk.E002"]
    assert "rest_framework" in errors[0].msg and "django_filters" in errors[1].msg


def test_errors_are_errors_not_warnings(settings):
    settings.HELPDESK = {"PAGE_SIZE": 0}
    assert all(e.level == checks.ERROR for e in check_settings())


NO_PSYCOPG = """
import sys
sys.modules["psycopg"] = sys.modules["psycopg2"] = None  # as if no PostgreSQL driver were installed
from django.conf import settings
import config.settings as demo
values = {k: getattr(demo, k) for k in dir(demo) if k.isupper()}
values["INSTALLED_APPS"] = [a for a in values["INSTALLED_APPS"] if a != "django.contrib.postgres"]
settings.configure(**values)
import django
django.setup()
from django.core.management import call_command
call_command("check")
import helpdesk.api.urls, helpdesk.admin
print("loaded")
"""


def test_the_app_loads_on_a_site_without_a_postgresql_driver():
    """PostgreSQL-only code (search, array subqueries) imports django.contrib.postgres lazily."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
    proc = subprocess.run([sys.executable, "-c", NO_PSYCOPG], cwd=Path(__file__).resolve().parent.parent, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("loaded")


def test_sqlite_without_busy_timeout_or_immediate_transactions_is_warned():
    from helpdesk.checks import check_sqlite_options, sqlite_warnings

    assert check_sqlite_options() == []  # the demo site's settings
    good = {"ENGINE": "django.db.backends.sqlite3", "NAME": "x",
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"}}
    assert sqlite_warnings({"default": good, "pg": {"ENGINE": "django.db.backends.postgresql", "NAME": "y"}}) == []
    (warning,) = sqlite_warnings({"default": {**good, "OPTIONS": {}}})
    assert warning.id == "helpdesk.W101"
    assert '"timeout": 20' in warning.hint and "IMMEDIATE" in warning.hint


@pytest.mark.parametrize("key, value, code", [
    ("ATTACHMENT_STORAGE", "nope", "helpdesk.E020"),
    ("ATTACHMENT_MAX_BYTES", 0, "helpdesk.E021"),
    ("ATTACHMENT_MAX_COUNT", "10", "helpdesk.E021"),
    ("MAIL_MAX_BYTES", True, "helpdesk.E021"),
    ("ATTACHMENT_ALLOWED_TYPES", "image/png", "helpdesk.E022"),
    ("ATTACHMENT_ALLOWED_TYPES", ["png"], "helpdesk.E022"),
    ("MAIL_FROM", "", "helpdesk.E023"),
    ("MAIL_DEFAULT_DEPARTMENT_ID", 0, "helpdesk.E024"),
    ("MAIL_DEFAULT_CLIENT_ID", "1", "helpdesk.E024"),
    ("MAIL_BLOCKLIST", "spam@x.example", "helpdesk.E025"),
    ("MAIL_ACKNOWLEDGE", 1, "helpdesk.E026"),
])
def test_mail_settings_are_checked(settings, key, value, code):
    from helpdesk.checks import check_mail_settings

    settings.HELPDESK = {key: value}
    assert code in [e.id for e in check_mail_settings()]


def test_good_mail_settings_pass(settings):
    from helpdesk.checks import check_mail_settings

    settings.HELPDESK = {"ATTACHMENT_ALLOWED_TYPES": ["image/*", "application/pdf"], "MAIL_BLOCKLIST": ["@spam.example"],
                         "MAIL_FROM": "help@x.example", "MAIL_DEFAULT_CLIENT_ID": 3}
    assert check_mail_settings() == []
