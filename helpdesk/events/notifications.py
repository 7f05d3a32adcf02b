"""Notifications to people (the ``NOTIFIER``) as tasks: queued when a write commits, run
by the task worker, never inside the request.

The task carries ids, not instances, and reloads them: a row deleted before the worker
runs is skipped (there is nobody left to tell). A notifier that raises is retried with the
task layer's backoff, so a notifier must be safe to call twice for one event.

A notifier with ``outbox = True`` is called inside the write's transaction instead: it
must only record rows (an outbox) and queue its own tasks with ``enqueue_on_commit``
(``helpdesk.mail.outbound.MailNotifier`` records ``MailMessage`` rows and queues
``send_mail_task``), never talk to the outside world there. So there is one task per mail,
not a notification task that queues another one.
"""

from __future__ import annotations

import logging
from typing import Any

from ..conf import helpdesk_settings
from .tasks import enqueue_on_commit, helpdesk_task

logger = logging.getLogger(__name__)


@helpdesk_task
def notify(event: str, ticket_id: int | None = None, change_id: int | None = None, reply_id: int | None = None) -> None:
    """Call the notifier's ``event`` method with the rows the ids name."""
    _call_notifier(event, ticket_id=ticket_id, change_id=change_id, reply_id=reply_id)


def _call_notifier(event: str, ticket_id: int | None = None, change_id: int | None = None,
                   reply_id: int | None = None) -> None:
    from ..models import Reply, StatusChange, Ticket

    args: tuple[Any, ...]
    try:
        if event == "reply_posted":
            args = (Reply.objects.select_related("ticket__requester", "author").get(pk=reply_id),)
        elif event == "ticket_status_changed":
            change = StatusChange.objects.select_related("ticket", "from_status", "to_status").get(pk=change_id)
            args = (change.ticket, change)
        else:
            args = (Ticket.objects.select_related("requester").get(pk=ticket_id),)
    except (Reply.DoesNotExist, StatusChange.DoesNotExist, Ticket.DoesNotExist):
        logger.info("Notification %s skipped: its rows are gone.", event)
        return
    getattr(helpdesk_settings.NOTIFIER(), event)(*args)


def notify_on_commit(event: str, **ids: int | None) -> None:
    """Queue the notification ``event`` (``ticket_created``, ``ticket_status_changed``,
    ``reply_posted``) for when the current transaction commits; nothing when the
    notifier does not override that event (the default ``NullNotifier`` sends nothing)."""
    from ..notify import NullNotifier

    notifier = helpdesk_settings.NOTIFIER
    if getattr(notifier, event, None) is getattr(NullNotifier, event):
        return
    if getattr(notifier, "outbox", False):
        # An outbox notifier (``MailNotifier``) only records rows and queues their own
        # tasks on commit: it runs inside the write's transaction, so its rows exist
        # exactly when the write does, and its tasks are the only ones queued.
        _call_notifier(event, **ids)
        return
    enqueue_on_commit(notify, event, **ids)
