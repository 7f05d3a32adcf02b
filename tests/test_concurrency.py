"""Concurrency on PostgreSQL with real threads, each on its own connection and transaction
(issue #12): concurrent status changes, replies and upserts of the same new items all
apply, and the history and dates stay exact.

The HTTP tests go through pytest-django's live server, which answers each request in its
own thread. On SQLite the test database is in memory and shared by every thread, so
these tests are meaningless there and skip; SQLite's concurrency (a file, WAL, a busy
timeout) is tested in ``tests/test_sqlite_locking.py``.
"""

import threading

import pytest
from django.db import connections
from django.db.models import F

from helpdesk.models import APIKey, Reply, ReplyType, StatusChange, Ticket, TicketStatus
from helpdesk.sync import ticket_bulk_upsert

from . import factories
from .concurrency import JOIN_SECONDS, call, errors, needs_postgresql, run_concurrently

pytestmark = [pytest.mark.django_db(transaction=True), needs_postgresql]


@pytest.mark.usefixtures("default_statuses", "no_throttle")
def test_concurrent_status_changes_all_apply_and_the_history_is_exact(live_server):
    count = 20
    statuses = [TicketStatus.objects.create(title=f"Step {n}", order=10 + n, is_closed=n % 3 == 0) for n in range(count)]
    ticket = factories.TicketFactory(status_id=TicketStatus.OPEN)
    StatusChange.objects.create(ticket=ticket, from_status=None, to_status_id=TicketStatus.OPEN,
                                changed_at=ticket.created_at)
    key = APIKey.objects.create_key(user=factories.AgentFactory(), name="t")[1]
    url = f"{live_server.url}/api/tickets/{ticket.pk}/status"

    answers = run_concurrently(lambda n: call("PUT", url, key, {"status": statuses[n].pk}), count)

    # Every request applied its own status: no spurious 404, nothing lost.
    assert [a[0] if isinstance(a, tuple) else a for a in answers] == [200] * count, answers
    # (Each answer shows the ticket as it was read after its commit: maybe already changed again.)
    history = list(StatusChange.objects.filter(ticket=ticket).order_by("changed_at", "pk"))
    assert len(history) == count + 1
    # One unbroken chain: each change starts where the one before it ended.
    for before, after in zip(history, history[1:]):
        assert after.from_status_id == before.to_status_id
        assert after.changed_at >= before.changed_at
    assert {h.to_status_id for h in history[1:]} == {s.pk for s in statuses}
    ticket.refresh_from_db()
    assert ticket.status_id == history[-1].to_status_id
    assert ticket.status_changed_at == history[-1].changed_at
    assert (ticket.closed_at is not None) == ticket.status.is_closed


@pytest.mark.usefixtures("default_statuses", "no_throttle")
def test_concurrent_replies_keep_the_counts_and_dates_exact(live_server, settings):
    settings.HELPDESK = {**settings.HELPDESK, "STATUS_ON_AGENT_REPLY": TicketStatus.ANSWERED,
                         "STATUS_ON_CONTACT_REPLY": TicketStatus.CUSTOMER_REPLIED}
    contact = factories.ContactFactory()
    ticket = factories.TicketFactory(client=contact.client, status_id=TicketStatus.OPEN)
    agents = [factories.AgentFactory() for _ in range(2)]
    keys = [APIKey.objects.create_key(user=u, name="t")[1] for u in (*agents, contact.user)]
    count = 18
    url = f"{live_server.url}/api/tickets/{ticket.pk}/replies"

    def post(n: int) -> tuple[int, dict]:
        body = {"ticketreply_text": f"reply {n}", "ticketreply_type": "note" if n % 6 == 3 else "reply"}
        return call("POST", url, keys[n % 3], body)

    answers = run_concurrently(post, count)

    assert [a[0] if isinstance(a, tuple) else a for a in answers] == [201] * count, answers
    ticket.refresh_from_db()
    replies = Reply.objects.filter(ticket=ticket, type=ReplyType.REPLY)
    notes = Reply.objects.filter(ticket=ticket, type=ReplyType.NOTE)
    assert (replies.count(), notes.count()) == (15, 3)
    assert (ticket.replies_count, ticket.notes_count) == (15, 3)
    assert ticket.last_reply_at == max(r.created_at for r in replies)
    agent_replies = [r.created_at for r in replies if r.author_id in {a.pk for a in agents}]
    assert ticket.first_response_at == min(agent_replies)
    assert ticket.updated_at >= max(r.created_at for r in Reply.objects.filter(ticket=ticket))
    # Dated in the order they were written.
    written = list(Reply.objects.filter(ticket=ticket).order_by("pk").values_list("created_at", flat=True))
    assert written == sorted(written)
    # The automatic status changes form one chain, in time too, and the ticket ends in the last one.
    history = list(StatusChange.objects.filter(ticket=ticket).order_by("pk"))
    for before, after in zip(history, history[1:]):
        assert after.from_status_id == before.to_status_id
        assert after.changed_at >= before.changed_at
    if history:
        assert ticket.status_id == history[-1].to_status_id
        assert ticket.status_changed_at == history[-1].changed_at


@pytest.mark.usefixtures("default_statuses")
def test_concurrent_upserts_of_the_same_new_items_write_the_first_history_once():
    factories.DepartmentFactory(is_default=True)
    factories.ClientDomainFactory(domain="acme.com")
    agent = factories.AgentFactory()
    items = [{"source": "crm", "sourceId": str(n), "email": f"p{n % 5}@acme.com", "title": f"Ticket {n}",
              **({"status": "closed"} if n % 2 else {})} for n in range(30)]
    requests = 8

    results = run_concurrently(lambda n: ticket_bulk_upsert(items=items, by=agent), requests)

    assert not errors(results), results
    assert sum(r.created for r in results) == 30
    assert sum(r.created + r.updated for r in results) == 30 * requests
    assert Ticket.objects.count() == 30
    # One first entry (None -> the status) per ticket, however many requests sent it.
    assert StatusChange.objects.count() == 30
    for ticket in Ticket.objects.all():
        (change,) = StatusChange.objects.filter(ticket=ticket)
        assert change.from_status_id is None and change.to_status_id == ticket.status_id
        assert ticket.created_at <= ticket.status_changed_at == change.changed_at
        assert ticket.created_at <= ticket.updated_at
        if ticket.status.is_closed:
            assert ticket.closed_at == ticket.status_changed_at


@pytest.mark.usefixtures("default_statuses", "no_throttle")
def test_concurrent_upserts_over_http_of_the_same_new_items(live_server):
    factories.DepartmentFactory(is_default=True)
    factories.ClientDomainFactory(domain="acme.com")
    key = APIKey.objects.create_key(user=factories.AgentFactory(), name="sync")[1]
    items = [{"source": "crm", "sourceId": str(n), "email": "max@acme.com", "title": f"T{n}",
              "history": [{"status": "open", "time": "2024-05-01T10:00:00Z"}]} for n in range(10)]
    items += [{"source": "crm", "sourceId": f"h{n}", "email": "max@acme.com", "title": f"H{n}"} for n in range(10)]

    answers = run_concurrently(lambda n: call("PUT", f"{live_server.url}/api/tickets", key, items), 6)

    assert [a[0] if isinstance(a, tuple) else a for a in answers] == [200] * 6, answers
    assert sum(a[1]["created"] for a in answers) == 20
    assert StatusChange.objects.count() == 20
    assert not Ticket.objects.filter(status_changed_at__lt=F("created_at")).exists()


@pytest.mark.usefixtures("default_statuses", "no_throttle")
def test_a_lock_timeout_is_a_503_with_retry_after(live_server):
    """A ticket row held locked longer than the site's ``lock_timeout``: the requests that
    need it are refused with 503 and ``Retry-After``, nothing is saved, and they succeed later."""
    from django.db import transaction
    from django.db.backends.signals import connection_created

    def short_lock_timeout(sender, connection, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '300ms'")

    ticket = factories.TicketFactory(status_id=TicketStatus.OPEN, subject="Locked")
    key = APIKey.objects.create_key(user=factories.AgentFactory(), name="t")[1]
    base = f"{live_server.url}/api/tickets"
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                Ticket.objects.select_for_update().get(pk=ticket.pk)
                locked.set()
                release.wait(JOIN_SECONDS)
        finally:
            connections.close_all()

    connections.close_all()  # every connection from here on is a new one, with the timeout
    connection_created.connect(short_lock_timeout)
    holder = threading.Thread(target=hold, daemon=True)
    try:
        holder.start()
        assert locked.wait(JOIN_SECONDS)
        retry_after: dict = {}
        answers = {
            "status": call("PUT", f"{base}/{ticket.pk}/status", key, {"status": TicketStatus.CLOSED}, retry_after),
            "reply": call("POST", f"{base}/{ticket.pk}/replies", key, {"ticketreply_text": "hi"}),
            "upsert": call("PUT", base, key, [{"_id": ticket.pk, "title": "Changed"}]),
        }
        read = call("GET", f"{base}/{ticket.pk}", key)
    finally:
        release.set()
        holder.join(JOIN_SECONDS)
        connection_created.disconnect(short_lock_timeout)
    for name, (status, body) in answers.items():
        assert status == 503, (name, body)
        assert body["error"]["code"] == "service_unavailable"
    assert retry_after["Retry-After"] == "5"
    assert read[0] == 200
    ticket.refresh_from_db()
    assert (ticket.status_id, ticket.subject, ticket.replies_count) == (TicketStatus.OPEN, "Locked", 0)
    assert not Reply.objects.exists()
    assert call("PUT", f"{base}/{ticket.pk}/status", key, {"status": TicketStatus.CLOSED})[0] == 200


@pytest.mark.usefixtures("default_statuses")
def test_concurrent_upserts_changing_one_ticket_keep_its_history_in_order():
    count = 8
    statuses = [TicketStatus.objects.create(title=f"Stage {n}", order=20 + n) for n in range(count)]
    factories.DepartmentFactory(is_default=True)
    ticket = factories.TicketFactory(status_id=TicketStatus.OPEN)
    agent = factories.AgentFactory()
    items = [[{"_id": ticket.pk, "status": statuses[n].pk, "title": f"By request {n}"}] for n in range(count)]

    results = run_concurrently(lambda n: ticket_bulk_upsert(items=items[n], by=agent), count)

    assert not errors(results), results
    assert all(r.ok and r.updated == 1 for r in results)
    history = list(StatusChange.objects.filter(ticket=ticket).order_by("pk"))
    assert len(history) == count
    # In the order they were written: a chain, and never going back in time.
    for before, after in zip(history, history[1:]):
        assert after.from_status_id == before.to_status_id
        assert after.changed_at >= before.changed_at
    ticket.refresh_from_db()
    assert ticket.status_id == history[-1].to_status_id
    assert ticket.status_changed_at == history[-1].changed_at == ticket.updated_at
