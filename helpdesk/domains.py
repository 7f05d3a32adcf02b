"""The one rule that finds a person's client by their email's domain, for every path that
meets a new address: ``services.requester_for_email`` (mail ingest, the dialects, the
native API) and the bulk upsert (``helpdesk.sync``, one query for a whole batch).

An address's domain is the part after its last ``@``, lower-cased. It names the client
that owns it as a ``ClientDomain`` row, exactly: ``support.acme.example`` is not
``acme.example``. A domain no client owns may make a client named after it (its first
200 characters), never a free-mail one (``UPSERT_FREE_EMAIL_DOMAINS``, any case); when
two requests claim one new domain at once, the first claim wins and the other's client
is deleted.
"""

from __future__ import annotations

from collections.abc import Iterable

from .conf import helpdesk_settings
from .models import Client, ClientDomain

#: ``Client.name``'s length: a client made from a long domain is named by its start.
_NAME_LENGTH = Client._meta.get_field("name").max_length or 200


def email_domain(email: str) -> str:
    """The domain of ``email``, lower-cased: what ``ClientDomain.domain`` holds."""
    return email.strip().rpartition("@")[2].lower()


def free_mail_domains() -> frozenset[str]:
    return frozenset(d.lower() for d in helpdesk_settings.UPSERT_FREE_EMAIL_DOMAINS)


def may_make_client(domain: str | None, free: frozenset[str] | None = None) -> bool:
    """Whether a client may be made from ``domain``: not empty, not a free-mail domain
    (``free``: ``free_mail_domains()``, passed by a caller asking for many domains)."""
    return bool(domain) and domain.lower() not in (free_mail_domains() if free is None else free)


def domain_owners(domains: Iterable[str]) -> dict[str, Client]:
    """The client owning each of ``domains`` that one owns (in one query), by lower-cased domain."""
    wanted = {d.lower() for d in domains if d}
    if not wanted:
        return {}
    return {row.domain: row.client for row in ClientDomain.objects.filter(domain__in=wanted).select_related("client")}


def claim_domains(domains: Iterable[str]) -> dict[str, Client]:
    """For each of ``domains`` (that no client owned when the caller looked) a new client
    named after it, owning it; race-safe: where a concurrent request claimed a domain
    first, its client is returned and ours is deleted. Call inside a transaction."""
    wanted = sorted({d.lower() for d in domains if d})
    if not wanted:
        return {}
    made = Client.objects.bulk_create([Client(name=d[:_NAME_LENGTH]) for d in wanted])
    ClientDomain.objects.bulk_create(
        [ClientDomain(domain=d, client=c) for d, c in zip(wanted, made)], ignore_conflicts=True
    )
    owners = domain_owners(wanted)
    lost = [c.pk for d, c in zip(wanted, made) if owners[d].pk != c.pk]
    if lost:
        Client.objects.filter(pk__in=lost).delete()
    return owners


def client_for_email(email: str, *, create: bool) -> Client | None:
    """The client of ``email``'s domain; with ``create`` a new one when none owns it and
    it may make one; else None. Call inside a transaction."""
    domain = email_domain(email)
    client = domain_owners([domain]).get(domain)
    if client is None and create and may_make_client(domain):
        client = claim_domains([domain])[domain]
    return client
