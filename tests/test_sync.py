"""The bulk upsert service (``helpdesk.sync.ticket_bulk_upsert``): matching, resolution,
per-item validation, idempotency, history and query counts."""

import copy
import datetime
import decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpdesk import signals
from helpdesk.models import Channel, Client, ClientDomain, Contact, StatusChange, Tag, Ticket, TicketStatus
from helpdesk.sync import ticket_bulk_upsert

from . import factories

User = get_user_model()
UTC = datetime.UTC

# The example request of seeds/planhat-tickets.md, verbatim.
SEED_ITEMS = [
    {
        "sourceId": "119",
        "source": "freshdesk",
        "status": "open",
        "history": [{"status": "open", "time": "2019-12-15T09:09:08.000Z"}],
        "title": "Test Ticket",
        "description": "Let have a chat?",
        "url": "http://urltoyourticket.com/119",
        "type": "ticket",
        "email": "ojpsoi57pzn@gmail.com",
        "name": "first-ojpsoi57pzn",
        "companyId": "61006bc89a3e0b702ed8ea49",
        "agentEmail": None,
        "domains": ["planhat.com", "google.com"],
    }
]


@pytest.fixture
def department(db):
    return factories.DepartmentFactory(name="Support", is_default=True)


@pytest.fixture
def acme(db):
    client = factories.ClientFactory(name="Acme", external_id="crm-acme")
    factories.ClientDomainFactory(client=client, domain="acme.com")
    return client


def item(n=1, **fields):
    data = {"source": "zendesk", "sourceId": str(n), "email": f"max{n}@acme.com", "title": f"Ticket {n}"}
    data.update(fields)
    return data


def upsert(items, by=None):
    return ticket_bulk_upsert(items=copy.deepcopy(items), by=by)


# --------------------------------------------------------------------------- the seed


def test_seed_example_creates_one_ticket_then_updates_it(department, agent):
    result = upsert(SEED_ITEMS, by=agent)

    assert result.to_dict() == {
        "created": 1, "updated": 0, "createdErrors": [], "updatedErrors": [],
        "insertsKeys": [{"_id": Ticket.objects.get().pk, "sourceId": "119"}], "updatesKeys": [],
    }
    ticket = Ticket.objects.get()
    assert (ticket.subject, ticket.message, ticket.type) == ("Test Ticket", "Let have a chat?", "ticket")
    assert (ticket.external_source, ticket.external_id) == ("freshdesk", "119")
    assert ticket.external_url == "http://urltoyourticket.com/119"
    assert ticket.channel == Channel.API
    assert ticket.creator == agent
    assert ticket.status_id == TicketStatus.OPEN
    assert ticket.department == department
    # The unknown companyId falls through; no client has the domains, so one is made.
    assert ticket.client.name == "planhat.com"
    assert set(ticket.client.domains.values_list("domain", flat=True)) == {"planhat.com", "google.com"}
    requester = ticket.requester
    assert requester.email == "ojpsoi57pzn@gmail.com"
    assert requester.first_name == "first-ojpsoi57pzn"
    assert not requester.has_usable_password()
    assert Contact.objects.get(user=requester).client == ticket.client
    change = ticket.status_changes.get()
    assert change.changed_at == datetime.datetime(2019, 12, 15, 9, 9, 8, tzinfo=UTC)
    assert change.changed_by is None
    assert ticket.created_at == change.changed_at == ticket.status_changed_at
    assert list(ticket.assignees.all()) == []

    again = upsert(SEED_ITEMS, by=agent)

    assert (again.created, again.updated) == (0, 1)
    assert again.updates_keys == [{"_id": ticket.pk, "sourceId": "119"}]
    assert Ticket.objects.count() == 1
    assert StatusChange.objects.count() == 1
    assert Client.objects.count() == 1
    assert User.objects.filter(email="ojpsoi57pzn@gmail.com").count() == 1


# --------------------------------------------------------------------------- matching


def test_same_payload_twice_is_idempotent(department, acme, agent):
    items = [item(n, tags=["a", "b"], history=[{"status": "open", "time": "2024-01-01T10:00:00Z"},
                                               {"status": "closed", "time": "2024-01-02T10:00:00Z"}])
             for n in range(5)]
    first = upsert(items, by=agent)
    snapshot = list(Ticket.objects.order_by("pk").values_list("pk", "subject", "status_id", "closed_at"))

    second = upsert(items, by=agent)

    assert (first.created, first.updated, second.created, second.updated) == (5, 0, 0, 5)
    assert [k["_id"] for k in second.updates_keys] == [k["_id"] for k in first.inserts_keys]
    assert list(Ticket.objects.order_by("pk").values_list("pk", "subject", "status_id", "closed_at")) == snapshot
    assert StatusChange.objects.count() == 10
    assert Ticket.tags.through.objects.count() == 10


def test_match_by_id_updates_our_own_ticket(department, acme, agent):
    ticket = factories.TicketFactory(subject="Old", department=department, client=acme)

    result = upsert([{"_id": ticket.pk, "title": "New", "priority": "urgent"}], by=agent)

    assert (result.created, result.updated) == (0, 1)
    assert result.updates_keys == [{"_id": ticket.pk, "sourceId": None}]
    ticket.refresh_from_db()
    assert (ticket.subject, ticket.priority_slug, ticket.client) == ("New", "urgent", acme)


def test_id_wins_over_source_key_and_can_attach_one(department, acme):
    ticket = factories.TicketFactory(department=department, client=acme)

    upsert([{"_id": str(ticket.pk), "source": "jira", "sourceId": "J-1", "title": "Linked"}])

    ticket.refresh_from_db()
    assert (ticket.external_source, ticket.external_id, ticket.subject) == ("jira", "J-1", "Linked")
    assert upsert([item(source="jira", sourceId="J-1", title="Via key")]).updated == 1
    assert Ticket.objects.get().subject == "Via key"


def test_unknown_id_is_an_update_error(department, acme):
    result = upsert([{"_id": 999999, "title": "x"}, {"_id": "abc"}])

    assert result.created == result.updated == 0
    assert [(e.index, list(e.fields)) for e in result.updated_errors] == [(0, ["_id"]), (1, ["_id"])]


def test_source_and_source_id_together_are_the_key(department, acme):
    result = upsert([item(1, source="zendesk"), item(1, source="jira"), item(1, source=None, email="x@acme.com")])

    assert result.created == 3
    assert set(Ticket.objects.values_list("external_source", "external_id")) == {
        ("zendesk", "1"), ("jira", "1"), ("", "1")}


def test_a_key_twice_in_one_request_reports_the_later_item(department, acme):
    result = upsert([item(1, title="first"), item(2), item(1, title="second")])

    assert result.created == 2
    assert [(e.index, e.source_id) for e in result.created_errors] == [(2, "1")]
    assert "Item 0" in result.created_errors[0].message
    assert Ticket.objects.get(external_id="1").subject == "first"


# --------------------------------------------------------------------------- validation


def test_invalid_items_are_reported_and_valid_ones_saved(department, acme):
    items = [
        item(1),
        "not an object",
        item(3, email="not-an-email"),
        {"source": "zendesk", "title": "no key", "email": "a@acme.com"},
        item(5, email=None),
        item(6, timeSpent="lots", priority="extreme", status="Nope"),
        item(7, history=[{"status": "open"}], createdAt="yesterday"),
        item(8, tags="ok", domains=["not a domain"], url="javascript:alert(1)"),
        item(9, title="x" * 256),
        item(10),
    ]

    result = upsert(items)

    assert result.created == 2
    errors = {e.index: e for e in result.created_errors}
    assert set(errors) == {1, 2, 3, 4, 5, 6, 7, 8}
    assert list(errors[1].fields) == ["non_field_errors"]
    assert errors[1].source_id is None
    assert list(errors[2].fields) == ["email"]
    assert list(errors[3].fields) == ["sourceId"]
    assert "required" in errors[4].fields["email"][0]
    assert set(errors[5].fields) == {"timeSpent", "priority", "status"}
    assert "Open" in errors[5].fields["status"][0]  # the message lists the statuses
    assert set(errors[6].fields) == {"history", "createdAt"}
    assert set(errors[7].fields) == {"domains", "url"}
    assert set(errors[8].fields) == {"title"}
    assert errors[5].source_id == "6" and "timeSpent" in errors[5].message
    assert set(Ticket.objects.values_list("external_id", flat=True)) == {"1", "10"}


def test_an_invalid_item_writes_nothing_at_all(department):
    before = (User.objects.count(), Client.objects.count(), Tag.objects.count())

    result = upsert([item(1, email="new@newco.com", domains=["newco.com"], tags=["fresh"], departmentId=424242)])

    assert result.created_errors[0].fields == {"departmentId": ["No department has this id."]}
    assert (User.objects.count(), Client.objects.count(), Tag.objects.count()) == before
    assert not Ticket.objects.exists()


def test_updated_before_created_is_refused(department, acme):
    result = upsert([item(createdAt="2024-02-01T00:00:00Z", updatedAt="2024-01-01T00:00:00Z")])

    assert list(result.created_errors[0].fields) == ["updatedAt"]


def test_too_many_items_raise(settings, department):
    settings.HELPDESK = {"UPSERT_MAX_ITEMS": 2}

    with pytest.raises(ValueError):
        upsert([item(1), item(2), item(3)])
    assert not Ticket.objects.exists()


def test_an_existing_ticket_with_a_bad_item_is_an_update_error_and_unchanged(department, acme):
    upsert([item(1, title="Kept")])

    result = upsert([item(1, title="Changed", status="no such status")])

    assert result.updated_errors[0].index == 0 and not result.created_errors
    assert Ticket.objects.get().subject == "Kept"


# --------------------------------------------------------------------------- fields


def test_fields_dates_and_time_spent_are_kept(department, acme):
    upsert([item(
        description="Body", type="bug", severity="high", product="App", priority="high", timeSpent=12.25,
        createdAt="2024-03-01T08:00:00Z", updatedAt="2024-03-02T09:30:00+01:00",
    )])

    ticket = Ticket.objects.get()
    assert (ticket.message, ticket.type, ticket.severity, ticket.product) == ("Body", "bug", "high", "App")
    assert ticket.priority_slug == "high"
    assert ticket.time_spent == decimal.Decimal("12.25")
    assert ticket.created_at == datetime.datetime(2024, 3, 1, 8, tzinfo=UTC)
    assert ticket.updated_at == datetime.datetime(2024, 3, 2, 8, 30, tzinfo=UTC)


def test_absent_fields_stay_as_they_are_on_update(department, acme, agent):
    upsert([item(description="Body", type="bug", tags=["keep"], agentEmail=agent.email, timeSpent=5)])

    upsert([{"source": "zendesk", "sourceId": "1", "title": "Only the title"}])

    ticket = Ticket.objects.get()
    assert (ticket.subject, ticket.message, ticket.type, ticket.time_spent) == ("Only the title", "Body", "bug", 5)
    assert [t.name for t in ticket.tags.all()] == ["keep"]
    assert list(ticket.assignees.all()) == [agent]


def test_untitled_ticket_gets_a_subject_from_its_description(department, acme):
    upsert([item(1, title=None, description="First line\nsecond"), item(2, title="", description="")])

    assert dict(Ticket.objects.values_list("external_id", "subject")) == {"1": "First line", "2": "zendesk 2"}


def test_tags_are_created_and_replaced(department, acme):
    factories.TagFactory(name="Billing")

    upsert([item(tags=["billing", "new-tag", "NEW-TAG"])])
    ticket = Ticket.objects.get()
    assert sorted(t.name for t in ticket.tags.all()) == ["Billing", "new-tag"]

    upsert([item(tags=["other"])])
    assert [t.name for t in ticket.tags.all()] == ["other"]
    upsert([item(tags=[])])
    assert not ticket.tags.exists()


def test_department_by_id_default_or_error(department, acme):
    sales = factories.DepartmentFactory(name="Sales")

    result = upsert([item(1, departmentId=sales.pk), item(2), item(3, departmentId="nope")])

    assert dict(Ticket.objects.values_list("external_id", "department__name")) == {"1": "Sales", "2": "Support"}
    assert list(result.created_errors[0].fields) == ["departmentId"]


def test_no_default_department_is_an_error(db, acme):
    result = upsert([item(1)])

    assert "default" in result.created_errors[0].fields["departmentId"][0]


# --------------------------------------------------------------------------- status and history


@pytest.mark.parametrize("ref, expected", [
    ("open", TicketStatus.OPEN), ("CLOSED", TicketStatus.CLOSED), (3, TicketStatus.ON_HOLD),
    ("4", TicketStatus.ANSWERED), ("solved", TicketStatus.CLOSED), ("pending", TicketStatus.ON_HOLD),
])
def test_status_by_title_id_or_alias(department, acme, ref, expected):
    assert upsert([item(status=ref)]).created == 1
    assert Ticket.objects.get().status_id == expected


def test_a_status_created_in_the_admin_is_found_by_title(department, acme):
    escalated = TicketStatus.objects.create(title="Escalated", order=9)

    upsert([item(status="escalated")])

    assert Ticket.objects.get().status == escalated


def test_history_is_imported_with_its_own_times_and_dates_follow_it(department, acme):
    escalated = TicketStatus.objects.create(title="Escalated", order=9)
    history = [
        {"status": "Escalated", "time": "2020-09-08T14:17:04.152Z"},
        {"status": "Escalated", "time": "2020-10-27T12:42:15.954Z"},
        {"status": "Closed", "time": "2020-12-18T11:29:53.022Z"},
        {"status": "Closed", "time": "2021-02-03T09:48:37.816Z"},
    ]
    upsert([item(status="Closed", history=list(reversed(history)), createdAt="2020-09-08T14:14:01.000Z")])

    ticket = Ticket.objects.get()
    rows = list(ticket.status_changes.values_list("from_status_id", "to_status_id", "changed_at"))
    closed_at = datetime.datetime(2020, 12, 18, 11, 29, 53, 22000, tzinfo=UTC)
    assert rows == [
        (None, escalated.pk, datetime.datetime(2020, 9, 8, 14, 17, 4, 152000, tzinfo=UTC)),
        (escalated.pk, TicketStatus.CLOSED, closed_at),
    ]
    assert ticket.status_id == TicketStatus.CLOSED
    assert ticket.status_changed_at == ticket.closed_at == closed_at


def test_a_status_change_without_history_is_recorded_by_the_agent(department, acme, agent):
    upsert([item(createdAt="2024-01-01T00:00:00Z")], by=agent)
    ticket = Ticket.objects.get()
    first = ticket.status_changes.get()
    assert (first.from_status_id, first.to_status_id, first.changed_at) == (
        None, TicketStatus.OPEN, datetime.datetime(2024, 1, 1, tzinfo=UTC))

    upsert([item(status="closed", updatedAt="2024-01-05T00:00:00Z")], by=agent)

    ticket.refresh_from_db()
    change = ticket.status_changes.last()
    assert (change.from_status_id, change.to_status_id, change.changed_by) == (TicketStatus.OPEN, TicketStatus.CLOSED, agent)
    assert ticket.closed_at == ticket.status_changed_at == datetime.datetime(2024, 1, 5, tzinfo=UTC)

    upsert([item(status="open")], by=agent)
    ticket.refresh_from_db()
    assert ticket.closed_at is None
    assert ticket.status_changes.count() == 3


def test_history_entries_already_there_are_not_added_again(department, acme):
    upsert([item(history=[{"status": "open", "time": "2024-01-01T00:00:00Z"}])])

    upsert([item(history=[{"status": "open", "time": "2024-01-01T00:00:00Z"},
                          {"status": "closed", "time": "2024-01-03T00:00:00Z"}])])

    ticket = Ticket.objects.get()
    assert list(ticket.status_changes.values_list("to_status_id", flat=True)) == [TicketStatus.OPEN, TicketStatus.CLOSED]
    assert ticket.status_id == TicketStatus.CLOSED


# --------------------------------------------------------------------------- clients


def test_client_by_company_id_external_id_domains_and_email(department, acme):
    other = factories.ClientFactory(name="Other")
    factories.ClientDomainFactory(client=other, domain="other.org")

    upsert([
        item(1, companyId=str(other.pk), email="x@acme.com"),
        item(2, companyId="crm-acme", email="x@other.org"),
        item(3, companyExternalId="crm-acme", email="x@other.org"),
        item(4, domains=["nomatch.io", "other.org"], email="x@acme.com"),
        item(5, email="y@ACME.com"),
        item(6, companyId="acme.com", email="z@gmail.com"),
    ])

    assert dict(Ticket.objects.values_list("external_id", "client__name")) == {
        "1": "Other", "2": "Acme", "3": "Acme", "4": "Other", "5": "Acme", "6": "Acme"}
    assert Client.objects.count() == 2


def test_the_requesters_client_is_used_when_nothing_else_matches(department, acme):
    contact = factories.ContactFactory(client=acme, user__email="pat@gmail.com")

    upsert([item(email="PAT@gmail.com")])

    ticket = Ticket.objects.get()
    assert (ticket.client, ticket.requester) == (acme, contact.user)


def test_unknown_company_external_id_creates_that_client(department):
    upsert([item(1, companyExternalId="sf-42", domains=["newco.com"], email="a@gmail.com"),
            item(2, companyExternalId="sf-42", email="b@newco.com")])

    client = Client.objects.get()
    assert (client.external_id, client.name) == ("sf-42", "newco.com")
    assert list(client.domains.values_list("domain", flat=True)) == ["newco.com"]
    assert set(Ticket.objects.values_list("client", flat=True)) == {client.pk}


def test_a_client_is_created_from_the_email_domain_but_never_a_free_mail_one(department):
    result = upsert([item(1, email="a@startup.dev"), item(2, email="b@startup.dev"), item(3, email="c@gmail.com")])

    assert result.created == 2
    assert ClientDomain.objects.get().domain == "startup.dev"
    assert "companyId" in result.created_errors[0].fields
    assert not Client.objects.filter(name="gmail.com").exists()


def test_default_client_setting(settings, department, acme):
    settings.HELPDESK = {"UPSERT_DEFAULT_CLIENT_ID": acme.pk, "UPSERT_CREATE_CLIENTS": False}

    result = upsert([item(1, email="c@gmail.com"), item(2, email="d@unknown.io", domains=["unknown.io"])])

    assert result.created == 2
    assert set(Ticket.objects.values_list("client", flat=True)) == {acme.pk}
    assert Client.objects.count() == 1


def test_client_creation_off_without_default_is_an_error(settings, department):
    settings.HELPDESK = {"UPSERT_CREATE_CLIENTS": False}

    result = upsert([item(email="d@unknown.io")])

    assert list(result.created_errors[0].fields) == ["companyId"]
    assert not Client.objects.exists()


def test_an_update_that_matches_no_client_keeps_its_client(department, acme):
    upsert([item(1)])

    upsert([item(1, companyId="nobody-knows", email="max1@acme.com", title="t2")])

    assert Ticket.objects.get().client == acme


# --------------------------------------------------------------------------- people


def test_existing_requester_found_by_email_any_case(department, acme):
    user = factories.UserFactory(email="Max@Acme.com")

    upsert([item(email="max@acme.COM")])

    assert Ticket.objects.get().requester == user
    assert Contact.objects.get(user=user).client == acme
    assert User.objects.count() == 1


def test_staff_requesters_never_become_contacts(department, acme, agent):
    upsert([item(email=agent.email)])

    assert Ticket.objects.get().requester == agent
    assert not Contact.objects.exists()


def test_a_contact_of_another_client_stays_there(department, acme):
    other = factories.ClientFactory()
    contact = factories.ContactFactory(client=other, user__email="max1@acme.com")

    upsert([item(1)])

    contact.refresh_from_db()
    assert contact.client == other
    assert Ticket.objects.get().client == acme  # the email's domain came first


def test_agent_email_assigns_and_null_unassigns(department, acme, agent):
    upsert([item(agentEmail=agent.email.upper())])
    ticket = Ticket.objects.get()
    assert list(ticket.assignees.all()) == [agent]

    upsert([item(agentEmail=None)])

    assert not ticket.assignees.exists()


def test_agent_email_must_be_active_staff(department, acme):
    customer = factories.UserFactory(email="cust@acme.com")
    inactive = factories.AgentFactory(email="gone@helpdesk.example", is_active=False)

    result = upsert([item(1, agentEmail=customer.email), item(2, agentEmail=inactive.email),
                     item(3, agentEmail="nobody@x.com")])

    assert [list(e.fields) for e in result.created_errors] == [["agentEmail"]] * 3
    assert not Ticket.objects.exists()


# --------------------------------------------------------------------------- extension points, cost


def test_ticket_created_is_sent_silently_for_new_tickets_only(department, acme, agent, django_capture_on_commit_callbacks):
    received = []

    def receiver(sender, ticket, by, silent, **kwargs):
        received.append((ticket.external_id, by, silent))

    signals.ticket_created.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            upsert([item(1), item(2)], by=agent)
        with django_capture_on_commit_callbacks(execute=True):
            upsert([item(1), item(3)], by=agent)
    finally:
        signals.ticket_created.disconnect(receiver)

    assert received == [("1", agent, True), ("2", agent, True), ("3", agent, True)]


def _queries(items, by):
    by = type(by).objects.get(pk=by.pk)  # a fresh user: its permissions are read in every call
    with CaptureQueriesContext(connection) as ctx:
        result = ticket_bulk_upsert(items=items, by=by)
    assert result.ok, result.errors[:3]
    # SQLite gets bulk INSERTs in batches of 999 parameters (Django's conservative
    # limit); every other statement, and on PostgreSQL every statement, is counted.
    return [q["sql"].split()[0] for q in ctx.captured_queries
            if not (connection.vendor == "sqlite" and q["sql"].startswith("INSERT"))]


def full_item(n, agent):
    return item(
        n, email=f"person{n}@co{n}.example", domains=[f"co{n}.example"], agentEmail=agent.email,
        tags=[f"tag{n}", "common"], status="closed" if n % 2 else "open",
        history=[{"status": "open", "time": f"2024-01-{1 + n % 28:02d}T00:00:00Z"}],
        createdAt="2024-01-01T00:00:00Z", timeSpent=n,
    )


def test_query_count_does_not_grow_with_the_item_count(department, agent):
    small_create = _queries([full_item(n, agent) for n in range(10)], agent)
    big_create = _queries([full_item(n, agent) for n in range(100, 300)], agent)
    small_update = _queries([full_item(n, agent) | {"title": "again"} for n in range(10)], agent)
    big_update = _queries([full_item(n, agent) | {"title": "again"} for n in range(100, 300)], agent)

    assert len(big_create) == len(small_create) < 40
    assert len(big_update) == len(small_update) < 40
    assert Ticket.objects.count() == 210


def test_unknown_fields_are_reported_not_dropped(department, acme):
    result = upsert([item(1, titel="typo", subject="x")])

    error = result.created_errors[0]
    assert "titel" in error.fields["non_field_errors"][0] and "subject" in error.fields["non_field_errors"][0]
    assert not Ticket.objects.exists()


def test_an_item_the_database_refuses_is_reported_and_the_others_saved(department, acme, monkeypatch):
    # Validation is meant to catch everything; if the database still refuses a value, the
    # batch is saved item by item so only the offending one is lost, and it is reported.
    import helpdesk.sync
    from django.db import DataError

    original = helpdesk.sync.write_tickets

    def refusing(items, **kwargs):
        if any(i.values.get("subject") == "boom" for i in items):
            raise DataError("value too long for type character varying(8)")
        return original(items, **kwargs)

    monkeypatch.setattr(helpdesk.sync, "write_tickets", refusing)

    result = upsert([item(1), item(2, title="boom"), item(3)])

    assert (result.created, [e.index for e in result.created_errors]) == (2, [1])
    assert "database refused" in result.created_errors[0].message
    assert set(Ticket.objects.values_list("external_id", flat=True)) == {"1", "3"}
    assert not User.objects.filter(email="max2@acme.com").exists()  # nothing of item 2 was kept


def test_a_lost_race_is_retried_from_the_start(department, acme, monkeypatch):
    import helpdesk.sync
    from django.db import IntegrityError

    original = helpdesk.sync.write_tickets
    calls = []

    def lose_once(items, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            # As if a concurrent request had made this requester and ticket in between.
            raise IntegrityError("duplicate key value violates unique constraint")
        return original(items, **kwargs)

    monkeypatch.setattr(helpdesk.sync, "write_tickets", lose_once)

    result = upsert([item(1), item(2)])

    assert len(calls) == 2
    assert (result.created, result.updated, result.ok) == (2, 0, True)
    assert Ticket.objects.count() == 2 and User.objects.filter(email__endswith="@acme.com").count() == 2


def test_a_race_lost_every_time_is_an_error_not_a_half_write(department, acme, monkeypatch):
    import helpdesk.sync
    from django.db import IntegrityError

    def always(items, **kwargs):
        raise IntegrityError("duplicate key")

    monkeypatch.setattr(helpdesk.sync, "write_tickets", always)

    with pytest.raises(IntegrityError):
        upsert([item(1)])
    assert not User.objects.filter(email="max1@acme.com").exists()


def test_an_unchanged_resend_rewrites_no_ticket_row(department, acme, monkeypatch):
    from helpdesk.sync import write

    items = [item(n, updatedAt="2024-05-01T00:00:00Z", status="open") for n in range(3)]
    upsert(items)
    Ticket.objects.filter(external_id="1").update(subject="Edited here")  # only this one differs
    rewritten = []
    pg_write = write._pg_write_tickets
    bulk_create = Ticket.objects.bulk_create
    monkeypatch.setattr(write, "_pg_write_tickets", lambda updates, creates: (
        rewritten.extend(t.external_id for t in updates), pg_write(updates, creates))[1])
    monkeypatch.setattr(Ticket.objects, "bulk_create", lambda objs, **kw: (
        rewritten.extend(t.external_id for t in objs), bulk_create(objs, **kw))[1])

    result = upsert(items)

    assert (result.updated, result.ok) == (3, True)
    assert rewritten == ["1"]
    assert Ticket.objects.get(external_id="1").subject == "Ticket 1"


# --------------------------------------------------------- who may sync what (issue #12)


def test_a_department_limited_agent_syncs_only_their_departments(department, acme):
    billing = factories.DepartmentFactory(name="Billing")
    mine = factories.TicketFactory(department=department, client=acme, external_source="zendesk", external_id="1")
    theirs = factories.TicketFactory(department=billing, client=acme, external_source="zendesk", external_id="2")
    theirs_too = factories.TicketFactory(department=billing, client=acme)
    mine_too = factories.TicketFactory(department=department, client=acme)
    agent = factories.AgentFactory(departments=[department])
    result = upsert([
        item(1, title="mine again"),                          # 0: an update of their ticket
        item(2, title="not mine"),                            # 1: another department's ticket, by key
        {"_id": theirs_too.pk, "title": "not mine either"},   # 2: the same, by id
        item(3),                                              # 3: new, in the default department (theirs)
        item(4, departmentId=billing.pk),                     # 4: new, in a department they lack
        {"_id": mine_too.pk, "departmentId": billing.pk},     # 5: moving their ticket out
    ], by=agent)
    assert (result.created, result.updated) == (1, 1)
    errors = {e.index: e.fields for e in result.created_errors + result.updated_errors}
    assert errors == {
        1: {"sourceId": ["This ticket is in a department you have no access to."]},
        2: {"_id": ["This ticket is in a department you have no access to."]},
        4: {"departmentId": ["You have no access to this department."]},
        5: {"departmentId": ["You have no access to this department."]},
    }
    for ticket in (mine, theirs, theirs_too, mine_too):
        ticket.refresh_from_db()
    assert mine.subject == "mine again" and mine_too.department_id == department.pk
    assert theirs.subject != "not mine" and theirs_too.subject != "not mine either"
    assert not Ticket.objects.filter(external_id="4").exists()


def test_syncing_needs_add_ticket_to_create_and_change_ticket_to_update(department, acme):
    from django.contrib.auth.models import Permission

    existing = factories.TicketFactory(department=department, client=acme, external_source="zendesk", external_id="1")
    updater = factories.StaffFactory()
    updater.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="helpdesk", codename__in=["view_ticket", "change_ticket"]))
    result = upsert([item(1, title="updated"), item(2)], by=updater)
    assert (result.created, result.updated) == (0, 1)
    assert result.created_errors[0].fields == {
        "non_field_errors": ["Creating tickets needs the helpdesk.add_ticket permission."]}
    creator = factories.StaffFactory()
    creator.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="helpdesk", codename__in=["view_ticket", "add_ticket"]))
    result = upsert([item(1, title="again"), item(2)], by=creator)
    assert (result.created, result.updated) == (1, 0)
    assert result.updated_errors[0].fields == {
        "non_field_errors": ["Updating tickets needs the helpdesk.change_ticket permission."]}
    existing.refresh_from_db()
    assert existing.subject == "updated"
