"""The search documents of migration 0006 (PostgreSQL): every write keeps them true.

Each test writes the way the app does (services, the sync, a bulk insert, raw SQL) and
then searches as a user would, so a trigger that misses a write shows up as a wrong hit.
"""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpdesk import search, services
from helpdesk.models import Reply, ReplyType, Ticket
from helpdesk.search import DOCUMENT_MATCH, is_broad, search_tickets, tsquery
from helpdesk.sync import ticket_bulk_upsert
from tests import factories

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="search documents are PostgreSQL only"),
]


def found(text, user):
    return sorted(search_tickets(Ticket.objects.all(), text, user=user).values_list("pk", flat=True))


def document(ticket):
    with connection.cursor() as cursor:
        cursor.execute("SELECT document::text FROM helpdesk_ticket_search WHERE ticket_id = %s", [ticket.pk])
        row = cursor.fetchone()
    return row and row[0]


@pytest.fixture
def contact_user(contact):
    return contact.user


def test_a_new_ticket_is_found_by_its_subject_and_message(agent):
    ticket = factories.TicketFactory(subject="Printer on fire", message="Smoke from tray two")
    assert found("printer", agent) == [ticket.pk]
    assert found("smoke tray", agent) == [ticket.pk]
    assert found("printer smoke", agent) == [ticket.pk]
    assert found("printer ink", agent) == []


def test_words_may_be_in_different_messages_of_one_conversation(agent):
    ticket = factories.TicketFactory(subject="Printer on fire", message="")
    services.reply_post(ticket=ticket, author=agent, text="Ordered new toner", silent=True)
    assert found("printer toner", agent) == [ticket.pk]


def test_a_changed_subject_or_message_replaces_the_old_words(agent):
    ticket = factories.TicketFactory(subject="Printer on fire", message="Tray two")
    services.reply_post(ticket=ticket, author=agent, text="Toner ordered", silent=True)
    services.ticket_update(ticket=ticket, subject="Scanner jammed", message="Tray three", silent=True)
    assert found("printer", agent) == []
    assert found("two", agent) == []
    assert found("scanner three", agent) == [ticket.pk]
    assert found("toner", agent) == [ticket.pk]  # the replies stay in the document


def test_other_updates_leave_the_document_alone(agent):
    ticket = factories.TicketFactory(subject="Printer on fire")
    before = document(ticket)
    services.ticket_update(ticket=ticket, priority="urgent", silent=True)
    assert document(ticket) == before


def test_replies_and_notes_are_added_edited_and_removed(agent, contact):
    ticket = factories.TicketFactory(client=contact.client, subject="Hello")
    reply = services.reply_post(ticket=ticket, author=agent, text="Your refund is on its way", silent=True)
    note = services.reply_post(ticket=ticket, author=agent, text="secretword", type=ReplyType.NOTE, silent=True)
    assert found("refund", agent) == found("refund", contact.user) == [ticket.pk]
    assert found("secretword", agent) == [ticket.pk]
    assert found("secretword", contact.user) == []
    assert found("refund secretword", contact.user) == []  # every word must be public for a contact

    Reply.objects.filter(pk=reply.pk).update(text="Your voucher is on its way")
    assert found("refund", agent) == []
    assert found("voucher", contact.user) == [ticket.pk]

    # A note made public becomes searchable for the contact, and back.
    Reply.objects.filter(pk=note.pk).update(type=ReplyType.REPLY)
    assert found("secretword", contact.user) == [ticket.pk]
    Reply.objects.filter(pk=note.pk).update(type=ReplyType.NOTE)
    assert found("secretword", contact.user) == []

    services.reply_delete(reply=Reply.objects.get(pk=reply.pk))
    assert found("voucher", agent) == []
    assert found("hello", agent) == [ticket.pk]


def test_a_reply_moved_to_another_ticket_moves_its_words(agent):
    first, second = factories.TicketFactory(subject="First"), factories.TicketFactory(subject="Second")
    reply = services.reply_post(ticket=first, author=agent, text="wanderingword", silent=True)
    Reply.objects.filter(pk=reply.pk).update(ticket=second)
    assert found("wanderingword", agent) == [second.pk]


def test_bulk_created_replies_are_all_added(agent):
    tickets = [factories.TicketFactory(subject=f"Bulk {i}") for i in range(3)]
    Reply.objects.bulk_create(
        [Reply(ticket=t, author=agent, text=f"bulkword{i} shared") for i, t in enumerate(tickets)]
        + [Reply(ticket=tickets[0], author=agent, text="extra", type=ReplyType.NOTE)]
    )
    assert found("shared", agent) == sorted(t.pk for t in tickets)
    assert found("bulkword1", agent) == [tickets[1].pk]
    assert found("bulk extra", agent) == [tickets[0].pk]


def test_deleted_tickets_take_their_document_with_them(agent):
    ticket = factories.TicketFactory(subject="Goner")
    services.reply_post(ticket=ticket, author=agent, text="bye", silent=True)
    pk = ticket.pk
    services.ticket_delete(ticket=ticket)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM helpdesk_ticket_search WHERE ticket_id = %s", [pk])
        assert cursor.fetchone()[0] == 0


def test_synced_tickets_are_found_and_their_updates_too(agent, department):
    item = {"source": "crm", "sourceId": "A-1", "title": "Synced subject", "description": "from the crm",
            "departmentId": department.pk, "email": "x@example.com"}
    result = ticket_bulk_upsert(items=[item], by=agent)
    assert not result.errors, result.errors
    ticket = Ticket.objects.get(external_source="crm", external_id="A-1")
    assert found("synced crm", agent) == [ticket.pk]
    services.reply_post(ticket=ticket, author=agent, text="kept reply", silent=True)
    result = ticket_bulk_upsert(items=[{**item, "title": "Renamed subject"}], by=agent)
    assert not result.errors, result.errors
    assert found("synced", agent) == []
    assert found("renamed kept", agent) == [ticket.pk]  # rebuilt with its replies
    # The sync's deferral ends with it: a later edit in the same transaction is indexed.
    services.ticket_update(ticket=Ticket.objects.get(pk=ticket.pk), subject="Edited later", silent=True)
    assert found("edited", agent) == [ticket.pk]


def test_text_past_the_tsvector_limit_is_stored_and_the_rest_stays_searchable(agent):
    # PostgreSQL refuses a tsvector over 1 MB; the write must still succeed.
    huge = " ".join(f"w{i}x" for i in range(250_000))  # about 2 MB of distinct words
    ticket = factories.TicketFactory(subject="Hugeticket", message=huge)
    assert Ticket.objects.get(pk=ticket.pk).message == huge
    assert found("hugeticket", agent) == [ticket.pk]
    assert found("w1x", agent) == [ticket.pk]  # the start of the text is indexed

    small = factories.TicketFactory(subject="Smallticket")
    for _ in range(3):  # each alone fits; together they pass the limit
        services.reply_post(ticket=small, author=agent, text=" ".join(f"r{i}y" for i in range(60_000)), silent=True)
    services.reply_post(ticket=small, author=agent, text="lastword", silent=True)
    assert Reply.objects.filter(ticket=small).count() == 4
    assert found("smallticket", agent) == [small.pk]


def test_a_rare_word_is_read_from_the_document_index(agent):
    ticket = factories.TicketFactory(subject="Printer on fire")
    agent.has_perm("helpdesk.view_note")  # the agent's permissions, read once per request, are not the search's
    with CaptureQueriesContext(connection) as captured:
        found_qs = search_tickets(Ticket.objects.filter(active_state="active"), "printer fire", user=agent)
    assert not is_broad(found_qs)
    assert list(found_qs) == [ticket]
    # The client/requester/id matches, the planner's estimate, the ids; then the page by id.
    assert len(captured.captured_queries) == 3
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a few rows: the planner would read them all
        cursor.execute("EXPLAIN " + DOCUMENT_MATCH, [tsquery(["printer", "fire"], public_only=True)])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "hd_ticket_search_document" in plan


def test_a_common_word_is_a_semi_join_with_an_estimated_total(api, agent, monkeypatch):
    # What the planner says of a word in thousands of tickets, forced here on a few rows.
    monkeypatch.setattr(search, "_common", lambda using, documents: True)
    hits = [factories.TicketFactory(subject=f"Invoice {i}") for i in range(3)]
    factories.TicketFactory(subject="Unrelated")
    qs = search_tickets(Ticket.objects.all(), "invoice", user=agent)
    assert is_broad(qs) and is_broad(qs.filter(priority=1).order_by("pk"))
    assert "helpdesk_ticket_search" in str(qs.query)
    assert sorted(t.pk for t in qs) == sorted(t.pk for t in hits)
    response = api.get("/api/tickets?search=invoice&limit=2")
    assert response.status_code == 200
    assert len(response.json()["data"]) == 2
    assert response.json()["meta"]["total_exact"] is False  # never counted


def test_rebuild_command_restores_the_documents(agent):
    ticket = factories.TicketFactory(subject="Rebuilt")
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # a load with the triggers off
        cursor.execute("DELETE FROM helpdesk_ticket_search")
        cursor.execute("UPDATE helpdesk_ticket SET subject = 'Loaded' WHERE id = %s", [ticket.pk])
        cursor.execute("RESET session_replication_role")
    assert found("loaded", agent) == []
    out = io.StringIO()
    call_command("helpdesk_search_rebuild", stdout=out)
    assert "Rebuilt" in out.getvalue() and "'simple'" in out.getvalue()
    assert found("loaded", agent) == [ticket.pk]


def test_rebuild_command_with_another_config_stems_words(agent, settings):
    ticket = factories.TicketFactory(subject="Running printers")
    settings.HELPDESK = {"SEARCH_CONFIG": "english"}
    call_command("helpdesk_search_rebuild", stdout=io.StringIO())
    try:
        assert found("printer", agent) == [ticket.pk]
        assert found("runs", agent) == [ticket.pk]  # "run" is the English stem of both
    finally:
        settings.HELPDESK = {}
        call_command("helpdesk_search_rebuild", stdout=io.StringIO())
    assert found("runs", agent) == []


def test_rebuild_command_refuses_an_unknown_config(settings):
    factories.TicketFactory(subject="Kept")
    settings.HELPDESK = {"SEARCH_CONFIG": "klingon"}
    with pytest.raises(CommandError, match="klingon"):
        call_command("helpdesk_search_rebuild", stdout=io.StringIO())
    with connection.cursor() as cursor:
        cursor.execute("SELECT helpdesk_search_config()::text")
        assert cursor.fetchone()[0] == "simple"


def test_a_search_works_as_a_subquery_of_another_query(agent):
    # The matched ids ride in one array parameter (pk__hd_any); inside a subquery Django
    # re-aliases the ticket table, and the lookup must follow it.
    ticket = factories.TicketFactory(subject="Subquery printer")
    factories.TicketFactory(subject="Other")
    reply = services.reply_post(ticket=ticket, author=agent, text="hello", silent=True)
    matched = search_tickets(Ticket.objects.all(), "subquery", user=agent)
    assert list(Reply.objects.filter(ticket__in=matched.values("pk"))) == [reply]
