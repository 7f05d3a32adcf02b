"""The search's GIN indexes: present and used on PostgreSQL, absent (and harmless) elsewhere."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from helpdesk.search import search_tickets
from helpdesk.models import Ticket
from tests import factories

pytestmark = pytest.mark.django_db


def test_no_model_migration_drift():
    out = io.StringIO()
    call_command("makemigrations", "helpdesk", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="full-text search indexes are PostgreSQL only")
def test_search_uses_the_gin_indexes(agent):
    from django.test.utils import CaptureQueriesContext

    factories.TicketFactory(subject="Printer on fire")
    with CaptureQueriesContext(connection) as captured:
        qs = search_tickets(Ticket.objects.all(), "printer fire", user=agent)
    union_sql = captured.captured_queries[0]["sql"]  # the ids of the matches, read first
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + union_sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "hd_ticket_search" in plan
    assert "hd_reply_search" in plan
    assert [t.subject for t in qs] == ["Printer on fire"]


@pytest.mark.skipif(connection.vendor == "postgresql", reason="checks the non-PostgreSQL path")
def test_other_databases_have_no_search_index():
    with connection.cursor() as cursor:
        names = {i for i in connection.introspection.get_constraints(cursor, "helpdesk_ticket")}
    assert "hd_ticket_search" not in names
