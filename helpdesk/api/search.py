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
from django.db.models import Exists, OuterRef, Q, QuerySet

from ..conf import helpdesk_settings
from ..models import Reply, ReplyType, Ticket
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
    """``queryset`` narrowed to the tickets matching ``text`` (see the module docstring)."""
    text = text.strip()
    if not text:
        return queryset
    tokens = words(text)
    replies = Reply.objects.filter(ticket_id=OuterRef("pk"))
    if not is_agent(user):
        replies = replies.filter(type=ReplyType.REPLY)

    condition = Q(client__name__icontains=text) | Q(requester__email__icontains=text)
    if text.isdigit() and int(text) <= _MAX_ID:
        condition |= Q(pk=int(text))
    if tokens:
        if _is_postgres(queryset):
            query = _tsquery(tokens)
            queryset = queryset.alias(search_vector=ticket_vector())
            text_match = Q(search_vector=query)
            replies = replies.alias(search_vector=reply_vector()).filter(search_vector=query)
        else:
            text_match = Q()
            for token in tokens:
                text_match &= Q(subject__icontains=token) | Q(message__icontains=token)
                replies = replies.filter(text__icontains=token)
        condition |= text_match | Exists(replies)
    return queryset.filter(condition)


def _is_postgres(queryset: QuerySet[Any]) -> bool:
    from django.db import connections

    return connections[queryset.db].vendor == "postgresql"
