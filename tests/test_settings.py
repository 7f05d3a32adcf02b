"""The demo site's settings, read from the environment; each case in a fresh interpreter."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = secrets.token_urlsafe(50)
SHOW = """
import json
from django.conf import settings
import django
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({
    "DEBUG": settings.DEBUG, "ALLOWED_HOSTS": settings.ALLOWED_HOSTS, "SECRET_KEY": settings.SECRET_KEY,
    "ENGINE": db["ENGINE"], "NAME": str(db["NAME"]), "HOST": db.get("HOST", ""),
    "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE, "CSRF_COOKIE_SECURE": settings.CSRF_COOKIE_SECURE,
    "SECURE_SSL_REDIRECT": settings.SECURE_SSL_REDIRECT, "SECURE_HSTS_SECONDS": settings.SECURE_HSTS_SECONDS,
    "CSRF_TRUSTED_ORIGINS": settings.CSRF_TRUSTED_ORIGINS,
}))
"""


def run(args, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_") and k != "DATABASE_URL"}
    clean.update(env, DJANGO_SETTINGS_MODULE="config.settings")
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60)


def show(**env):
    proc = run(["-c", SHOW], **env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_defaults_are_a_local_debug_demo_on_sqlite_beside_manage_py():
    s = show()
    assert s["DEBUG"] is True
    assert s["ENGINE"] == "django.db.backends.sqlite3" and s["NAME"] == str(ROOT / "db.sqlite3")
    assert s["ALLOWED_HOSTS"] == ["127.0.0.1", "localhost"]
    assert s["SESSION_COOKIE_SECURE"] is False


def test_database_url_is_read():
    s = show(DATABASE_URL="postgres://helpdesk:pw@db.internal:5432/helpdesk")
    assert (s["ENGINE"], s["NAME"], s["HOST"]) == ("django.db.backends.postgresql", "helpdesk", "db.internal")


def test_allowed_hosts_and_trusted_origins_are_comma_separated():
    s = show(DJANGO_ALLOWED_HOSTS=" help.example.com, .example.org ,",
             DJANGO_CSRF_TRUSTED_ORIGINS="https://help.example.com")
    assert s["ALLOWED_HOSTS"] == ["help.example.com", ".example.org"]
    assert s["CSRF_TRUSTED_ORIGINS"] == ["https://help.example.com"]


@pytest.mark.parametrize("value,expected", [("0", False), ("false", False), ("off", False), ("no", False),
                                            ("", False), ("nonsense", False), ("1", True), (" True ", True),
                                            ("yes", True), ("on", True), (None, "default")])
def test_boolean_environment_values(value, expected, monkeypatch):
    from config.settings import env_bool

    if value is None:
        monkeypatch.delenv("HD_TEST_FLAG", raising=False)
    else:
        monkeypatch.setenv("HD_TEST_FLAG", value)
    assert env_bool("HD_TEST_FLAG", "default") == expected  # type: ignore[arg-type]


def test_production_needs_a_secret_key():
    proc = run(["manage.py", "check"], DJANGO_DEBUG="0")
    assert proc.returncode != 0
    assert "Set DJANGO_SECRET_KEY" in proc.stderr


def test_production_settings_are_secure():
    s = show(DJANGO_DEBUG="0", DJANGO_SECRET_KEY=GOOD_KEY)
    assert s["DEBUG"] is False and s["SECRET_KEY"] == GOOD_KEY
    assert s["SESSION_COOKIE_SECURE"] and s["CSRF_COOKIE_SECURE"] and s["SECURE_SSL_REDIRECT"]
    assert s["SECURE_HSTS_SECONDS"] >= 60 * 60 * 24 * 30


def test_production_passes_the_deploy_check():
    proc = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], DJANGO_DEBUG="0",
               DJANGO_SECRET_KEY=GOOD_KEY)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_deploy_check_flags_debug_and_a_weak_key():
    proc = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    assert proc.returncode != 0
    assert "security.W018" in proc.stderr and "security.W009" in proc.stderr  # DEBUG on, demo key


def test_ssl_redirect_can_be_left_to_the_proxy():
    assert show(DJANGO_DEBUG="0", DJANGO_SECRET_KEY=GOOD_KEY, DJANGO_SECURE_SSL_REDIRECT="0")[
        "SECURE_SSL_REDIRECT"] is False
