"""Webhooks against a real HTTP receiver on loopback: signed the Standard Webhooks way
(verified with the library), retried on 5xx and timeouts, in order per ticket, disabled
after a run of failures, re-sendable, and refused for addresses they must never reach."""

import json
import socket

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from standardwebhooks.webhooks import Webhook

from helpdesk import services
from helpdesk.api.serializers import reply_data
from helpdesk.events import webhooks
from helpdesk.models import DeliveryStatus, Reply, TicketStatus, WebhookAttempt, WebhookDelivery, WebhookSubscription

from .. import factories
from .receiver import Receiver

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def db_tasks(settings, default_statuses):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.HELPDESK = {"WEBHOOK_ALLOW_PRIVATE": True, "WEBHOOK_RETRY_BACKOFF_SECONDS": 0,
                         "WEBHOOK_TIMEOUT_SECONDS": 2}


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


def run_worker():
    call_command("db_worker", batch=True, startup_delay=False, reload=False, interval=0, verbosity=0)


def subscribe(url, events=("*",), **kwargs):
    return webhooks.webhook_create(url=url, events=list(events), **kwargs)


def make_ticket(**kwargs):
    return services.ticket_create(subject="Printer on fire", message="help", department=factories.DepartmentFactory(),
                                  client=factories.ClientFactory(), **kwargs)


def test_a_change_arrives_signed_with_the_api_ticket_object(receiver):
    hook = subscribe(receiver.url, ["ticket.created"])
    assert hook.secret.startswith("whsec_")
    ticket = make_ticket(tags=["vip"])
    assert receiver.received == []  # queued, not sent inside the request
    run_worker()
    [message] = receiver.received
    payload = Webhook(hook.secret).verify(message["body"], message["headers"])  # raises if the signature is wrong
    assert payload["type"] == "ticket.created"
    data = payload["data"]
    assert (data["id"], data["subject"], data["status"], data["tags"]) == (
        ticket.pk, "Printer on fire", {"id": 1, "title": "Open"}, ["vip"])
    assert message["headers"]["webhook-id"].startswith("msg_")
    attempt = WebhookAttempt.objects.get()
    assert (attempt.ok, attempt.status_code, attempt.response_excerpt) == (True, 200, "thanks")
    assert WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED


def test_a_wrong_secret_fails_verification(receiver):
    subscribe(receiver.url)
    make_ticket()
    run_worker()
    message = receiver.received[0]
    with pytest.raises(Exception, match="(?i)signature"):
        Webhook(webhooks.clean_secret("whsec_" + "A" * 44)).verify(message["body"], message["headers"])


def test_a_rolled_back_change_sends_nothing(receiver):
    subscribe(receiver.url)
    with pytest.raises(RuntimeError), transaction.atomic():
        make_ticket()
        raise RuntimeError("the request failed later")
    run_worker()
    assert receiver.received == [] and not WebhookDelivery.objects.exists()


def test_only_the_events_asked_for_are_sent(receiver):
    subscribe(receiver.url, ["reply.created"])
    agent = factories.AgentFactory()
    ticket = make_ticket()
    services.ticket_change_status(ticket=ticket, status=TicketStatus.objects.get(pk=2), by=agent)
    reply = services.reply_post(ticket=ticket, author=agent, text="Fixed.")
    run_worker()
    assert receiver.types() == ["reply.created"]
    data = receiver.payloads()[0]["data"]
    # The payload is the API's reply object, whatever fields that gains.
    assert data == json.loads(json.dumps(reply_data(Reply.objects.get(pk=reply.pk)), cls=DjangoJSONEncoder))
    assert (data["id"], data["ticket_id"], data["text"], data["attachments"]) == (reply.pk, ticket.pk, "Fixed.", [])
    assert data["author"] == {"id": agent.pk, "name": agent.get_full_name() or agent.get_username()}


def test_a_500_is_retried_until_it_works_with_the_same_message_id(receiver):
    receiver.answers = [500, 503]
    subscribe(receiver.url)
    make_ticket()
    run_worker()
    assert len(receiver.received) == 3
    assert len({r["headers"]["webhook-id"] for r in receiver.received}) == 1
    assert list(WebhookAttempt.objects.values_list("status_code", "ok")) == [(500, False), (503, False), (200, True)]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 3)
    assert WebhookSubscription.objects.get().failure_count == 0  # a success resets the run


def test_a_retry_waits_its_backoff(receiver, settings):
    settings.HELPDESK = {**settings.HELPDESK, "WEBHOOK_RETRY_BACKOFF_SECONDS": 60}
    receiver.answers = [500]
    subscribe(receiver.url)
    make_ticket()
    run_worker()
    assert len(receiver.received) == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert 55 < (delivery.next_attempt_at - delivery.created_at).total_seconds() < 65
    assert webhooks.retry_delay(1).total_seconds() == 60 and webhooks.retry_delay(3).total_seconds() == 240


def test_a_timeout_is_retried(receiver, settings):
    settings.HELPDESK = {**settings.HELPDESK, "WEBHOOK_TIMEOUT_SECONDS": 0.3, "WEBHOOK_MAX_ATTEMPTS": 2}
    receiver.delay = 1
    subscribe(receiver.url)
    make_ticket()
    run_worker()
    attempts = list(WebhookAttempt.objects.all())
    assert len(attempts) == 2 and all("timed out" in a.error.lower() or "timeout" in a.error.lower() for a in attempts)
    assert WebhookDelivery.objects.get().status == DeliveryStatus.FAILED


def test_events_of_a_ticket_arrive_in_order_even_across_failures(receiver):
    receiver.answers = [500, 500]
    subscribe(receiver.url)
    agent = factories.AgentFactory()
    ticket = make_ticket()
    services.reply_post(ticket=ticket, author=agent, text="On it.")
    services.ticket_change_status(ticket=ticket, status=TicketStatus.objects.get(pk=2), by=agent)
    services.ticket_set_tags(ticket=ticket, tags=["done"], by=agent)
    services.ticket_update(ticket=ticket, subject="Printer fixed", by=agent)
    run_worker()
    delivered = [t for t, r in zip(receiver.types(), receiver.received) if r is not None]
    # The first message failed twice; the later ones waited for it.
    assert delivered == ["ticket.created"] * 3 + ["reply.created", "ticket.status_changed", "tags.changed",
                                                  "ticket.updated"]
    payloads = receiver.payloads()
    assert payloads[-3]["previous_status"] == {"id": 1, "title": "Open"}
    assert payloads[-3]["data"]["status"]["title"] == "Closed"
    assert payloads[-2]["data"]["tags"] == ["done"] and payloads[-1]["data"]["subject"] == "Printer fixed"


def test_a_run_of_failures_disables_the_webhook_and_says_why(receiver, settings):
    settings.HELPDESK = {**settings.HELPDESK, "WEBHOOK_DISABLE_AFTER_FAILURES": 3, "WEBHOOK_MAX_ATTEMPTS": 10}
    receiver.default = 500
    hook = subscribe(receiver.url)
    make_ticket()
    run_worker()
    hook.refresh_from_db()
    assert len(receiver.received) == 3
    assert not hook.is_active
    assert "after 3 failed deliveries in a row" in hook.disabled_reason and "HTTP 500" in hook.disabled_reason
    make_ticket()  # a disabled webhook gets no new messages
    assert WebhookDelivery.objects.count() == 1
    # Turned on again (the admin's action), it delivers what waited.
    receiver.default = 200
    webhooks.enable(hook)
    run_worker()
    assert WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED


def test_a_client_error_is_not_retried(receiver):
    receiver.answers = [410]
    subscribe(receiver.url)
    make_ticket()
    run_worker()
    assert len(receiver.received) == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and "HTTP 410" in delivery.last_error


def test_redirects_are_not_followed(receiver):
    receiver.answers = [302]
    receiver.location = receiver.url + "/elsewhere"
    subscribe(receiver.url)
    make_ticket()
    run_worker()
    assert [r["path"] for r in receiver.received] == ["/hook"]
    assert "Redirects are not followed" in WebhookDelivery.objects.get().last_error


def test_a_huge_answer_is_cut(receiver):
    receiver.body = b"x" * 5_000_000
    subscribe(receiver.url)
    make_ticket()
    run_worker()
    attempt = WebhookAttempt.objects.get()
    assert attempt.ok and len(attempt.response_excerpt) == webhooks.EXCERPT_CHARS


def test_a_message_can_be_sent_again(receiver):
    subscribe(receiver.url)
    make_ticket()
    run_worker()
    webhooks.resend(WebhookDelivery.objects.all())
    run_worker()
    assert len(receiver.received) == 2
    assert receiver.received[0]["headers"]["webhook-id"] == receiver.received[1]["headers"]["webhook-id"]


def test_deletions_carry_the_object_as_it_was(receiver):
    agent = factories.SuperuserFactory()  # deleting tickets takes helpdesk.delete_ticket
    ticket = make_ticket()
    reply = services.reply_post(ticket=ticket, author=agent, text="Oops")
    subscribe(receiver.url, ["reply.deleted", "ticket.deleted"])
    reply_id, ticket_id = reply.pk, ticket.pk
    services.reply_delete(reply=reply, by=agent)
    services.ticket_delete(ticket=ticket, by=agent)
    run_worker()
    assert receiver.types() == ["reply.deleted", "ticket.deleted"]
    first, second = receiver.payloads()
    assert (first["data"]["id"], first["data"]["text"]) == (reply_id, "Oops")
    assert (second["data"]["id"], second["data"]["replies_count"]) == (ticket_id, 0)


# -- addresses a webhook must never reach -------------------------------------------------


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/", "http://[::ffff:169.254.169.254]/",
    "http://[fe80::1]/", "http://0.0.0.0:8000/",
])
def test_link_local_and_metadata_addresses_are_always_refused(url):
    with pytest.raises(ValidationError) as error:
        subscribe(url)
    assert "always refused" in str(error.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/", "http://10.0.0.8/", "http://[::1]/", "http://localhost/",
                                 "http://192.168.1.1/"])
def test_private_addresses_are_refused_by_default(settings, url):
    settings.HELPDESK = {}
    with pytest.raises(ValidationError) as error:
        subscribe(url)
    assert "WEBHOOK_ALLOW_PRIVATE" in str(error.value)


@pytest.mark.parametrize("url", ["ftp://hooks.example/", "http://user:pw@hooks.example/", "not a url", ""])
def test_bad_urls_are_refused(url):
    with pytest.raises(ValidationError):
        subscribe(url)


def test_a_name_resolving_to_loopback_is_refused_when_connecting(receiver, settings):
    # "vm" is in this machine's /etc/hosts as 127.0.0.1: the name passes, its address not.
    assert socket.gethostbyname("vm") == "127.0.0.1"
    settings.HELPDESK = {"WEBHOOK_RETRY_BACKOFF_SECONDS": 0}
    subscribe(f"http://vm:{receiver.port}/hook")
    make_ticket()
    run_worker()
    assert receiver.received == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1  # refused: not retried
    assert "127.0.0.1 is a private or loopback address" in delivery.last_error


def test_a_name_resolving_to_the_metadata_address_is_refused_even_when_private_is_allowed(receiver, monkeypatch):
    # No DNS server here: the resolver's answer is the one thing faked.
    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):
        if host == "metadata.hooks.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", 80))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    subscribe("http://metadata.hooks.example/")
    make_ticket()
    run_worker()
    assert "169.254.169.254 is a link-local or cloud-metadata address" in WebhookDelivery.objects.get().last_error



def test_the_sweep_requeues_messages_whose_task_was_lost(receiver, settings):
    """A message whose task never ran (a killed worker, a lost queue) waits in the outbox
    and goes out once the sweep re-queues it."""
    from django_tasks_db.models import DBTaskResult

    subscribe(receiver.url)
    make_ticket()
    DBTaskResult.objects.all().delete()  # the queue lost the task
    run_worker()
    assert receiver.received == []
    call_command("helpdesk_webhooks", "--sweep")
    run_worker()
    assert receiver.types() == ["ticket.created"]


def test_a_leased_webhook_waits_for_the_lease(receiver):
    """Two deliveries of one webhook never run at once: the second finds the lease taken
    and comes back when it runs out (a killed worker's lease just runs out)."""
    import datetime

    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    hook = subscribe(receiver.url)
    make_ticket()
    WebhookSubscription.objects.filter(pk=hook.pk).update(
        lease_until=timezone.now() + datetime.timedelta(seconds=30), lease_token="dead-worker")
    run_worker()
    assert receiver.received == []
    later = DBTaskResult.objects.get(status="READY")
    assert later.run_after > timezone.now() + datetime.timedelta(seconds=25)
    WebhookSubscription.objects.filter(pk=hook.pk).update(lease_until=timezone.now())  # time passes
    DBTaskResult.objects.filter(pk=later.pk).update(run_after=timezone.now())
    run_worker()
    assert receiver.types() == ["ticket.created"]
