"""The write rules in ``helpdesk.services``: dates, history, counters, validation."""

import datetime
import decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.utils import timezone

from helpdesk import services
from helpdesk.models import (
    ActiveState,
    Channel,
    Priority,
    Reply,
    ReplyType,
    StatusChange,
    Tag,
    Ticket,
    TicketStatus,
)

from . import factories

pytestmark = pytest.mark.django_db


def status(pk):
    return TicketStatus.objects.get(pk=pk)


@pytest.fixture
def make_ticket(agent, department, client_org):
    def make(**kwargs):
        data = {"subject": "Cannot log in", "message": "Error 500", "department": department, "client": client_org,
                "creator": agent}
        data.update(kwargs)
        return services.ticket_create(**data)

    return make


@pytest.fixture
def ticket(make_ticket):
    return make_ticket()


def history(ticket):
    return list(StatusChange.objects.filter(ticket=ticket).values_list("from_status", "to_status"))


# --- ticket_create -----------------------------------------------------------------------


def test_create_sets_dates_and_first_history_row(make_ticket, agent):
    before = timezone.now()
    ticket = make_ticket()
    ticket.refresh_from_db()
    assert ticket.status_id == TicketStatus.OPEN
    assert before <= ticket.created_at <= timezone.now()
    assert ticket.updated_at == ticket.created_at == ticket.status_changed_at
    assert ticket.first_response_at is None and ticket.last_reply_at is None and ticket.closed_at is None
    assert ticket.replies_count == 0 and ticket.notes_count == 0
    assert history(ticket) == [(None, TicketStatus.OPEN)]
    change = StatusChange.objects.get(ticket=ticket)
    assert change.changed_by == agent and change.changed_at == ticket.created_at


def test_create_in_a_closed_status_sets_closed(make_ticket):
    ticket = make_ticket(status=status(TicketStatus.CLOSED))
    assert ticket.closed_at == ticket.created_at
    assert history(ticket) == [(None, TicketStatus.CLOSED)]


def test_create_uses_default_status_setting(make_ticket, settings):
    settings.HELPDESK = {"DEFAULT_STATUS_ID": TicketStatus.ON_HOLD}
    assert make_ticket().status_id == TicketStatus.ON_HOLD


def test_create_stores_every_field(make_ticket, agent, client_org):
    project = factories.ProjectFactory(client=client_org)
    requester = factories.UserFactory()
    ticket = make_ticket(
        priority="urgent", project=project, requester=requester, channel=Channel.API,
        assignees=[agent], tags=["Billing", " login "], type="bug", severity="S2", product="App",
        time_spent="12.5", metadata={"k": 1},
    )
    ticket.refresh_from_db()
    assert ticket.priority == Priority.URGENT and ticket.priority_slug == "urgent"
    assert ticket.project == project and ticket.requester == requester and ticket.channel == "api"
    assert list(ticket.assignees.all()) == [agent]
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["Billing", "login"]
    assert (ticket.type, ticket.severity, ticket.product) == ("bug", "S2", "App")
    assert ticket.time_spent == decimal.Decimal("12.50") and ticket.metadata == {"k": 1}


@pytest.mark.parametrize("value,expected", [
    ("normal", Priority.NORMAL), ("HIGH", Priority.HIGH), (" urgent ", Priority.URGENT),
    (2, Priority.HIGH), ("3", Priority.URGENT), (Priority.HIGH, Priority.HIGH),
])
def test_create_accepts_priority_as_slug_or_rank(make_ticket, value, expected):
    assert make_ticket(priority=value).priority == expected


@pytest.mark.parametrize("value", ["critical", "", 0, 4, "9", None, True, 2.7, [1]])
def test_create_rejects_invalid_priority(make_ticket, value):
    with pytest.raises(ValidationError) as exc:
        make_ticket(priority=value)
    assert list(exc.value.message_dict) == ["priority"]
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("field,value", [
    ("subject", ""), ("subject", "   "), ("subject", "x" * 256), ("message", ""), ("message", None),
    ("time_spent", "abc"), ("time_spent", -1), ("time_spent", "NaN"), ("time_spent", 10**8),
    ("type", "x" * 65), ("severity", "x" * 65), ("product", "x" * 129),
])
def test_create_rejects_invalid_field_and_writes_nothing(make_ticket, field, value):
    with pytest.raises(ValidationError) as exc:
        make_ticket(**{field: value})
    assert field in exc.value.message_dict
    assert not Ticket.objects.exists() and not StatusChange.objects.exists()


def test_create_reports_every_error_at_once(make_ticket):
    with pytest.raises(ValidationError) as exc:
        make_ticket(subject="", message="", priority="nope", department=None, client=None)
    assert set(exc.value.message_dict) == {"subject", "message", "priority", "department", "client"}


def test_project_must_belong_to_client(make_ticket):
    other = factories.ProjectFactory()
    with pytest.raises(ValidationError) as exc:
        make_ticket(project=other)
    assert "project" in exc.value.message_dict
    assert not Ticket.objects.exists()


def test_assignees_must_be_active_staff(make_ticket):
    customer = factories.UserFactory()
    retired = factories.AgentFactory(is_active=False)
    with pytest.raises(ValidationError) as exc:
        make_ticket(assignees=[customer, retired])
    assert customer.username in exc.value.message_dict["assignees"][0]
    assert retired.username in exc.value.message_dict["assignees"][0]
    assert not Ticket.objects.exists()


def test_required_custom_field_enforced_on_create(make_ticket):
    factories.CustomFieldFactory(key="order_number", required=True)
    with pytest.raises(ValidationError) as exc:
        make_ticket()
    assert exc.value.message_dict == {"order_number": ["This field is required."]}
    ticket = make_ticket(custom_fields={"order_number": "A-1"})
    assert ticket.custom_fields == {"order_number": "A-1"}


def test_unknown_custom_field_is_an_error_not_dropped(make_ticket):
    with pytest.raises(ValidationError) as exc:
        make_ticket(custom_fields={"nope": "x"})
    assert "nope" in exc.value.message_dict


# --- tags ----------------------------------------------------------------------------------


def test_tag_names_are_stripped_deduplicated_case_insensitively():
    assert services.clean_tag_names([" Billing ", "billing", "", "  ", "VIP", "vip"]) == ["Billing", "VIP"]


def test_a_single_string_is_one_tag_not_its_characters():
    assert services.clean_tag_names("billing") == ["billing"]


def test_too_long_tag_is_rejected():
    with pytest.raises(ValidationError) as exc:
        services.clean_tag_names(["x" * 51])
    assert "tags" in exc.value.message_dict


def test_existing_tag_reused_case_insensitively(ticket):
    existing = factories.TagFactory(name="Billing")
    rows = services.ticket_set_tags(ticket=ticket, tags=["BILLING", "new"])
    assert existing in rows
    assert Tag.objects.count() == 2
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["Billing", "new"]


def test_set_tags_replaces_and_empty_clears(ticket):
    services.ticket_set_tags(ticket=ticket, tags=["a", "b"])
    services.ticket_set_tags(ticket=ticket, tags=["b", "c"])
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["b", "c"]
    services.ticket_set_tags(ticket=ticket, tags=[])
    assert not ticket.tags.exists()


def test_add_tags_keeps_existing(ticket):
    services.ticket_set_tags(ticket=ticket, tags=["a"])
    services.ticket_add_tags(ticket=ticket, tags=["b", "A"])
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["a", "b"]


def test_invalid_tags_change_nothing(ticket):
    services.ticket_set_tags(ticket=ticket, tags=["keep"])
    with pytest.raises(ValidationError):
        services.ticket_set_tags(ticket=ticket, tags=["ok", "x" * 60])
    assert list(ticket.tags.values_list("name", flat=True)) == ["keep"]
    assert not Tag.objects.filter(name="ok").exists()


def test_tag_change_bumps_updated(ticket):
    before = ticket.updated_at
    services.ticket_set_tags(ticket=ticket, tags=["a"])
    ticket.refresh_from_db()
    assert ticket.updated_at > before


# --- assignees -----------------------------------------------------------------------------


def test_set_assignees_replaces(ticket, agent):
    other = factories.AgentFactory()
    services.ticket_set_assignees(ticket=ticket, assignees=[agent, other])
    services.ticket_set_assignees(ticket=ticket, assignees=[other])
    assert list(ticket.assignees.all()) == [other]


def test_set_assignees_rejects_non_staff_and_keeps_old(ticket, agent, contact):
    services.ticket_set_assignees(ticket=ticket, assignees=[agent])
    with pytest.raises(ValidationError) as exc:
        services.ticket_set_assignees(ticket=ticket, assignees=[agent, contact.user])
    assert "assignees" in exc.value.message_dict
    assert list(ticket.assignees.all()) == [agent]


# --- ticket_update -------------------------------------------------------------------------


def test_update_changes_fields_and_bumps_updated(ticket, department):
    other_dept = factories.DepartmentFactory()
    before = ticket.updated_at
    services.ticket_update(ticket=ticket, subject="New", priority="high", department=other_dept, time_spent=5)
    ticket.refresh_from_db()
    assert (ticket.subject, ticket.priority, ticket.department, ticket.time_spent) == (
        "New", Priority.HIGH, other_dept, decimal.Decimal("5.00"))
    assert ticket.updated_at > before
    assert ticket.created_at < ticket.updated_at


def test_update_with_errors_writes_nothing_and_leaves_instance(ticket):
    with pytest.raises(ValidationError) as exc:
        services.ticket_update(ticket=ticket, subject="Changed", priority="bogus", department=None)
    assert set(exc.value.message_dict) == {"priority", "department"}
    assert ticket.subject == "Cannot log in"
    ticket.refresh_from_db()
    assert ticket.subject == "Cannot log in" and ticket.priority == Priority.NORMAL


def test_update_rejects_unknown_field(ticket):
    with pytest.raises(TypeError, match="status"):
        services.ticket_update(ticket=ticket, status=status(2))


def test_update_project_must_belong_to_client(ticket, client_org):
    with pytest.raises(ValidationError) as exc:
        services.ticket_update(ticket=ticket, project=factories.ProjectFactory())
    assert "project" in exc.value.message_dict
    own = factories.ProjectFactory(client=client_org)
    services.ticket_update(ticket=ticket, project=own)
    # Moving the ticket to another client while it keeps the old client's project fails.
    with pytest.raises(ValidationError) as exc:
        services.ticket_update(ticket=ticket, client=factories.ClientFactory())
    assert "project" in exc.value.message_dict
    ticket.refresh_from_db()
    assert ticket.project == own


def test_update_client_and_project_together(ticket):
    new_client = factories.ClientFactory()
    project = factories.ProjectFactory(client=new_client)
    services.ticket_update(ticket=ticket, client=new_client, project=project)
    ticket.refresh_from_db()
    assert ticket.client == new_client and ticket.project == project


def test_update_merges_custom_fields_and_keeps_required(make_ticket):
    factories.CustomFieldFactory(key="order_number", required=True)
    factories.CustomFieldFactory(key="note")
    ticket = make_ticket(custom_fields={"order_number": "A-1", "note": "x"})
    services.ticket_update(ticket=ticket, custom_fields={"note": ""})
    assert ticket.custom_fields == {"order_number": "A-1"}
    with pytest.raises(ValidationError) as exc:
        services.ticket_update(ticket=ticket, custom_fields={"order_number": " "})
    assert "order_number" in exc.value.message_dict
    ticket.refresh_from_db()
    assert ticket.custom_fields == {"order_number": "A-1"}


def test_update_with_a_stale_instance_keeps_counters_dates_and_status(ticket, agent):
    stale = Ticket.objects.get(pk=ticket.pk)
    services.reply_post(ticket=ticket, author=agent, text="Hello")
    services.ticket_change_status(ticket=ticket, status=status(TicketStatus.CLOSED), by=agent)
    services.ticket_update(ticket=stale, subject="Renamed")
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert fresh.subject == "Renamed"
    assert fresh.replies_count == 1 and fresh.last_reply_at is not None and fresh.first_response_at is not None
    assert fresh.status_id == TicketStatus.CLOSED and fresh.closed_at is not None


# --- ticket_change_status ------------------------------------------------------------------


def test_change_status_records_history_and_dates(ticket, agent):
    change = services.ticket_change_status(ticket=ticket, status=status(TicketStatus.ON_HOLD), by=agent)
    ticket.refresh_from_db()
    assert (change.from_status_id, change.to_status_id, change.changed_by) == (1, 3, agent)
    assert ticket.status_id == 3 and ticket.status_changed_at == change.changed_at
    assert ticket.updated_at == change.changed_at and ticket.closed_at is None
    assert history(ticket) == [(None, 1), (1, 3)]


def test_entering_closed_sets_closed_and_leaving_clears(ticket, agent):
    services.ticket_change_status(ticket=ticket, status=status(TicketStatus.CLOSED), by=agent)
    ticket.refresh_from_db()
    closed = ticket.closed_at
    assert closed is not None and closed == ticket.status_changed_at
    services.ticket_change_status(ticket=ticket, status=status(TicketStatus.OPEN), by=agent)
    ticket.refresh_from_db()
    assert ticket.closed_at is None
    assert history(ticket) == [(None, 1), (1, 2), (2, 1)]


def test_moving_between_closed_statuses_keeps_closed_date(ticket, agent):
    resolved = TicketStatus.objects.create(title="Resolved", is_closed=True)
    at = timezone.now()
    services.ticket_change_status(ticket=ticket, status=status(TicketStatus.CLOSED), at=at)
    services.ticket_change_status(ticket=ticket, status=resolved, at=at + datetime.timedelta(hours=1))
    ticket.refresh_from_db()
    assert ticket.closed_at == at and ticket.status == resolved


def test_same_status_is_a_no_op(ticket):
    before = ticket.updated_at
    assert services.ticket_change_status(ticket=ticket, status=status(TicketStatus.OPEN)) is None
    ticket.refresh_from_db()
    assert ticket.updated_at == before and len(history(ticket)) == 1


def test_change_status_reads_the_true_current_status(ticket):
    stale = Ticket.objects.get(pk=ticket.pk)
    services.ticket_change_status(ticket=ticket, status=status(TicketStatus.ON_HOLD))
    change = services.ticket_change_status(ticket=stale, status=status(TicketStatus.CLOSED))
    assert change.from_status_id == TicketStatus.ON_HOLD
    assert history(ticket) == [(None, 1), (1, 3), (3, 2)]


def test_status_history_is_append_only(ticket):
    change = StatusChange.objects.get(ticket=ticket)
    change.to_status_id = TicketStatus.CLOSED
    with pytest.raises(ValueError, match="append-only"):
        change.save()


# --- archive, restore, delete --------------------------------------------------------------


def test_archive_and_restore(ticket):
    services.ticket_archive(ticket=ticket)
    ticket.refresh_from_db()
    assert ticket.active_state == ActiveState.ARCHIVED and ticket.is_archived
    archived_at = ticket.updated_at
    services.ticket_archive(ticket=ticket)  # already archived: nothing changes
    ticket.refresh_from_db()
    assert ticket.updated_at == archived_at
    services.ticket_restore(ticket=ticket)
    ticket.refresh_from_db()
    assert ticket.active_state == ActiveState.ACTIVE and ticket.updated_at > archived_at


def test_delete_removes_replies_and_history(ticket, agent):
    services.reply_post(ticket=ticket, author=agent, text="hi")
    services.ticket_delete(ticket=ticket)
    assert not Ticket.objects.exists() and not Reply.objects.exists() and not StatusChange.objects.exists()


# --- replies -------------------------------------------------------------------------------


def test_first_agent_public_reply_sets_first_response(ticket, agent, contact):
    services.reply_post(ticket=ticket, author=contact.user, text="any news?")
    ticket.refresh_from_db()
    assert ticket.first_response_at is None and ticket.last_reply_at is not None
    assert ticket.replies_count == 1
    first = services.reply_post(ticket=ticket, author=agent, text="Looking into it")
    second = services.reply_post(ticket=ticket, author=agent, text="Fixed")
    ticket.refresh_from_db()
    assert ticket.first_response_at == first.created_at
    assert ticket.last_reply_at == second.created_at == ticket.updated_at
    assert ticket.replies_count == 3 and ticket.notes_count == 0


def test_note_counts_separately_and_is_not_a_response(ticket, agent):
    before = ticket.updated_at
    note = services.reply_post(ticket=ticket, author=agent, text="internal", type=ReplyType.NOTE)
    ticket.refresh_from_db()
    assert note.is_note
    assert ticket.notes_count == 1 and ticket.replies_count == 0
    assert ticket.first_response_at is None and ticket.last_reply_at is None
    assert ticket.updated_at == note.created_at > before


def test_reply_keeps_the_callers_instance_current(ticket, agent):
    reply = services.reply_post(ticket=ticket, author=agent, text="hi")
    assert ticket.replies_count == 1 and ticket.last_reply_at == reply.created_at


def test_contacts_cannot_write_notes(ticket, contact):
    with pytest.raises(ValidationError) as exc:
        services.reply_post(ticket=ticket, author=contact.user, text="x", type=ReplyType.NOTE)
    assert "type" in exc.value.message_dict
    assert not Reply.objects.exists()


@pytest.mark.parametrize("kwargs,field", [({"text": ""}, "text"), ({"text": "  "}, "text"),
                                          ({"text": "x", "type": "memo"}, "type")])
def test_invalid_reply_writes_nothing(ticket, agent, kwargs, field):
    with pytest.raises(ValidationError) as exc:
        services.reply_post(ticket=ticket, author=agent, **kwargs)
    assert field in exc.value.message_dict
    ticket.refresh_from_db()
    assert not Reply.objects.exists() and ticket.replies_count == 0


def test_replies_dated_in_the_past_never_move_dates_backwards(ticket, agent):
    now = timezone.now()
    later = services.reply_post(ticket=ticket, author=agent, text="later", at=now + datetime.timedelta(hours=2))
    earlier = services.reply_post(ticket=ticket, author=agent, text="earlier", at=now + datetime.timedelta(hours=1))
    ticket.refresh_from_db()
    assert ticket.last_reply_at == later.created_at
    assert ticket.updated_at == later.created_at
    # The first response is the earliest agent reply, whatever order they were recorded in.
    assert ticket.first_response_at == earlier.created_at


def test_status_on_reply_settings(make_ticket, agent, contact, settings):
    settings.HELPDESK = {"STATUS_ON_AGENT_REPLY": TicketStatus.ANSWERED,
                         "STATUS_ON_CONTACT_REPLY": TicketStatus.CUSTOMER_REPLIED}
    ticket = make_ticket()
    services.reply_post(ticket=ticket, author=agent, text="answer")
    assert Ticket.objects.get(pk=ticket.pk).status_id == TicketStatus.ANSWERED
    services.reply_post(ticket=ticket, author=contact.user, text="thanks, but")
    assert Ticket.objects.get(pk=ticket.pk).status_id == TicketStatus.CUSTOMER_REPLIED
    services.reply_post(ticket=ticket, author=agent, text="note", type=ReplyType.NOTE)
    assert Ticket.objects.get(pk=ticket.pk).status_id == TicketStatus.CUSTOMER_REPLIED
    assert history(ticket) == [(None, 1), (1, 4), (4, 5)]


def test_no_status_change_on_reply_by_default(ticket, agent):
    services.reply_post(ticket=ticket, author=agent, text="answer")
    assert Ticket.objects.get(pk=ticket.pk).status_id == TicketStatus.OPEN
    assert len(history(ticket)) == 1


def test_reply_delete_updates_counters_and_last_reply(ticket, agent):
    now = timezone.now()
    first = services.reply_post(ticket=ticket, author=agent, text="one", at=now)
    second = services.reply_post(ticket=ticket, author=agent, text="two", at=now + datetime.timedelta(minutes=5))
    note = services.reply_post(ticket=ticket, author=agent, text="n", type=ReplyType.NOTE)
    services.reply_delete(reply=second)
    ticket.refresh_from_db()
    assert ticket.replies_count == 1 and ticket.last_reply_at == first.created_at
    services.reply_delete(reply=note)
    ticket.refresh_from_db()
    assert ticket.notes_count == 0 and ticket.last_reply_at == first.created_at
    services.reply_delete(reply=first)
    ticket.refresh_from_db()
    assert ticket.replies_count == 0 and ticket.last_reply_at is None
    # When the customer was first answered stays on record.
    assert ticket.first_response_at == first.created_at


def test_archive_and_restore_decide_by_the_row_not_a_stale_instance(ticket):
    stale = Ticket.objects.get(pk=ticket.pk)
    services.ticket_archive(ticket=ticket)
    services.ticket_restore(ticket=stale)  # stale still says "active"
    assert Ticket.objects.get(pk=ticket.pk).active_state == ActiveState.ACTIVE
    assert stale.active_state == ActiveState.ACTIVE


@pytest.mark.parametrize("value", [None, "2"])
def test_change_status_needs_a_status_row(ticket, value):
    with pytest.raises(ValidationError) as exc:
        services.ticket_change_status(ticket=ticket, status=value)
    assert "status" in exc.value.message_dict
    assert len(history(ticket)) == 1


def test_a_default_status_that_does_not_exist_is_a_clear_configuration_error(make_ticket, settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.HELPDESK = {"DEFAULT_STATUS_ID": 99}
    with pytest.raises(ImproperlyConfigured, match="DEFAULT_STATUS_ID is 99"):
        make_ticket()
    assert not Ticket.objects.exists()


def test_a_reply_status_that_does_not_exist_writes_no_reply(ticket, agent, settings):
    from django.core.exceptions import ImproperlyConfigured
    from django.db import transaction

    settings.HELPDESK = {"STATUS_ON_AGENT_REPLY": 99}
    with pytest.raises(ImproperlyConfigured, match="STATUS_ON_AGENT_REPLY"), transaction.atomic():
        services.reply_post(ticket=ticket, author=agent, text="hi")
    assert not Reply.objects.exists()


def test_tags_with_non_ascii_capitals_are_found_again(db, agent, department, client_org):
    """SQLite's LOWER() folds ASCII only: a tag like "Ëlan" once raised KeyError (a 500)."""
    ticket = services.ticket_create(subject="S", message="M", department=department, client=client_org,
                                    creator=agent, silent=True)
    services.ticket_set_tags(ticket=ticket, tags=["Ëlan", "ÉCOLE"], by=agent)
    services.ticket_set_tags(ticket=ticket, tags=["Ëlan", "ÉCOLE", "x"], by=agent)
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["x", "ÉCOLE", "Ëlan"]


# -- department-scoped agents and the note permission (issue #12) -------------------------


def test_a_limited_agent_cannot_create_or_move_tickets_outside_their_departments(client_org):
    support, billing = factories.DepartmentFactory(), factories.DepartmentFactory()
    agent = factories.AgentFactory(departments=[support])
    with pytest.raises(ValidationError) as exc:
        services.ticket_create(subject="s", message="m", department=billing, client=client_org, creator=agent)
    assert exc.value.message_dict == {"department": ["You have no access to this department."]}
    assert not Ticket.objects.exists()
    ticket = services.ticket_create(subject="s", message="m", department=support, client=client_org, creator=agent)
    with pytest.raises(ValidationError) as exc:
        services.ticket_update(ticket=ticket, by=agent, department=billing, subject="changed")
    assert exc.value.message_dict == {"department": ["You have no access to this department."]}
    ticket.refresh_from_db()
    assert (ticket.department_id, ticket.subject) == (support.pk, "s")
    # The system (no user) and unlimited agents move tickets anywhere.
    services.ticket_update(ticket=ticket, department=billing)
    services.ticket_update(ticket=ticket, by=factories.AgentFactory(), department=support)


def test_notes_need_the_add_note_permission(ticket):
    staff = factories.StaffFactory()
    staff.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="helpdesk", codename__in=["view_ticket", "change_ticket", "add_reply"]))
    with pytest.raises(ValidationError) as exc:
        services.reply_post(ticket=ticket, author=staff, text="psst", type=ReplyType.NOTE)
    assert "helpdesk.add_note" in exc.value.message_dict["type"][0]
    services.reply_post(ticket=ticket, author=staff, text="hello")
    assert list(ticket.replies.values_list("type", flat=True)) == [ReplyType.REPLY]


def test_services_refuse_staff_the_permission_model_does_not_allow(ticket):
    """What makes a dialect (or any caller) right without its own checks: every write
    service asks ``helpdesk.permissions`` about a staff ``by``."""
    from django.core.exceptions import PermissionDenied

    viewer = factories.StaffFactory()
    viewer.user_permissions.add(Permission.objects.get(codename="view_ticket", content_type__app_label="helpdesk"))
    elsewhere = factories.AgentFactory(departments=[factories.DepartmentFactory()])
    reply = services.reply_post(ticket=ticket, author=factories.AgentFactory(), text="kept", silent=True)
    closed = TicketStatus.objects.get(pk=TicketStatus.CLOSED)
    for user in (viewer, elsewhere, factories.StaffFactory()):
        writes = [
            lambda: services.ticket_update(ticket=ticket, by=user, subject="changed"),
            lambda: services.ticket_change_status(ticket=ticket, status=closed, by=user),
            lambda: services.ticket_archive(ticket=ticket, by=user),
            lambda: services.ticket_restore(ticket=ticket, by=user),
            lambda: services.ticket_set_tags(ticket=ticket, tags=["x"], by=user),
            lambda: services.ticket_add_tags(ticket=ticket, tags=["x"], by=user),
            lambda: services.ticket_set_assignees(ticket=ticket, assignees=[], by=user),
            lambda: services.reply_post(ticket=ticket, author=user, text="hi"),
            lambda: services.reply_delete(reply=reply, by=user),
            lambda: services.ticket_delete(ticket=ticket, by=user),
        ]
        for write in writes:
            with pytest.raises(PermissionDenied):
                write()
    with pytest.raises(PermissionDenied):
        services.ticket_create(subject="s", message="m", department=ticket.department, client=ticket.client,
                               creator=viewer)
    ticket.refresh_from_db()
    assert (ticket.subject, ticket.status_id, ticket.active_state) == ("Cannot log in", TicketStatus.OPEN, "active")
    assert list(ticket.replies.all()) == [reply] and not ticket.tags.exists()


def test_a_refused_create_or_reply_leaves_the_callers_transaction_usable(make_ticket, ticket, agent):
    """The hot writes take no savepoint inside a caller's transaction, but check first:
    a refusal leaves that transaction as it was, and the caller goes on."""
    from django.db import transaction

    with transaction.atomic():
        with pytest.raises(ValidationError):
            make_ticket(subject="")
        with pytest.raises(ValidationError):
            services.reply_post(ticket=ticket, author=agent, text="")
        services.reply_post(ticket=ticket, author=agent, text="Fine")
        make_ticket(subject="Second")
    assert list(ticket.replies.values_list("text", flat=True)) == ["Fine"]
    assert Ticket.objects.count() == 2
