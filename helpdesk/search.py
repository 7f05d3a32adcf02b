"""``search`` on tickets: PostgreSQL full-text search, or a plain ``icontains`` fallback.

Words are matched (all of them, each as a prefix) against the subject and message, and
against the reply texts a caller may read (contacts never match internal notes); the
whole string is also matched against the client's name and (when it looks like an email
address or domain) the requester's email, and a number against the ticket id. On PostgreSQL the text matches use the GIN indexes of
migration ``0003_api_search``, whose expressions equal the ones built here.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from .conf import helpdesk_settings
from .models import Client, Reply, ReplyType, Ticket
from .permissions import is_agent

# Imported where used: django.contrib.postgres needs psycopg (on Django 6.1 at import),
# which a site on SQLite need not have.
if TYPE_CHECKING:  # pragma: no cover
    from django.contrib.postgres.search import SearchQuery, SearchVector

#: Words beyond this many are ignored: a search is a few words, not a document.
MAX_WORDS = 10
#: Up to this many matches are looked up by id; more are filtered along the sort index.
MAX_MATCHED_IDS = 2000
_WORD = re.compile(r"\w+", re.UNICODE)
_MAX_ID = 2**63 - 1


def words(text: str) -> list[str]:
    return _WORD.findall(text)[:MAX_WORDS]


def ticket_vector() -> SearchVector:
    from django.contrib.postgres.search import SearchVector

    # Must stay equal to the index expression of migration 0003_api_search.
    return SearchVector("subject", "message", config=helpdesk_settings.SEARCH_CONFIG)


def reply_vector() -> SearchVector:
    from django.contrib.postgres.search import SearchVector

    return SearchVector("text", config=helpdesk_settings.SEARCH_CONFIG)


def _tsquery(tokens: list[str]) -> SearchQuery:
    from django.contrib.postgres.search import SearchQuery

    # Tokens are \w+ only, so they are safe inside a raw tsquery; ":*" makes each a prefix.
    raw = " & ".join(f"{token}:*" for token in tokens)
    return SearchQuery(raw, search_type="raw", config=helpdesk_settings.SEARCH_CONFIG)


def search_tickets(queryset: QuerySet[Ticket], text: str, *, user: Any) -> QuerySet[Ticket]:
    """``queryset`` narrowed to the tickets matching ``text`` (see the module docstring).

    The matching ids are first read with one ``UNION`` of index-friendly parts (the GIN
    indexes, the client and requester foreign keys, the primary key), up to
    ``MAX_MATCHED_IDS``: the list then looks those rows up by primary key. A search that
    matches more (a very common word) filters by ``pk IN (<that union>)`` instead, so the
    page and its count still read the matching rows through the indexes.
    """
    text = text.strip()
    if not text:
        return queryset
    tokens = words(text)
    postgres = _is_postgres(queryset)
    User = get_user_model()

    clients = Client.objects.filter(name__icontains=text).values("pk")
    requesters = User._default_manager.filter(email__icontains=text).values("pk") if _looks_like_email(text) else None
    ticket_id = int(text) if text.isdigit() and int(text) <= _MAX_ID else None
    text_match = replies = None
    if tokens:
        replies = Reply.objects.all()
        if not is_agent(user):
            replies = replies.filter(type=ReplyType.REPLY)
        if postgres:
            query = _tsquery(tokens)
            text_match = Q(search_vector=query)
            replies = replies.alias(search_vector=reply_vector()).filter(search_vector=query)
        else:
            text_match = Q()
            for token in tokens:
                text_match &= Q(subject__icontains=token) | Q(message__icontains=token)
                replies = replies.filter(text__icontains=token)
        replies = replies.values("ticket_id")

    parts = [Ticket.objects.filter(client_id__in=clients).values("pk")]
    if requesters is not None:
        parts.append(Ticket.objects.filter(requester_id__in=requesters).values("pk"))
    if ticket_id is not None:
        parts.append(Ticket.objects.filter(pk=ticket_id).values("pk"))
    if text_match is not None:
        tickets = Ticket.objects.alias(search_vector=ticket_vector()) if postgres else Ticket.objects.all()
        parts += [tickets.filter(text_match).values("pk"), replies]
    first, *rest = (part.order_by() for part in parts)
    # order_by() on the union too: Django 6.1 otherwise orders the sliced union by the
    # model's default ordering, columns the union does not select (an error on SQLite).
    matching = first.union(*rest).order_by()
    matched = list(matching.values_list("pk", flat=True)[: MAX_MATCHED_IDS + 1])
    if len(matched) <= MAX_MATCHED_IDS:
        return queryset.filter(pk__in=matched)
    # Too many ids to pass as a list: filter by the same union as a subquery. Unlike one
    # OR of the parts, each part keeps its index (the GIN indexes, the foreign keys), so
    # both the page and the pagination's bounded count read only the matching rows; an OR
    # of a text match and an IN makes PostgreSQL parse every ticket's text instead.
    return queryset.filter(pk__in=matching)


def _looks_like_email(text: str) -> bool:
    # Emails are matched only for an address or domain: a substring match on every
    # user's email for any word would read the whole user table.
    return "@" in text or ("." in text and " " not in text)


def _is_postgres(queryset: QuerySet[Any]) -> bool:
    from django.db import connections

    return connections[queryset.db].vendor == "postgresql"
