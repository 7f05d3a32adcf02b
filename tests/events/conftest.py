"""Fixtures of the events tests."""

import importlib

import pytest


@pytest.fixture
def default_statuses(transactional_db):
    """The default statuses (a migration's data), which a transactional test's flush removes."""
    from django.apps import apps
    from django.db import connection

    migration = importlib.import_module("helpdesk.migrations.0002_default_statuses_and_agent_group")
    with connection.schema_editor() as editor:
        migration.create_statuses(apps, editor)
