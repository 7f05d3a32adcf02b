"""The ``sla`` object on every ticket and the ``sla`` filter of ``GET /tickets``."""

import datetime

from django.utils import timezone

from helpdesk import services
from helpdesk.models import Ticket, TicketStatus
from tests import factories


def make(department, client_org, subject):
    return services.ticket_create(subject=subject, message="m", department=department, client=client_org, silent=True)


def test_every_ticket_has_an_sla_object(api, department, client_org):
    policy = factories.SLAPolicyFactory(first_response_minutes=60, resolution_minutes=480)
    ticket = make(department, client_org, "with sla")
    data = api.get(f"/api/tickets/{ticket.pk}").json()["data"]
    sla = data["sla"]
    assert sla["policy_id"] == policy.pk
    assert (sla["state"], sla["target"], sla["paused"]) == ("running", "first_response", False)
    assert sla["due_at"] == sla["first_response_due"] and sla["first_response_due"].endswith("Z")
    assert sla["resolution_due"] is not None


def test_a_ticket_without_a_policy_says_none(api, ticket):
    assert api.get(f"/api/tickets/{ticket.pk}").json()["data"]["sla"] == {
        "policy_id": None, "first_response_due": None, "resolution_due": None, "paused": False,
        "state": "none", "target": None, "due_at": None,
    }


def test_filter_tickets_by_sla(api, department, client_org):
    factories.SLAPolicyFactory(first_response_minutes=60, resolution_minutes=None)
    late = make(department, client_org, "late")
    Ticket.objects.filter(pk=late.pk).update(first_response_due_at=timezone.now() - datetime.timedelta(hours=1))
    soon = make(department, client_org, "soon")
    waiting = make(department, client_org, "waiting")
    services.ticket_change_status(ticket=waiting, status=TicketStatus.objects.get(pk=TicketStatus.ANSWERED))

    def ids(value):
        response = api.get("/api/tickets", {"sla": value})
        assert response.status_code == 200, response.json()
        return {t["id"] for t in response.json()["data"]}

    assert ids("breached") == {late.pk}
    assert ids("soon") == {soon.pk}
    assert ids("paused") == {waiting.pk}
    assert ids("none") == set()
    response = api.get("/api/tickets", {"sla": "someday"})
    assert response.status_code == 422
