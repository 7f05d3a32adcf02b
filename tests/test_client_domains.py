"""One rule finds a person's client by their email's domain (``helpdesk.domains``): the
path of mail, the dialects and the native API (``services.requester_for_email``) and the
bulk upsert's (``helpdesk.sync``) agree on its edge cases: case, subdomains, free-mail
domains listed in capitals, domains longer than a client's name."""

import pytest
from django.db import transaction

from helpdesk import services
from helpdesk.models import Client, ClientDomain, Ticket
from helpdesk.sync import ticket_bulk_upsert

from . import factories

pytestmark = pytest.mark.django_db

LONG_DOMAIN = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 20, "example"])  # 219 characters


def outcome(client):
    """What a user would see of the client found: its name and its domains."""
    if client is None:
        return None
    return client.name, sorted(client.domains.values_list("domain", flat=True))


def through_the_service(email):
    _user, client = services.requester_for_email(email=email)
    return client


def through_the_sync(email):
    result = ticket_bulk_upsert(items=[{"source": "t", "sourceId": "1", "email": email, "title": "Hello"}])
    ticket = Ticket.objects.filter(external_id="1").first()
    if ticket is None:
        assert result.errors, result  # no client: the item is refused, never a guess
        return None
    return ticket.client


def both(email):
    """Each path on the same database, the first one's writes rolled back."""
    found = []
    for path in (through_the_service, through_the_sync):
        with transaction.atomic():
            client = path(email)
            found.append((outcome(client), Client.objects.count(), ClientDomain.objects.count()))
            transaction.set_rollback(True)
    return found


@pytest.fixture
def world(db):
    factories.DepartmentFactory(is_default=True)
    acme = factories.ClientFactory(name="Acme")
    ClientDomain.objects.create(client=acme, domain="acme.example")
    return acme


@pytest.mark.parametrize("email,expected", [
    # The domain is matched whatever its case, to the client owning it.
    ("Pat@ACME.Example", ("Acme", ["acme.example"])),
    # A subdomain is another domain: a client of its own.
    ("pat@support.acme.example", ("support.acme.example", ["support.acme.example"])),
    # Free mail never makes a client, in capitals too.
    ("Someone@GMAIL.COM", None),
    # A domain longer than a client's name names it by its first 200 characters, and is owned whole.
    (f"p@{LONG_DOMAIN}", (LONG_DOMAIN[:200], [LONG_DOMAIN])),
])
def test_both_paths_find_the_same_client(world, email, expected):
    service, sync = both(email)
    assert service == sync
    assert service[0] == expected


def test_a_free_mail_domain_listed_in_capitals(world, settings):
    settings.HELPDESK = {"UPSERT_FREE_EMAIL_DOMAINS": ["Corp-Mail.Example"]}
    service, sync = both("x@corp-mail.EXAMPLE")
    assert service == sync and service[0] is None
    assert service[1:] == (1, 1)  # nothing was made


def test_creating_clients_off_both_paths_make_none(world, settings):
    settings.HELPDESK = {"UPSERT_CREATE_CLIENTS": False}
    service, sync = both("x@newco.example")
    assert service == sync and service == (None, 1, 1)


def test_a_company_id_naming_a_domain_in_capitals_finds_its_client(world):
    result = ticket_bulk_upsert(items=[{"source": "t", "sourceId": "1", "companyId": "ACME.Example",
                                        "email": "x@gmail.com", "title": "Hello"}])
    assert result.ok, result
    assert Ticket.objects.get().client == world
