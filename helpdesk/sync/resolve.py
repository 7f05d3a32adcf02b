"""Resolving items against the database: the tickets they name (locked), statuses,
departments, clients and people. Adds errors to items; writes nothing."""

from __future__ import annotations

import re
import zlib
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from ..conf import helpdesk_settings
from ..domains import domain_owners, free_mail_domains, may_make_client
from ..models import Client, Contact, Department, Ticket, TicketStatus
from .. import permissions
from ..permissions import is_agent
from .items import MISSING, Item, parse_id, shown


def key_filter(keys: Iterable[tuple[str, str]]) -> Q:
    """Tickets with any of ``keys``, one ``IN`` per source (not one OR per key)."""
    by_source: dict[str, list[str]] = defaultdict(list)
    for source, source_id in keys:
        by_source[source].append(source_id)
    q = Q(pk__in=[])
    for source, ids in by_source.items():
        q |= Q(external_source=source, external_id__in=ids)
    return q


#: Advisory lock namespace (the first key of PostgreSQL's two-key form) and bucket count.
_LOCK_CLASS = 0x48445359  # "HDSY"
_LOCK_BUCKETS = 64


def lock_source_ids(items: list[Item]) -> None:
    """PostgreSQL: serialise what the key alone cannot. An item without ``source`` may
    match a ticket of any source with its ``sourceId``, so it must see every concurrent
    creation of that ``sourceId``: it takes its bucket's advisory lock exclusively, every
    other item shared (sourced requests never wait for each other). Taken first, in bucket
    order, before any row lock, so they add no deadlock; released at commit."""
    if connection.vendor != "postgresql":
        return
    buckets: dict[int, bool] = {}
    for item in items:
        if item.source_id is not None:
            bucket = zlib.crc32(item.source_id.encode("utf-8")) % _LOCK_BUCKETS
            exclusive = item.ticket_id is None and not item.source_given
            buckets[bucket] = buckets.get(bucket, False) or exclusive
    if not buckets:
        return
    keys = sorted(buckets)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(CASE WHEN s.e THEN pg_advisory_xact_lock(%s, s.k)::text "
            "ELSE pg_advisory_xact_lock_shared(%s, s.k)::text END) "
            "FROM (SELECT k, e FROM unnest(%s::int[], %s::bool[]) AS t(k, e) ORDER BY k) AS s",
            [_LOCK_CLASS, _LOCK_CLASS, keys, [buckets[k] for k in keys]],
        )


def lock_existing(items: list[Item]) -> dict[Any, Ticket]:
    """The tickets the items name (by id and by key), locked until commit, in id order."""
    ids = {i.ticket_id for i in items if i.ticket_id is not None}
    keys = {i.key for i in items if i.key is not None}
    if not ids and not keys:
        return {}
    # Items without a source may match any ticket with their sourceId (match_tickets).
    bare = {i.source_id for i in items if i.ticket_id is None and i.source_id is not None and not i.source_given}
    found: dict[Any, Any] = {}
    query = Ticket.objects.filter(
        Q(pk__in=ids) | key_filter(keys) | (Q(external_id__in=bare) if bare else Q(pk__in=[]))
    ).order_by("pk").select_for_update()
    for ticket in query:
        found[ticket.pk] = ticket
        if ticket.external_id is not None:
            found[(ticket.external_source, ticket.external_id)] = ticket
            # (None, sourceId): every ticket with that sourceId, whatever its source.
            found.setdefault((None, ticket.external_id), []).append(ticket)
    return found


def match_tickets(items: list[Item], existing: dict[Any, Ticket]) -> None:
    for item in items:
        if not item.is_object:
            continue
        if item.ticket_id is not None:
            item.existing = existing.get(item.ticket_id)
            if item.existing is None:
                item.error("_id", _("No ticket has this id."))
                continue
            # An _id item may also set or change the ticket's external key.
            if item.source_id is not None:
                other = existing.get(item.key)
                if other is not None and other.pk != item.existing.pk:
                    item.error("sourceId", _("Ticket %(id)d already has this source and sourceId.") % {"id": other.pk})
        else:
            item.existing = existing.get(item.key)
            if item.existing is None and not item.source_given and item.source_id is not None:
                # Planhat's rule: sourceId alone decides, when it names one ticket.
                candidates = existing.get((None, item.source_id), [])
                if len(candidates) == 1:
                    item.existing = candidates[0]
                    item.source = item.existing.external_source
                    item.key = (item.source, item.source_id)
                elif candidates:
                    item.error("sourceId", _(
                        "%(n)d tickets have this sourceId (sources: %(s)s); give source to say which one."
                    ) % {"n": len(candidates), "s": ", ".join(sorted(shown(t.external_source) for t in candidates))})


def check_duplicates(items: list[Item]) -> None:
    """Two items for one ticket in a request: the later ones are reported, not guessed at."""
    seen: dict[Any, int] = {}
    for item in items:
        if item.errors:
            continue
        ident = item.existing.pk if item.existing is not None else item.key
        if ident in seen:
            item.error("sourceId" if item.ticket_id is None else "_id",
                       _("Item %(n)d of this request is for the same ticket.") % {"n": seen[ident]})
        else:
            seen[ident] = item.index


def resolve_reference_data(items: list[Item]) -> dict[int, TicketStatus]:
    """Statuses (by id, title or alias), departments, and what a new ticket must have."""
    statuses = list(TicketStatus.objects.all())
    by_id = {s.pk: s for s in statuses}
    by_title = {s.title.lower(): s for s in statuses}
    for alias, title in helpdesk_settings.UPSERT_STATUS_ALIASES.items():
        if title.lower() in by_title:
            by_title.setdefault(alias.lower(), by_title[title.lower()])
    create = helpdesk_settings.UPSERT_CREATE_STATUSES
    next_order = max((s.order for s in statuses), default=0) + 1
    title_max = TicketStatus._meta.get_field("title").max_length

    department_ids = {i.department_id for i in items if i.department_id is not MISSING}
    departments = {d.pk: d for d in Department.objects.filter(Q(pk__in=department_ids) | Q(is_default=True))}
    default_department = next((d for d in departments.values() if d.is_default), None)
    default_status = by_id.get(helpdesk_settings.DEFAULT_STATUS_ID)

    def status(ref: Any) -> TicketStatus | None:
        if isinstance(ref, int):
            return by_id.get(ref)
        found = by_title.get(ref.lower())
        if found is None and create and ref and len(ref) <= title_max:
            # A free-form status (Planhat's are): a new row, saved only if an item using
            # it is (write.create_statuses); items share the one unsaved instance.
            found = by_title[ref.lower()] = TicketStatus(title=ref, order=next_order, is_closed=is_closed_title(ref))
        return found

    for item in items:
        new = item.existing is None and not item.by_id
        if new and not isinstance(item.email, str) and "email" not in item.errors:
            item.error("email", _("This field is required to create a ticket."))
        if item.status_ref is not MISSING:
            item.status = status(item.status_ref)
            if item.status is None:
                item.error("status", _("Unknown status %(s)r. Use one of: %(all)s.") % {
                    "s": shown(item.status_ref), "all": ", ".join(s.title for s in statuses)}
                    if not create or isinstance(item.status_ref, int) else
                    _("A status title has at most %(n)d characters.") % {"n": title_max})
        if item.history is not None:
            rows = []
            for ref, at in item.history:
                found = status(ref)
                if found is None:
                    item.error("history", _("Unknown status %(s)r.") % {"s": shown(ref)}
                               if not create or isinstance(ref, int) else
                               _("A status title has at most %(n)d characters.") % {"n": title_max})
                else:
                    rows.append((found, at))
            rows.sort(key=lambda r: r[1])
            # A run of the same status is one stay in it: keep when it was entered.
            item.history_rows = [r for n, r in enumerate(rows) if n == 0 or rows[n - 1][0] is not r[0]]
        if item.department_id is not MISSING:
            item.department = departments.get(item.department_id)
            if item.department is None:
                item.error("departmentId", _("No department has this id."))
        elif new:
            item.department = default_department
            if item.department is None:
                item.error("departmentId", _("Give departmentId: no department is marked default."))
        if new and item.status is None and not item.history_rows and default_status is None:
            item.error("status", _("Give a status: the default status does not exist."))
        if new and item.status is None:
            item.status = item.history_rows[-1][0] if item.history_rows else default_status
    return by_id


def is_closed_title(title: str) -> bool:
    """Whether a new status counts as closed: one of ``UPSERT_CLOSED_STATUS_WORDS`` is
    a word (or run of words) of its title ("Closed - won't fix", "Resolved")."""
    lowered = title.lower()
    return any(
        re.search(rf"(?<![\w]){re.escape(word.strip().lower())}(?![\w])", lowered)
        for word in helpdesk_settings.UPSERT_CLOSED_STATUS_WORDS
        if word.strip()
    )


def resolve_clients_and_users(items: list[Item]) -> None:
    """Requesters and agents by email; the client by the first match of companyId,
    companyExternalId, domains[], the email's domain, the requester's contact."""
    user_model = get_user_model()
    email_field = user_model.get_email_field_name()
    emails = {i.email for i in items if isinstance(i.email, str)} | {i.agent_email for i in items if i.agent_email}
    users: dict[str, Any] = {}
    if emails:
        # Several users may share an address: the oldest one is the person.
        for user in (
            user_model.objects.annotate(_email=Lower(email_field)).filter(_email__in=emails).order_by("-pk")
        ):
            users[user._email] = user
    contacts = dict(
        Contact.objects.filter(user_id__in=[u.pk for u in users.values()]).values_list("user_id", "client_id")
    )

    refs: set[str] = set()
    domains: set[str] = set()
    for item in items:
        refs.update(r for r in (item.company_id, item.company_external_id) if r)
        domains.update(item.domains)
        if item.email_domain:
            domains.add(item.email_domain)
    numeric = {n for n in map(parse_id, refs) if n is not None}
    clients_by_id = {c.pk: c for c in Client.objects.filter(Q(pk__in=numeric) | Q(pk__in=set(contacts.values())))}
    clients_by_ext = {c.external_id: c for c in Client.objects.filter(external_id__in=refs)} if refs else {}
    clients_by_domain = domain_owners(refs | domains)
    default_client = None
    if helpdesk_settings.UPSERT_DEFAULT_CLIENT_ID is not None:
        default_client = Client.objects.filter(pk=helpdesk_settings.UPSERT_DEFAULT_CLIENT_ID).first()
    free = free_mail_domains()

    def lookup(ref: str) -> Client | None:
        if parse_id(ref) in clients_by_id:
            return clients_by_id[parse_id(ref)]
        return clients_by_ext.get(ref) or clients_by_domain.get(ref.lower())

    for item in items:
        if isinstance(item.email, str):
            item.requester = users.get(item.email)
        if item.agent_email:
            item.assignee = users.get(item.agent_email)
            if not is_agent(item.assignee):
                item.error("agentEmail", _("No active staff user has this email."))

        company_given = bool(item.company_id or item.company_external_id or item.domains)
        if item.by_id and item.existing is None:
            continue  # an unknown _id: reported already, never created
        if item.existing is not None and not company_given and not isinstance(item.email, str):
            continue  # nothing says the client changed
        for ref in (item.company_id, item.company_external_id, *item.domains, item.email_domain):
            if ref and (client := lookup(ref)) is not None:
                item.client = client
                break
        else:
            contact_client = contacts.get(item.requester.pk) if item.requester is not None else None
            if contact_client is not None:
                item.client = clients_by_id[contact_client]
            elif item.existing is not None:
                pass  # an update keeps its client rather than guessing a new one
            elif helpdesk_settings.UPSERT_CREATE_CLIENTS and item.company_external_id:
                item.client_plan = ("external_id", item.company_external_id)
            elif helpdesk_settings.UPSERT_CREATE_CLIENTS and item.domains:
                item.client_plan = ("domain", item.domains[0])
            elif helpdesk_settings.UPSERT_CREATE_CLIENTS and may_make_client(item.email_domain, free):
                item.client_plan = ("domain", item.email_domain)
            elif default_client is not None:
                item.client = default_client
            elif "email" not in item.errors:
                item.error("companyId", _(
                    "No client matches companyId, companyExternalId, domains or the email's domain; "
                    "give companyExternalId or domains to create one."
                ))


def check_access(items: list[Item], user: Any) -> None:
    """What ``user`` may do, item by item (``helpdesk.permissions``): update a ticket only
    with ``change_ticket`` and within their departments, create one only with
    ``add_ticket``, and put a ticket only into a department they have. ``user`` None
    (a command run without ``--user``) is the system: no check."""
    if user is None:
        return
    may_add = permissions.can_add_ticket(user) and permissions.is_agent(user)
    for item in items:
        if not item.is_object or (item.by_id and item.existing is None):
            continue
        ticket = item.existing
        if ticket is not None:
            if not permissions.can_view_ticket(user, ticket):
                item.error("_id" if item.by_id else "sourceId",
                           _("This ticket is in a department you have no access to."))
                continue
            if not permissions.can_change_ticket(user, ticket):
                item.error("non_field_errors", _("Updating tickets needs the helpdesk.change_ticket permission."))
                continue
        elif not may_add:
            item.error("non_field_errors", _("Creating tickets needs the helpdesk.add_ticket permission."))
            continue
        if item.department is not None and not permissions.can_use_department(user, item.department):
            item.error("departmentId", _("You have no access to this department."))
