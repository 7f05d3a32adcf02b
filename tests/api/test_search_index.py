"""The search's index: on PostgreSQL only, absent (and harmless) elsewhere."""

import io

import pytest
from django.core.management import call_command
from django.db import connection


pytestmark = pytest.mark.django_db


def test_no_model_migration_drift():
    out = io.StringIO()
    call_command("makemigrations", "helpdesk", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="full-text search indexes are PostgreSQL only")
def test_0003s_per_table_indexes_are_gone():
    # Replaced by the one document index of 0006 (tests/test_search_documents.py).
    with connection.cursor() as cursor:
        names = set(connection.introspection.get_constraints(cursor, "helpdesk_ticket"))
        names |= set(connection.introspection.get_constraints(cursor, "helpdesk_reply"))
        assert "hd_ticket_search" not in names and "hd_reply_search" not in names
        assert "hd_ticket_search_document" in connection.introspection.get_constraints(cursor, "helpdesk_ticket_search")


@pytest.mark.skipif(connection.vendor == "postgresql", reason="checks the non-PostgreSQL path")
def test_other_databases_have_no_search_index():
    with connection.cursor() as cursor:
        names = {i for i in connection.introspection.get_constraints(cursor, "helpdesk_ticket")}
    assert "hd_ticket_search" not in names
    assert "helpdesk_ticket_search" not in connection.introspection.table_names()


@pytest.mark.skipif(connection.vendor == "postgresql", reason="checks the non-PostgreSQL path")
def test_rebuild_command_says_other_databases_need_no_documents():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="PostgreSQL only"):
        call_command("helpdesk_search_rebuild", stdout=io.StringIO())
