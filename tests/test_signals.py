"""The app's signals: sent by the services after the transaction commits, with ``silent``."""

import logging

import pytest
from django.db import transaction

from helpdesk import services, signals
from helpdesk.models import Reply, ReplyType, Ticket, TicketStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    """Every signal the app sends during the test, as (name, kwargs)."""
    log = []
    receivers = {}
    for name in ("ticket_created", "ticket_status_changed", "reply_posted"):
        def receiver(sender, _name=name, **kwargs):
            log.append((_name, {"sender": sender, **kwargs}))
        receivers[name] = receiver
        getattr(signals, name).connect(receiver)
    yield log
    for name, receiver in receivers.items():
        getattr(signals, name).disconnect(receiver)


def create(agent, department, client_org, **kwargs):
    return services.ticket_create(subject="S", message="M", department=department, client=client_org,
                                  creator=agent, **kwargs)


def test_ticket_created_is_sent_after_commit(received, agent, department, client_org,
                                            django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = create(agent, department, client_org)
        assert received == []  # not before the commit
    assert received == [("ticket_created", {"sender": Ticket, "signal": signals.ticket_created, "ticket": ticket,
                                            "by": agent, "silent": False})]


def test_nothing_is_sent_when_the_transaction_rolls_back(received, agent, department, client_org,
                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            create(agent, department, client_org)
            raise RuntimeError
    assert callbacks == [] and received == []
    assert not Ticket.objects.exists()


def test_status_change_and_reply_signals_carry_silent(received, agent, department, client_org,
                                                      django_capture_on_commit_callbacks):
    ticket = create(agent, department, client_org, silent=True)
    with django_capture_on_commit_callbacks(execute=True):
        change = services.ticket_change_status(ticket=ticket, status=TicketStatus.objects.get(pk=2), by=agent,
                                               silent=True)
        reply = services.reply_post(ticket=ticket, author=agent, text="hi", type=ReplyType.NOTE)
    assert received == [
        ("ticket_status_changed", {"sender": Ticket, "signal": signals.ticket_status_changed, "ticket": ticket,
                                   "change": change, "by": agent, "silent": True}),
        ("reply_posted", {"sender": Reply, "signal": signals.reply_posted, "reply": reply, "ticket": ticket,
                          "by": agent, "silent": False}),
    ]


def test_no_signal_for_a_status_no_op(received, agent, department, client_org, django_capture_on_commit_callbacks):
    ticket = create(agent, department, client_org)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_change_status(ticket=ticket, status=TicketStatus.objects.get(pk=1))
    assert received == []


def test_a_failing_receiver_does_not_undo_or_break_the_write(agent, department, client_org, caplog,
                                                             django_capture_on_commit_callbacks):
    def broken(sender, **kwargs):
        raise ConnectionError("mail server down")

    signals.ticket_created.connect(broken)
    try:
        with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
            ticket = create(agent, department, client_org)
    finally:
        signals.ticket_created.disconnect(broken)
    assert Ticket.objects.filter(pk=ticket.pk).exists()
    assert "mail server down" in caplog.text
