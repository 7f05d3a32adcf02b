"""``search`` on tickets: PostgreSQL full-text search, or a plain ``icontains`` fallback.

Words are matched (all of them, each as a prefix) against the subject and message, and
against the reply texts a caller may read (contacts never match internal notes); the
whole string is also matched against the client's name and the requester's email, and a
number against the ticket id. On PostgreSQL the text matches use the GIN indexes of
migration ``0003_api_search``, whose expressions equal the ones built here.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from ..conf import helpdesk_settings
from ..models import Client, Reply, ReplyType, Ticket
from ..permissions import is_agent

#: Words beyond this many are ignored: a search is a few words, not a document.
MAX_WORDS = 10
_WORD = re.compile(r"\w+", re.UNICODE)
_MAX_ID = 2**63 - 1


def words(text: str) -> list[str]:
    return _WORD.findall(text)[:MAX_WORDS]


def ticket_vector() -> SearchVector:
    # Must stay equal to the index expression of migration 0003_api_search.
    return SearchVector("subject", "message", config=helpdesk_settings.SEARCH_CONFIG)


def reply_vector() -> SearchVector:
    return SearchVector("text", config=helpdesk_settings.SEARCH_CONFIG)


def _tsquery(tokens: list[str]) -> SearchQuery:
    # Tokens are \w+ only, so they are safe inside a raw tsquery; ":*" makes each a prefix.
    raw = " & ".join(f"{token}:*" for token in tokens)
    return SearchQuery(raw, search_type="raw", config=helpdesk_settings.SEARCH_CONFIG)


def search_tickets(queryset: QuerySet[Ticket], text: str, *, user: Any) -> QuerySet[Ticket]:
    """``queryset`` narrowed to the tickets matching ``text`` (see the module docstring).

    The matches are one ``id IN (… UNION …)`` of index-friendly parts (the GIN indexes,
    the client and requester foreign keys, the primary key) rather than an ``OR`` across
    joins, which PostgreSQL could only answer by reading every ticket.
    """
    text = text.strip()
    if not text:
        return queryset
    tokens = words(text)
    postgres = _is_postgres(queryset)
    User = get_user_model()

    parts = [
        Ticket.objects.filter(client_id__in=Client.objects.filter(name__icontains=text).values("pk")).values("pk"),
        Ticket.objects.filter(requester_id__in=User._default_manager.filter(email__icontains=text).values("pk")).values("pk"),
    ]
    if text.isdigit() and int(text) <= _MAX_ID:
        parts.append(Ticket.objects.filter(pk=int(text)).values("pk"))
    if tokens:
        replies = Reply.objects.all()
        if not is_agent(user):
            replies = replies.filter(type=ReplyType.REPLY)
        if postgres:
            query = _tsquery(tokens)
            tickets = Ticket.objects.alias(search_vector=ticket_vector()).filter(search_vector=query)
            replies = replies.alias(search_vector=reply_vector()).filter(search_vector=query)
        else:
            tickets = Ticket.objects.all()
            for token in tokens:
                tickets = tickets.filter(Q(subject__icontains=token) | Q(message__icontains=token))
                replies = replies.filter(text__icontains=token)
        parts += [tickets.values("pk"), replies.values("ticket_id")]
    first, *rest = (part.order_by() for part in parts)
    return queryset.filter(pk__in=first.union(*rest))


def _is_postgres(queryset: QuerySet[Any]) -> bool:
    from django.db import connections

    return connections[queryset.db].vendor == "postgresql"
