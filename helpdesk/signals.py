"""Extension points for the host site, sent from the services only (after commit).

Every signal carries ``silent``: True for API writes, which by contract fire no
notifications; a receiver that notifies people should respect it.
"""

from django.dispatch import Signal

#: sender=Ticket, ticket, by (user or None), silent
ticket_created = Signal()
#: sender=Ticket, ticket, change (StatusChange), by, silent
ticket_status_changed = Signal()
#: sender=Reply, reply, ticket, by, silent
reply_posted = Signal()
#: sender=Ticket, source (the duplicate, now closed), target, by, silent
ticket_merged = Signal()
