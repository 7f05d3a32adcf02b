"""The webhooks admin: a generated secret shown once, refused URLs, why a webhook was
disabled, turning it on again, re-sending a message and its attempt log."""

import pytest
from django.urls import reverse

from helpdesk.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookSubscription

pytestmark = pytest.mark.django_db

ADD = reverse("admin:helpdesk_webhooksubscription_add")
LIST = reverse("admin:helpdesk_webhooksubscription_changelist")


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def test_adding_a_webhook_generates_a_secret_shown_once(su_client):
    response = su_client.post(ADD, {"url": "https://crm.example.com/hook", "events": ["ticket.created", "tags.changed"],
                                    "secret": "", "description": "CRM", "is_active": "on"}, follow=True)
    hook = WebhookSubscription.objects.get()
    assert hook.events == ["ticket.created", "tags.changed"] and hook.secret.startswith("whsec_")
    assert any(hook.secret in m for m in messages_of(response))
    page = su_client.get(reverse("admin:helpdesk_webhooksubscription_change", args=[hook.pk]))
    assert hook.secret not in page.content.decode()  # never again
    # Saving the form again with the secret left empty keeps it.
    su_client.post(reverse("admin:helpdesk_webhooksubscription_change", args=[hook.pk]),
                   {"url": "https://crm.example.com/hook2", "events": ["ticket.created"],
                    "secret": "", "description": "CRM", "is_active": "on"})
    fresh = WebhookSubscription.objects.get()
    assert (fresh.url, fresh.secret) == ("https://crm.example.com/hook2", hook.secret)


@pytest.mark.parametrize("url, message", [
    ("http://169.254.169.254/", "always refused"),
    ("http://10.0.0.1/", "WEBHOOK_ALLOW_PRIVATE"),
    ("ftp://x.example/", "http or https"),
])
def test_a_refused_url_is_a_form_error(su_client, url, message):
    response = su_client.post(ADD, {"url": url, "events": ["ticket.created"], "secret": "", "is_active": "on"})
    assert response.status_code == 200 and message in response.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_the_list_says_why_a_webhook_was_disabled_and_turns_it_on_again(su_client):
    hook = WebhookSubscription.objects.create(url="https://crm.example.com/hook", events=["*"], is_active=False,
                                              failure_count=20,
                                              disabled_reason="Disabled after 20 failed deliveries in a row.")
    page = su_client.get(LIST).content.decode()
    assert "Disabled after 20 failed deliveries in a row." in page
    response = su_client.post(LIST, {"action": "enable_again", "_selected_action": [hook.pk]}, follow=True)
    assert "1 webhook turned on." in messages_of(response)
    hook.refresh_from_db()
    assert hook.is_active and hook.failure_count == 0 and hook.disabled_reason == ""


def test_a_message_is_sent_again_from_the_admin_with_its_attempts_shown(su_client):
    hook = WebhookSubscription.objects.create(url="https://crm.example.com/hook", events=["*"])
    message = WebhookDelivery.objects.create(subscription=hook, event="ticket.created", ticket_id=1, payload={},
                                             status=DeliveryStatus.FAILED, attempts=8, last_error="HTTP 500")
    WebhookAttempt.objects.create(delivery=message, status_code=500, duration_ms=12, response_excerpt="boom",
                                  error="The receiver answered HTTP 500.")
    page = su_client.get(reverse("admin:helpdesk_webhookdelivery_change", args=[message.pk])).content.decode()
    assert "boom" in page and "500" in page
    changelist = reverse("admin:helpdesk_webhookdelivery_changelist")
    response = su_client.post(changelist, {"action": "send_again", "_selected_action": [message.pk]}, follow=True)
    assert "1 message queued again." in messages_of(response)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (DeliveryStatus.PENDING, 0)
