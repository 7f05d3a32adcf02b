"""The task layer on RQ (django-tasks-rq) against the machine's Redis, switched by settings
alone: tasks queued on commit, retried with backoff, webhooks delivered by an RQ worker."""

import pytest
from django.db import transaction

from helpdesk import services
from helpdesk.events import webhooks
from helpdesk.models import DeliveryStatus, Tag, WebhookDelivery

from .. import factories
from .receiver import Receiver
from .rq_support import redis_or_skip, rq_settings, run_rq_worker
from .test_tasks import flaky_make_tag, make_tag

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def rq(settings, default_statuses):
    redis = redis_or_skip()
    redis.flushdb()  # database 5 is this suite's own
    rq_settings(settings)
    settings.HELPDESK = {"TASK_RETRY_BACKOFF_SECONDS": 0, "WEBHOOK_RETRY_BACKOFF_SECONDS": 0,
                         "WEBHOOK_ALLOW_PRIVATE": True}
    yield redis
    redis.flushdb()


def test_a_task_goes_through_redis_to_the_worker(rq):
    with transaction.atomic():
        from helpdesk.events.tasks import enqueue_on_commit

        enqueue_on_commit(make_tag, "billing")
        assert not rq.keys("rq:job:*")  # nothing before the commit
    assert rq.keys("rq:job:*")
    assert not Tag.objects.filter(name="billing").exists()
    run_rq_worker()
    assert Tag.objects.filter(name="billing").exists()


def test_a_failing_task_is_retried_on_rq(rq):
    from helpdesk.events.tasks import enqueue_on_commit

    enqueue_on_commit(flaky_make_tag, "sent", 2)
    run_rq_worker()
    assert Tag.objects.filter(name="sent").count() == 1
    assert Tag.objects.filter(name__startswith="try-sent-").count() == 3


def test_webhooks_are_delivered_by_an_rq_worker_with_retries():
    with Receiver() as receiver:
        receiver.answers = [500]
        webhooks.webhook_create(url=receiver.url, events=["*"])
        services.ticket_create(subject="Printer on fire", message="help", department=factories.DepartmentFactory(),
                               client=factories.ClientFactory())
        run_rq_worker()
        assert receiver.types() == ["ticket.created", "ticket.created"]
    assert WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED
