"""Fixtures of the mail tests: the corpus of real-world messages and a department."""

from pathlib import Path

import pytest

from tests import factories
from tests.factories import ensure_default_statuses

CORPUS = Path(__file__).parent / "corpus"


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


#: Two keys (SECRET_KEY or HELPDESK ENCRYPTION_KEY) for the tests of encrypted mailbox passwords.
OLD_KEY = "old-secret-key-0123456789-abcdefghijklmnop"
NEW_KEY = "new-secret-key-9876543210-zyxwvutsrqponmlk"


def stored_password(box) -> str:
    """A mailbox's password column as the database holds it (encrypted)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM helpdesk_mailbox WHERE id = %s", [box.pk])
        return cursor.fetchone()[0]


@pytest.fixture
def support(db):
    """The default department new mail goes to, with its own sender address."""
    ensure_default_statuses()
    return factories.DepartmentFactory(name="Support", is_default=True, email="support@helpdesk.example")


import django  # noqa: E402

from .servers import SMTPInbox, start_dovecot, start_smtp  # noqa: E402

BUILTIN = "django.tasks.backends" if django.VERSION >= (6, 0) else "django_tasks.backends"
IMMEDIATE = {"default": {"BACKEND": f"{BUILTIN}.immediate.ImmediateBackend"}}
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def use_smtp(settings, port: int) -> None:
    """Send through the real SMTP backend to 127.0.0.1:port (MAILERS on Django 6.1+)."""
    if django.VERSION >= (6, 1):
        settings.MAILERS = {"default": {"BACKEND": SMTP_BACKEND, "OPTIONS": {"host": "127.0.0.1", "port": port}}}
    else:
        settings.EMAIL_BACKEND = SMTP_BACKEND
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port


@pytest.fixture
def mail_notifier(settings, db):
    """Mail on (the MailNotifier), tasks run at once (the immediate backend)."""
    ensure_default_statuses()
    settings.TASKS = IMMEDIATE
    settings.HELPDESK = {"NOTIFIER": "helpdesk.mail.outbound.MailNotifier", "TASK_RETRY_BACKOFF_SECONDS": 0}


@pytest.fixture(scope="session")
def dovecot():
    server = start_dovecot()
    yield server
    server.stop()


@pytest.fixture
def smtp(settings):
    """aiosmtpd on a free port, receiving what we send (``smtp.messages``)."""
    handler = SMTPInbox()
    controller = start_smtp(handler)
    use_smtp(settings, controller.port)
    yield handler
    controller.stop()
