"""The sync rules Planhat's senders rely on: sourceId alone matches, free-form statuses,
and an unchanged re-send leaves "last updated" alone."""

import datetime

import pytest

from helpdesk.models import StatusChange, Ticket, TicketStatus
from helpdesk.sync import ticket_bulk_upsert
from tests import factories

UTC = datetime.UTC
pytestmark = pytest.mark.django_db


@pytest.fixture
def department(db):
    return factories.DepartmentFactory(name="Support", is_default=True)


@pytest.fixture
def acme(db):
    client = factories.ClientFactory(name="Acme", external_id="crm-acme")
    factories.ClientDomainFactory(client=client, domain="acme.com")
    return client


def upsert(items, by=None):
    return ticket_bulk_upsert(items=items, by=by)


def bare(n="7", **fields):
    """An item without source, as the legacy Planhat docs send them."""
    return {"sourceId": n, "email": "max@acme.com", "title": f"Ticket {n}", **fields}


class TestSourceIdAlone:
    def test_updates_the_one_ticket_with_that_source_id(self, department, acme):
        upsert([{"source": "HomeGrownSupport", **bare(title="First")}])
        result = upsert([bare(title="Second")])
        assert (result.created, result.updated) == (0, 1)
        ticket = Ticket.objects.get()
        assert (ticket.subject, ticket.external_source) == ("Second", "HomeGrownSupport")

    def test_creates_when_no_ticket_has_it_and_matches_itself_on_resend(self, department, acme):
        assert upsert([bare()]).created == 1
        assert upsert([bare(title="Again")]).updated == 1
        assert Ticket.objects.get().external_source == ""

    def test_two_sources_with_that_id_is_an_error_naming_them_and_saves_nothing(self, department, acme):
        upsert([{"source": "zendesk", **bare()}, {"source": "jira", **bare()}])
        result = upsert([bare(title="Which?")])
        assert result.created == result.updated == 0
        error = result.created_errors[0]
        assert "jira" in error.fields["sourceId"][0] and "zendesk" in error.fields["sourceId"][0]
        assert Ticket.objects.count() == 2 and not Ticket.objects.filter(subject="Which?").exists()

    def test_the_exact_empty_source_key_wins_over_other_sources(self, department, acme):
        upsert([bare(), {"source": "jira", **bare()}])
        assert upsert([bare(title="Mine")]).updated == 1
        assert Ticket.objects.get(external_source="").subject == "Mine"

    def test_a_given_source_is_still_part_of_the_key(self, department, acme):
        upsert([bare()])
        assert upsert([{"source": "jira", **bare()}]).created == 1


class TestFreeFormStatuses:
    def test_an_unknown_title_creates_an_open_status_and_history_keeps_names(self, department, acme):
        result = upsert([bare(status="Closed", history=[
            {"status": "Escalated", "time": "2020-09-08T14:17:04.152Z"},
            {"status": "Escalated", "time": "2020-10-27T12:42:15.954Z"},
            {"status": "Closed", "time": "2020-12-18T11:29:53.022Z"},
        ])])
        assert result.created == 1, result.to_dict()
        escalated = TicketStatus.objects.get(title="Escalated")
        assert not escalated.is_closed
        ticket = Ticket.objects.get()
        assert ticket.status.title == "Closed"
        assert [c.to_status.title for c in StatusChange.objects.filter(ticket=ticket).order_by("changed_at")] == [
            "Escalated", "Closed"]

    @pytest.mark.parametrize("title,closed", [
        ("Won't fix", True), ("Escalated", False), ("Closed - won't fix", True), ("Completed", True), ("Cancelled by customer", True),
        ("Waiting for parts", False), ("Undone", False),
    ])
    def test_closed_words_decide_whether_a_new_status_counts_as_closed(self, department, acme, title, closed):
        upsert([bare(status=title)])
        assert TicketStatus.objects.get(title=title).is_closed is closed
        assert (Ticket.objects.get().closed_at is not None) is closed

    def test_titles_match_case_insensitively_and_are_created_once(self, department, acme):
        upsert([bare("1", status="Escalated"), bare("2", status="ESCALATED")])
        upsert([bare("3", status="escalated")])
        assert TicketStatus.objects.filter(title__iexact="escalated").count() == 1
        assert set(Ticket.objects.values_list("status__title", flat=True)) == {"Escalated"}

    def test_a_refused_item_creates_no_status(self, department, acme):
        result = upsert([bare(status="Brand new state", email="not an email")])
        assert result.created_errors
        assert not TicketStatus.objects.filter(title="Brand new state").exists()

    def test_setting_off_makes_unknown_titles_errors(self, department, acme, settings):
        settings.HELPDESK = {"UPSERT_CREATE_STATUSES": False}
        result = upsert([bare(status="Escalated")])
        assert "Unknown status" in result.created_errors[0].fields["status"][0]
        assert not TicketStatus.objects.filter(title="Escalated").exists()

    def test_custom_closed_words(self, department, acme, settings):
        settings.HELPDESK = {"UPSERT_CLOSED_STATUS_WORDS": ["shipped"]}
        upsert([bare("1", status="Shipped"), bare("2", status="Finished")])
        assert TicketStatus.objects.get(title="Shipped").is_closed
        assert not TicketStatus.objects.get(title="Finished").is_closed

    def test_too_long_a_title_and_unknown_ids_are_errors(self, department, acme):
        result = upsert([bare("1", status="x" * 65), bare("2", status=999), bare("3", history=[{"status": 999, "time": "2020-01-01"}])])
        assert [e.index for e in result.created_errors] == [0, 1, 2]
        assert "64" in result.created_errors[0].fields["status"][0]


class TestUnchangedResend:
    def test_a_resend_without_updated_at_keeps_last_updated(self, department, acme):
        upsert([bare(tags=["a"], status="open")])
        past = datetime.datetime(2020, 1, 1, tzinfo=UTC)
        Ticket.objects.update(updated_at=past)
        result = upsert([bare(tags=["a"], status="open")])
        assert result.updated == 1
        assert Ticket.objects.get().updated_at == past

    @pytest.mark.parametrize("change", [{"title": "Changed"}, {"tags": ["b"]}, {"status": "Closed"}])
    def test_a_real_change_moves_last_updated(self, department, acme, change):
        upsert([bare(tags=["a"])])
        past = datetime.datetime(2020, 1, 1, tzinfo=UTC)
        Ticket.objects.update(updated_at=past)
        upsert([bare(**{"tags": ["a"], **change})])
        assert Ticket.objects.get().updated_at > past

    def test_assignee_change_moves_it_and_an_updated_at_given_stands(self, department, acme):
        agent = factories.AgentFactory(email="agent@acme.com")
        upsert([bare()])
        past = datetime.datetime(2020, 1, 1, tzinfo=UTC)
        Ticket.objects.update(updated_at=past)
        upsert([bare(agentEmail=agent.email)])
        assert Ticket.objects.get().updated_at > past
        upsert([bare(agentEmail=None, updatedAt="2021-05-05T00:00:00Z")])
        assert Ticket.objects.get().updated_at == datetime.datetime(2021, 5, 5, tzinfo=UTC)
