"""Notifications to people (the ``NOTIFIER``) as tasks: queued when a write commits, run
by the task worker, never inside the request.

The task carries ids, not instances, and reloads them: a row deleted before the worker
runs is skipped (there is nobody left to tell). A notifier that raises is retried with the
task layer's backoff, so a notifier must be safe to call twice for one event.
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

    if getattr(helpdesk_settings.NOTIFIER, event, None) is getattr(NullNotifier, event):
        return
    enqueue_on_commit(notify, event, **ids)
