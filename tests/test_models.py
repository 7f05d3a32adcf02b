"""Model-level rules: defaults, constraints, normalisation, API keys, __str__."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from helpdesk.models import (
    APIKey,
    Client,
    ClientDomain,
    Department,
    Priority,
    Tag,
    Ticket,
    TicketStatus,
)

from . import factories

pytestmark = pytest.mark.django_db


def test_default_statuses_from_the_migration():
    rows = list(TicketStatus.objects.order_by("pk").values_list("pk", "title", "is_closed"))
    assert rows == [(1, "Open", False), (2, "Closed", True), (3, "On Hold", False), (4, "Answered", False),
                    (5, "Customer Replied", False)]


def test_new_statuses_get_fresh_ids_after_the_seeded_ones():
    # The migration moves PostgreSQL's sequence past the explicit ids 1-5.
    assert TicketStatus.objects.create(title="Waiting on vendor").pk > 5


@pytest.mark.parametrize("colour,ok", [("#22c55e", True), ("#ABCDEF", True), ("22c55e", False), ("#22c55", False),
                                       ("#-12345", False), ("#12_345", False), ("#gggggg", False), ("", False)])
def test_status_colour_must_be_hex(colour, ok):
    status = TicketStatus(title="X", colour=colour)
    if ok:
        status.full_clean()
    else:
        with pytest.raises(ValidationError) as exc:
            status.full_clean()
        assert "colour" in exc.value.message_dict


def test_priority_sorts_by_rank():
    for p in (Priority.HIGH, Priority.NORMAL, Priority.URGENT):
        factories.TicketFactory(priority=p, subject=Priority(p).slug)
    assert list(Ticket.objects.order_by("priority").values_list("subject", flat=True)) == ["normal", "high", "urgent"]


def test_priority_slugs():
    assert Priority.from_slug(" High ") == Priority.HIGH and Priority.URGENT.slug == "urgent"
    with pytest.raises(ValueError):
        Priority.from_slug("critical")


def test_only_one_default_department():
    first = Department.objects.create(name="Sales", is_default=True)
    second = Department.objects.create(name="Support", is_default=True)
    first.refresh_from_db()
    assert not first.is_default and second.is_default
    assert list(Department.objects.filter(is_default=True)) == [second]


def test_database_refuses_two_default_departments():
    Department.objects.create(name="Sales", is_default=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Department.objects.bulk_create([Department(name="Support", is_default=True)])


def test_tag_names_unique_ignoring_case():
    Tag.objects.create(name="Billing")
    with pytest.raises(IntegrityError), transaction.atomic():
        Tag.objects.create(name="billing")


def test_client_blank_external_id_means_none():
    a = Client.objects.create(name="A", external_id="")
    b = Client.objects.create(name="B", external_id="")
    assert a.external_id is None and b.external_id is None
    Client.objects.create(name="C", external_id="ext-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Client.objects.create(name="D", external_id="ext-1")


def test_client_domain_is_normalised_and_unique():
    client = factories.ClientFactory()
    domain = ClientDomain.objects.create(client=client, domain="  @ACME.com ")
    assert domain.domain == "acme.com"
    with pytest.raises(IntegrityError), transaction.atomic():
        ClientDomain.objects.create(client=factories.ClientFactory(), domain="Acme.COM")


def test_project_names_unique_per_client():
    project = factories.ProjectFactory(name="Website")
    factories.ProjectFactory(name="Website")  # another client's project may share the name
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.ProjectFactory(name="Website", client=project.client)


def test_external_source_and_id_unique_together_when_set():
    factories.TicketFactory(external_source="zendesk", external_id="1")
    factories.TicketFactory(external_source="jira", external_id="1")
    factories.TicketFactory()
    factories.TicketFactory()  # our own tickets: NULLs never collide
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.TicketFactory(external_source="zendesk", external_id="1")


def test_ticket_properties():
    ticket = factories.TicketFactory(subject="Hello", external_source="zendesk", external_id="9")
    assert str(ticket) == f"#{ticket.pk} Hello"
    assert ticket.is_external and not ticket.is_archived and ticket.priority_slug == "normal"
    assert not factories.TicketFactory().is_external


def test_statuses_in_use_cannot_be_deleted():
    from django.db.models import ProtectedError

    factories.TicketFactory()
    with pytest.raises(ProtectedError):
        TicketStatus.objects.get(pk=1).delete()


def test_every_model_has_a_readable_str(agent):
    ticket = factories.TicketFactory()
    reply = factories.ReplyFactory(ticket=ticket)
    contact = factories.ContactFactory()
    key, _ = APIKey.objects.create_key(user=agent, name="Zendesk sync")
    objects = [ticket, reply, contact, factories.DepartmentFactory(name="Sales"), TicketStatus.objects.get(pk=1),
               factories.TagFactory(name="vip"), factories.ClientFactory(name="Acme"),
               factories.ClientDomainFactory(domain="acme.example"), factories.ProjectFactory(name="Web"),
               factories.CustomFieldFactory(label="Order number"), key]
    texts = [str(o) for o in objects]
    assert texts[3:10] == ["Sales", "Open", "vip", "Acme", "acme.example", "Web", "Order number"]
    assert texts[1] == f"reply #{reply.pk} on ticket #{ticket.pk}"
    assert contact.client.name in texts[2] and key.prefix in texts[10]


# --- API keys ------------------------------------------------------------------------------


def test_api_key_is_stored_hashed_and_found_by_the_plain_key(agent):
    row, key = APIKey.objects.create_key(user=agent, name="sync")
    assert key.startswith(row.prefix + ".") and key not in row.hashed_key
    assert APIKey.objects.get_from_key(key) == row
    assert APIKey.objects.get_from_key(key).user == agent


@pytest.mark.parametrize("mangle", [
    lambda k: k + "x", lambda k: k[:-1], lambda k: k.replace(".", ""), lambda k: "", lambda k: ".",
    lambda k: "short.secret", lambda k: k.split(".")[0] + ".", lambda k: "x" * 8 + "." + k.split(".")[1],
])
def test_wrong_keys_find_nothing(agent, mangle):
    _, key = APIKey.objects.create_key(user=agent, name="sync")
    assert APIKey.objects.get_from_key(mangle(key)) is None


def test_revoked_and_expired_keys_find_nothing(agent):
    revoked, key1 = APIKey.objects.create_key(user=agent, name="old")
    revoked.revoked = True
    revoked.save()
    _, key2 = APIKey.objects.create_key(user=agent, name="t", expires_at=timezone.now() - datetime.timedelta(seconds=1))
    live, key3 = APIKey.objects.create_key(user=agent, name="t", expires_at=timezone.now() + datetime.timedelta(days=1))
    assert APIKey.objects.get_from_key(key1) is None
    assert APIKey.objects.get_from_key(key2) is None
    assert APIKey.objects.get_from_key(key3) == live and not live.has_expired


def test_every_key_is_different(agent):
    keys = {APIKey.objects.create_key(user=agent, name=str(i))[1] for i in range(5)}
    assert len(keys) == 5
