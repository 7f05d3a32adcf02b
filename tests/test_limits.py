"""One limit per field (``helpdesk.limits``), enforced by the services for every entry
point: the services themselves, the native API, the bulk upsert and the admin."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from helpdesk import services
from helpdesk.limits import (
    MAX_ASSIGNEES,
    MAX_CUSTOM_FIELD_LENGTH,
    MAX_DOMAINS,
    MAX_HISTORY_ENTRIES,
    MAX_METADATA_LENGTH,
    MAX_TAGS,
    MAX_TEXT_LENGTH,
)
from helpdesk.models import CustomField, Reply, Tag, Ticket
from tests import factories
from tests.api.conftest import key_client

pytestmark = pytest.mark.django_db

TOO_MANY_TAGS = [f"tag{n}" for n in range(MAX_TAGS + 1)]


@pytest.fixture
def ticket(department, client_org):
    return factories.TicketFactory(department=department, client=client_org)


def create(department, client_org, **kwargs):
    return services.ticket_create(
        **{"subject": "s", "message": "m", "department": department, "client": client_org, **kwargs}
    )


def test_tags_at_the_cap_are_kept_one_more_is_refused(department, client_org, ticket):
    assert len(create(department, client_org, tags=TOO_MANY_TAGS[:MAX_TAGS]).tags.all()) == MAX_TAGS
    with pytest.raises(ValidationError) as caught:
        create(department, client_org, tags=TOO_MANY_TAGS)
    assert "tags" in caught.value.message_dict
    with pytest.raises(ValidationError):
        services.ticket_set_tags(ticket=ticket, tags=TOO_MANY_TAGS)
    # Duplicates (case-insensitive) count once.
    services.ticket_set_tags(ticket=ticket, tags=TOO_MANY_TAGS[:MAX_TAGS] + ["TAG0", "tag1"])
    assert ticket.tags.count() == MAX_TAGS
    # Adding to a full ticket goes over the cap too, and writes nothing.
    with pytest.raises(ValidationError):
        services.ticket_add_tags(ticket=ticket, tags=["one-more"])
    assert ticket.tags.count() == MAX_TAGS and not Tag.objects.filter(name="one-more").exists()


def test_the_upsert_keeps_the_tag_cap_per_item(agent):
    factories.DepartmentFactory(is_default=True)
    factories.ClientDomainFactory(domain="acme.com")
    items = [
        {"source": "s", "sourceId": "many", "email": "a@acme.com", "title": "Many", "tags": TOO_MANY_TAGS},
        {"source": "s", "sourceId": "few", "email": "a@acme.com", "title": "Few", "tags": ["a", "b"]},
    ]
    response = key_client(agent).put("/api/tickets", json.dumps(items), content_type="application/json")
    assert response.status_code == 206, response.content
    (error,) = response.json()["createdErrors"]
    assert error["index"] == 0 and "tags" in error["fields"]
    assert list(Ticket.objects.values_list("external_id", flat=True)) == ["few"]
    assert Tag.objects.count() == 2


@pytest.mark.parametrize("field, value, n", [
    ("history", [{"status": "open", "time": f"2024-01-01T00:00:{n % 60:02d}Z"} for n in range(MAX_HISTORY_ENTRIES + 1)],
     MAX_HISTORY_ENTRIES),
    ("domains", [f"d{n}.example" for n in range(MAX_DOMAINS + 1)], MAX_DOMAINS),
    ("description", "x" * (MAX_TEXT_LENGTH + 1), MAX_TEXT_LENGTH),
])
def test_the_upsert_reports_an_item_over_a_limit(agent, field, value, n):
    factories.DepartmentFactory(is_default=True)
    factories.ClientDomainFactory(domain="acme.com")
    items = [{"source": "s", "sourceId": "big", "email": "a@acme.com", "title": "Big", field: value},
             {"source": "s", "sourceId": "ok", "email": "a@acme.com", "title": "Ok"}]
    response = key_client(agent).put("/api/tickets", json.dumps(items), content_type="application/json")
    assert response.status_code == 206, response.content[:300]
    (error,) = response.json()["createdErrors"]
    assert error["index"] == 0 and field in error["fields"] and str(n) in " ".join(error["fields"][field])
    assert list(Ticket.objects.values_list("external_id", flat=True)) == ["ok"]


def test_assignees_are_capped(ticket):
    agents = factories.AgentFactory.create_batch(MAX_ASSIGNEES + 1)
    with pytest.raises(ValidationError) as caught:
        services.ticket_set_assignees(ticket=ticket, assignees=agents)
    assert "assignees" in caught.value.message_dict
    services.ticket_set_assignees(ticket=ticket, assignees=agents[:MAX_ASSIGNEES] + agents[:1])
    assert ticket.assignees.count() == MAX_ASSIGNEES


def test_message_and_reply_text_are_capped(department, client_org, ticket, agent):
    huge = "x" * (MAX_TEXT_LENGTH + 1)
    with pytest.raises(ValidationError) as caught:
        create(department, client_org, message=huge)
    assert "message" in caught.value.message_dict
    with pytest.raises(ValidationError):
        services.ticket_update(ticket=ticket, message=huge)
    with pytest.raises(ValidationError) as caught:
        services.reply_post(ticket=ticket, author=agent, text=huge)
    assert "text" in caught.value.message_dict
    assert not Reply.objects.exists()
    assert services.reply_post(ticket=ticket, author=agent, text="x" * MAX_TEXT_LENGTH).text


def test_custom_field_values_and_metadata_are_capped(department, client_org, ticket):
    CustomField.objects.create(key="notes", label="Notes", type="textarea")
    with pytest.raises(ValidationError) as caught:
        create(department, client_org, custom_fields={"notes": "x" * (MAX_CUSTOM_FIELD_LENGTH + 1)})
    assert "notes" in caught.value.message_dict
    assert create(department, client_org, custom_fields={"notes": "x" * MAX_CUSTOM_FIELD_LENGTH}).custom_fields
    with pytest.raises(ValidationError) as caught:
        create(department, client_org, metadata={"blob": "x" * MAX_METADATA_LENGTH})
    assert "metadata" in caught.value.message_dict
    with pytest.raises(ValidationError):
        services.ticket_update(ticket=ticket, metadata={"blob": "x" * MAX_METADATA_LENGTH})
    with pytest.raises(ValidationError):
        create(department, client_org, metadata=["not", "an", "object"])


def test_the_admin_add_tag_action_reports_a_full_ticket(client, ticket):
    client.force_login(factories.SuperuserFactory())
    services.ticket_set_tags(ticket=ticket, tags=TOO_MANY_TAGS[:MAX_TAGS])
    other = factories.TicketFactory()
    response = client.post(reverse("admin:helpdesk_ticket_changelist"),
                           {"action": "add_tag", "_selected_action": [ticket.pk, other.pk], "tag": "extra"}, follow=True)
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert any(f"#{ticket.pk}" in m and str(MAX_TAGS) in m for m in messages), messages
    assert list(other.tags.values_list("name", flat=True)) == ["extra"]
    assert ticket.tags.count() == MAX_TAGS
