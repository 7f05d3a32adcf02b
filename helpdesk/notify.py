"""Notifiers: swappable through the ``NOTIFIER`` setting.

A notifier receives the app's events (after the transaction commits) unless the write
was silent (API calls are). ``NullNotifier`` does nothing; ``EmailNotifier`` mails the
requester when an agent posts a public reply from the admin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.mail import send_mail
from django.utils.translation import gettext as _

from .permissions import is_agent

if TYPE_CHECKING:  # pragma: no cover
    from .models import Reply, StatusChange, Ticket


class NullNotifier:
    """Sends nothing. Subclass it and override the events you care about."""

    def ticket_created(self, ticket: Ticket) -> None:
        pass

    def ticket_status_changed(self, ticket: Ticket, change: StatusChange) -> None:
        pass

    def reply_posted(self, reply: Reply) -> None:
        pass

    def ticket_merged(self, source: Ticket, target: Ticket) -> None:
        """Sent only when ``MERGE_NOTIFY_REQUESTER`` is on."""


class EmailNotifier(NullNotifier):
    """Mails the requester each public reply an agent posts (not notes, not API writes)."""

    def reply_posted(self, reply: Reply) -> None:
        ticket = reply.ticket
        requester = ticket.requester
        if reply.is_note or requester is None or not requester.email:
            return
        if reply.author_id == requester.pk or not is_agent(reply.author):
            return
        send_mail(
            subject=_("[Ticket #%(id)s] %(subject)s") % {"id": ticket.pk, "subject": ticket.subject},
            message=reply.text,
            from_email=None,
            recipient_list=[requester.email],
        )

    def ticket_merged(self, source: Ticket, target: Ticket) -> None:
        requester = source.requester
        if requester is None or not requester.email:
            return
        send_mail(
            subject=_("[Ticket #%(id)s] %(subject)s") % {"id": source.pk, "subject": source.subject},
            message=_("Your request #%(source)s was merged into #%(target)s (%(subject)s); we answer you there.")
            % {"source": source.pk, "target": target.pk, "subject": target.subject},
            from_email=None,
            recipient_list=[requester.email],
        )
