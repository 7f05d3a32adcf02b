"""factory_boy factories for every model, in one place."""

import datetime

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from helpdesk import models


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class StaffFactory(UserFactory):
    """A staff user with no helpdesk permissions: nobody to the helpdesk."""

    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True


class AgentFactory(StaffFactory):
    """An agent: staff in the "Helpdesk agents" group (``departments=[...]`` limits them)."""

    username = factory.Sequence(lambda n: f"agent{n}")

    @factory.post_generation
    def agent_group(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            from helpdesk.permissions import ensure_agent_group

            obj.groups.add(ensure_agent_group())

    @factory.post_generation
    def departments(obj, create, extracted, **kwargs):
        if create and extracted is not None:
            models.AgentAccess.objects.create(user=obj).departments.set(extracted)


class SuperuserFactory(AgentFactory):
    username = factory.Sequence(lambda n: f"admin{n}")
    is_superuser = True


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Department

    name = factory.Sequence(lambda n: f"Department {n}")


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Client

    name = factory.Sequence(lambda n: f"Client {n}")


class ClientDomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.ClientDomain

    client = factory.SubFactory(ClientFactory)
    domain = factory.Sequence(lambda n: f"client{n}.example")


class ContactFactory(factory.django.DjangoModelFactory):
    """A client contact; ``ContactFactory().user`` is the user who signs in."""

    class Meta:
        model = models.Contact

    user = factory.SubFactory(UserFactory, username=factory.Sequence(lambda n: f"contact{n}"))
    client = factory.SubFactory(ClientFactory)


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Project

    client = factory.SubFactory(ClientFactory)
    name = factory.Sequence(lambda n: f"Project {n}")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Tag

    name = factory.Sequence(lambda n: f"tag{n}")


class CustomFieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.CustomField

    key = factory.Sequence(lambda n: f"field_{n}")
    label = factory.LazyAttribute(lambda f: f.key.replace("_", " ").title())


class TicketFactory(factory.django.DjangoModelFactory):
    """A ticket row written directly (no history); use ``services.ticket_create`` to test rules."""

    class Meta:
        model = models.Ticket
        skip_postgeneration_save = True

    subject = factory.Faker("sentence", nb_words=5)
    message = factory.Faker("paragraph")
    status = factory.LazyFunction(lambda: models.TicketStatus.objects.get(pk=models.TicketStatus.OPEN))
    department = factory.SubFactory(DepartmentFactory)
    client = factory.SubFactory(ClientFactory)
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyAttribute(lambda t: t.created_at)

    @factory.post_generation
    def tags(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.tags.set(extracted)

    @factory.post_generation
    def assignees(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.assignees.set(extracted)


class ReplyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Reply

    ticket = factory.SubFactory(TicketFactory)
    author = factory.SubFactory(AgentFactory)
    text = factory.Faker("paragraph")


class BusinessCalendarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.BusinessCalendar

    name = factory.Sequence(lambda n: f"Office hours {n}")
    time_zone = "Europe/Berlin"
    working_days = "12345"


class HolidayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Holiday

    calendar = factory.SubFactory(BusinessCalendarFactory)
    date = factory.Sequence(lambda n: datetime.date(2026, 12, 24) + datetime.timedelta(days=n))
    name = "Holiday"


class SLAPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.SLAPolicy

    name = factory.Sequence(lambda n: f"Policy {n}")
    first_response_minutes = 60
    resolution_minutes = 480


class CannedReplyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.CannedReply

    title = factory.Sequence(lambda n: f"Canned {n}")
    body = "Hi {{ requester.first_name }}, about ticket #{{ ticket.id }}: we are on it."


def ensure_default_statuses() -> None:
    """The default statuses (migration 0002's data), which a transactional test's flush
    removes: put back unless they are there."""
    import importlib

    from django.apps import apps
    from django.db import connection

    if not models.TicketStatus.objects.exists():
        migration = importlib.import_module("helpdesk.migrations.0002_default_statuses_and_agent_group")
        with connection.schema_editor() as editor:
            migration.create_statuses(apps, editor)
