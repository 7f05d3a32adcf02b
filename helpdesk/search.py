"""``search`` on tickets: PostgreSQL full-text search, or a plain ``icontains`` fallback.

Words are matched (all of them, each as a prefix) against the ticket's text a caller may
read: its subject, message and replies, and for agents its internal notes (contacts never
match a note); the whole string is also matched against the client's name and (when it
looks like an email address or domain) the requester's email, and a number against the
ticket id.

On PostgreSQL the words are looked up in the ticket's search document (migration
``0006_search_documents``: one ``tsvector`` per ticket, public text weighted ``A`` and
notes ``B``, kept by triggers, one GIN index), so the search is a semi-join the planner
can run either way round: along the list's sort index for a common word, from the GIN
index for a rare one. Elsewhere every word must appear in the subject or message, or in
one reply.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connections, transaction
from django.db.models import Lookup, Q, QuerySet
from django.db.models.expressions import RawSQL

from .counting import explain
from .events.tasks import helpdesk_task
from .limits import parse_id
from .models import Client, Reply, ReplyType, Ticket
from .permissions import can_view_notes

#: Words beyond this many are ignored: a search is a few words, not a document.
MAX_WORDS = 10
#: Up to this many matches are looked up by id; more are filtered along the sort index.
MAX_MATCHED_IDS = 2000
_WORD = re.compile(r"\w+", re.UNICODE)
_BROAD = "helpdesk_broad_search"

#: The tickets whose search document matches a ``to_tsquery`` text (see migration 0006).
DOCUMENT_MATCH = (
    "SELECT ticket_id FROM helpdesk_ticket_search "
    "WHERE document @@ to_tsquery(helpdesk_search_config(), %s)"
)


def words(text: str) -> list[str]:
    return _WORD.findall(text)[:MAX_WORDS]


def tsquery(tokens: list[str], *, public_only: bool) -> str:
    """``a:* & b:*``: every word, each as a prefix; ``a:*A`` in public text only."""
    # Tokens are \w+ only, so they are safe inside a raw tsquery.
    weight = "A" if public_only else ""
    return " & ".join(f"{token}:*{weight}" for token in tokens)


def search_tickets(queryset: QuerySet[Ticket], text: str, *, user: Any) -> QuerySet[Ticket]:
    """``queryset`` narrowed to the tickets matching ``text`` (see the module docstring).

    The matching ids are read first, up to ``MAX_MATCHED_IDS``: the client, requester and
    id parts with one ``UNION`` over their indexes, the words (on PostgreSQL) straight
    from the documents' GIN index. The list then looks those rows up by primary key. A
    search that matches more (a common word) filters by ``pk IN (<the match>)`` instead,
    which the planner runs along the list's sort index, and is marked broad
    (:func:`is_broad`): its total is the planner's estimate, since counting tens of
    thousands of matches would cost far more than the page.
    """
    text = text.strip()
    if not text:
        return queryset
    tokens = words(text)
    postgres = _is_postgres(queryset)
    User = get_user_model()

    clients = Client.objects.filter(name__icontains=text).values("pk")
    parts = [Ticket.objects.filter(client_id__in=clients).values("pk")]
    if _looks_like_email(text):
        requesters = User._default_manager.filter(email__icontains=text).values("pk")
        parts.append(Ticket.objects.filter(requester_id__in=requesters).values("pk"))
    if parse_id(text) is not None:
        parts.append(Ticket.objects.filter(pk=parse_id(text)).values("pk"))

    documents = None
    if tokens and postgres:
        documents = RawSQL(DOCUMENT_MATCH, [tsquery(tokens, public_only=not can_view_notes(user))])
    elif tokens:
        replies = Reply.objects.all()
        if not can_view_notes(user):
            replies = replies.filter(type=ReplyType.REPLY)
        text_match = Q()
        for token in tokens:
            text_match &= Q(subject__icontains=token) | Q(message__icontains=token)
            replies = replies.filter(text__icontains=token)
        parts += [Ticket.objects.filter(text_match).values("pk"), replies.values("ticket_id")]

    matching = _union(parts)
    matched = set(matching.values_list("pk", flat=True)[: MAX_MATCHED_IDS + 1])
    others = bool(matched)
    if documents is not None and len(matched) <= MAX_MATCHED_IDS:
        if _common(queryset.db, documents):
            matched = None  # thousands: not worth reading them
        else:
            matched |= set(_document_ids(queryset.db, documents, MAX_MATCHED_IDS + 1 - len(matched)))
    if matched is not None and len(matched) <= MAX_MATCHED_IDS:
        if postgres and matched:
            # One array parameter: Django builds a 2000-item IN list param by param, which
            # cost more Python time (twice: page and count) than the whole SQL.
            return queryset.filter(pk__hd_any=sorted(matched))
        return queryset.filter(pk__in=sorted(matched))
    if documents is not None:
        if not others:
            # Only words matched: a plain semi-join, which the planner runs along the sort
            # index (dense matches) or from the GIN index (sparse ones), as it sees fit.
            matching = documents
        else:
            matching = _union([*parts, Ticket.objects.filter(pk__in=documents).values("pk")])
    # Too many ids to pass as a list: filter by the same union as a subquery. Unlike one
    # OR of the parts, each part keeps its index (the GIN index, the foreign keys).
    broad = queryset.filter(pk__in=matching)
    setattr(broad.query, _BROAD, True)
    return broad


@Ticket._meta.pk.register_lookup
class AnyOf(Lookup):
    """``pk__hd_any=[ids]``: ``id = ANY(%s::bigint[])`` with the list as one array parameter
    (PostgreSQL). Registered on the ticket's primary key only."""

    lookup_name = "hd_any"
    prepare_rhs = False

    def get_db_prep_lookup(self, value: Any, connection: Any) -> tuple[str, list[Any]]:
        return "%s", [[int(v) for v in value]]

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs}::bigint[])", [*lhs_params, *rhs_params]


def is_broad(queryset: Any) -> bool:
    """Whether ``queryset`` holds a search that matched more than ``MAX_MATCHED_IDS`` tickets.

    Paginators show such a list's total as an estimate instead of counting it. The mark
    lives on the query, so it survives further filtering, ordering and slicing.
    """
    return bool(getattr(getattr(queryset, "query", None), _BROAD, False))


def pages_by_id(queryset: Any) -> bool:
    """Whether a page of ``queryset`` is best read as its ids first, then :func:`rows_by_id`.

    A broad search on PostgreSQL: PostgreSQL plans its page query anew every time (the
    generic plan of ``@@ $1`` looks dearer to it), and planning the joins and arrays of the
    full row took 5 ms of an 8 ms query at 1M tickets. The ids alone are a plan of one table
    and the match; their rows by id a statement prepared once.
    """
    return is_broad(queryset) and _is_postgres(queryset)


def rows_by_id(queryset: QuerySet[Ticket], ids: list[int]) -> list[Ticket]:
    """The rows of ``queryset`` (the list's base, with what its rows need fetched) with these
    ids, in this order; a ticket deleted since the ids were read is left out."""
    rows = {t.pk: t for t in queryset.filter(pk__hd_any=ids)} if ids else {}
    return [rows[pk] for pk in ids if pk in rows]


def _common(using: str, documents: RawSQL) -> bool:
    """Whether the planner expects the words in more than 1% of tickets and ``MAX_MATCHED_IDS``.

    Its estimate for frequent words (from the documents' statistics) is close; for any
    other word prefix it falls back to 0.5%, so below 1% the ids are read (a few at most
    for a truly rare word). Reading the ids of a frequent word would build a bitmap of
    every matching ticket from the GIN index (30 ms for 5% of 1M tickets, 100 ms for two
    such prefixes) where the page alone needs a few hundred of them.
    """
    # One EXPLAIN, two estimates: the Append's first child is the match, the second the
    # whole table.
    # Remembered like the lists' estimates (``counting.explain``).
    sql = f"{documents.sql} UNION ALL SELECT ticket_id FROM helpdesk_ticket_search"
    top = explain(using, sql, documents.params)[0]["Plan"]
    if top.get("Node Type") != "Append" or len(top.get("Plans", ())) != 2:
        return False  # another plan shape (a parallel one): read the ids, a bounded cost
    match, table = (child["Plan Rows"] for child in top["Plans"])
    return match > MAX_MATCHED_IDS and match > 0.01 * table


def _document_ids(using: str, documents: RawSQL, limit: int) -> list[int]:
    # MATERIALIZED: planned without the LIMIT, so a rare word is read from the GIN index
    # (with the LIMIT, PostgreSQL hopes to find enough rows early in a sequential scan
    # that parses every document: 0.5 s at 1M tickets); rows are still pulled lazily,
    # so the scan stops at ``limit``.
    sql, params = documents.sql, documents.params
    with connections[using].cursor() as cursor:
        cursor.execute(f"WITH m AS MATERIALIZED ({sql}) SELECT ticket_id FROM m LIMIT %s", [*params, limit])
        return [row[0] for row in cursor.fetchall()]


def _union(parts: list[QuerySet[Any]]) -> QuerySet[Any]:
    first, *rest = (part.order_by() for part in parts)
    # order_by() on the union too: Django 6.1 otherwise orders the sliced union by the
    # model's default ordering, columns the union does not select (an error on SQLite).
    return first.union(*rest).order_by() if rest else first


def _looks_like_email(text: str) -> bool:
    # Emails are matched only for an address or domain: a substring match on every
    # user's email for any word would read the whole user table.
    return "@" in text or ("." in text and " " not in text)


def _is_postgres(queryset: QuerySet[Any]) -> bool:
    return connections[queryset.db].vendor == "postgresql"


def install_search_config(connection: Any) -> str:
    """Make ``HELPDESK["SEARCH_CONFIG"]`` the configuration of the search documents (PostgreSQL).

    Returns its name; ``ValueError`` for a name PostgreSQL does not know. The documents
    keep the old configuration until rebuilt: see ``manage.py helpdesk_search_rebuild``,
    which calls this first.
    """
    from django.db import DatabaseError, transaction

    from .conf import helpdesk_settings

    config = helpdesk_settings.SEARCH_CONFIG
    if not isinstance(config, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", config):
        raise ValueError(f"HELPDESK SEARCH_CONFIG is not a text search configuration name: {config!r}")
    with connection.cursor() as cursor:
        try:
            with transaction.atomic(using=connection.alias):
                cursor.execute("SELECT %s::regconfig", [config])
        except DatabaseError as error:
            raise ValueError(f"HELPDESK SEARCH_CONFIG {config!r}: {error}".strip()) from error
        cursor.execute(
            "CREATE OR REPLACE FUNCTION helpdesk_search_config() RETURNS regconfig "
            f"LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT '{config}'::regconfig $$"
        )
    return config


# -- the rebuild, inline or as tasks ---------------------------------------------------------

#: Tickets per statement or task: a range of this many ids holds at most this many tickets.
REBUILD_BATCH = 5000


def rebuild_ranges(top: int | None, batch: int = REBUILD_BATCH) -> list[tuple[int, int]]:
    """The id ranges (``low``, ``high``, inclusive) that cover every ticket id up to ``top``."""
    return [] if top is None else [(low, low + batch - 1) for low in range(0, top + 1, batch)]


def rebuild_range(connection: Any, low: int, high: int) -> int:
    """(Re)build the documents of the tickets with ids ``low``–``high``; returns how many
    changed. Idempotent: an upsert of each document (migration 0009)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT helpdesk_search_rebuild_range(%s, %s)", [low, high])
        return int(cursor.fetchone()[0])


@helpdesk_task
def search_rebuild_range_task(low: int, high: int, using: str = "default") -> dict[str, int]:
    """A task of ``manage.py helpdesk_search_rebuild --background``: one id range."""
    with transaction.atomic(using=using):
        written = rebuild_range(connections[using], low, high)
    return {"low": low, "high": high, "written": written}


def enqueue_rebuild(using: str = "default", batch: int = REBUILD_BATCH) -> tuple[int, int | None]:
    """Queue the rebuild of every document as one task per id range (run by the task
    workers, retried like every task); returns the number of tasks and the highest id.

    Searches keep answering meanwhile: each document is replaced where it stands.
    """
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT max(id) FROM helpdesk_ticket")
        top = cursor.fetchone()[0]
    ranges = rebuild_ranges(top, batch)
    for low, high in ranges:
        # Not on commit, and not swallowed: a backend that refuses the task is the caller's error.
        search_rebuild_range_task.enqueue(low, high, using)
    return len(ranges), top

