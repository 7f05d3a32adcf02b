"""Fixtures shared by the whole suite."""

import pytest

from . import factories


@pytest.fixture
def agent(db):
    return factories.AgentFactory()


@pytest.fixture
def contact(db):
    """A client contact (the ``Contact`` row); ``contact.user`` signs in."""
    return factories.ContactFactory()


@pytest.fixture
def department(db):
    return factories.DepartmentFactory(name="Sales")


@pytest.fixture
def client_org(db):
    return factories.ClientFactory(name="Acme Inc")


@pytest.fixture
def default_statuses(transactional_db):
    """The default statuses in a transactional test (the flush after the one before removed them)."""
    factories.ensure_default_statuses()


@pytest.fixture
def no_throttle(settings):
    """No throttle limits a test that sends many requests at once (and the HELPDESK dict
    is only that: the app's defaults otherwise)."""
    settings.HELPDESK = {"THROTTLE_RATES": {"anon": None, "user": None, "upsert": None}}


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # The factories set a password on every user; PBKDF2 would make the suite crawl.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    # Attachments are stored under MEDIA_ROOT: one fresh directory per test.
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def _fresh_reference_cache():
    # helpdesk.refcache keeps statuses, custom fields and webhooks in the cache; a test's
    # rolled-back rows must not linger there for the next test.
    from django.core.cache import cache

    from helpdesk.counting import forget_plans

    cache.clear()
    forget_plans()  # the planner's estimates of another test's rows
    yield
    cache.clear()
