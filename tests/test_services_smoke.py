from helpdesk import services
from helpdesk.models import StatusChange, TicketStatus


def test_create_records_first_status(agent, department, client_org):
    ticket = services.ticket_create(
        subject="Cannot log in", message="Error", department=department, client=client_org, creator=agent
    )
    assert ticket.status_id == TicketStatus.OPEN
    assert list(StatusChange.objects.filter(ticket=ticket).values_list("from_status", "to_status")) == [(None, 1)]
