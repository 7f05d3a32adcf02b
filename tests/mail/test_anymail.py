"""Providers' inbound webhooks through django-anymail: a Postmark or Mailgun inbound call
(shaped as those providers send it) becomes a ticket; a call without the webhook's basic
auth is refused and stores nothing."""

import base64
import json

import pytest

from helpdesk.models import Attachment, QuarantinedMail, Ticket

from .conftest import corpus

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook(settings, support):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:s3cret"}
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"hook:s3cret").decode()}


def test_postmark_inbound_opens_a_ticket(client, hook):
    payload = {"RawEmail": corpus("attachments.eml").decode(), "Headers": [], "MessageID": "pm-1"}
    r = client.post("/anymail/postmark/inbound/", json.dumps(payload), content_type="application/json", **hook)
    assert r.status_code == 200
    ticket = Ticket.objects.get()
    assert ticket.subject == "Contract and logs" and ticket.channel == "email"
    assert Attachment.objects.filter(ticket=ticket).count() == 3


def test_mailgun_raw_mime_inbound_opens_a_ticket(client, hook, settings):
    import hashlib
    import hmac
    import time

    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": "mg-key"}
    timestamp, token = str(int(time.time())), "a" * 50
    signature = hmac.new(b"mg-key", (timestamp + token).encode(), hashlib.sha256).hexdigest()
    r = client.post("/anymail/mailgun/inbound_mime/", {
        "body-mime": corpus("latin1.eml").decode("latin-1"), "timestamp": timestamp, "token": token,
        "signature": signature, "recipient": "support@helpdesk.example", "sender": "juergen@firma.example",
    }, **hook)
    assert r.status_code == 200, r.content
    assert Ticket.objects.get().requester.email == "juergen@firma.example"


def test_webhook_without_credentials_is_refused(client, hook):
    payload = {"RawEmail": corpus("plain.eml").decode(), "Headers": []}
    r = client.post("/anymail/postmark/inbound/", json.dumps(payload), content_type="application/json")
    assert r.status_code in (400, 401, 403)
    assert not Ticket.objects.exists() and not QuarantinedMail.objects.exists()


def test_an_auto_reply_through_a_webhook_is_quarantined(client, hook):
    payload = {"RawEmail": corpus("auto_reply.eml").decode(), "Headers": []}
    assert client.post("/anymail/postmark/inbound/", json.dumps(payload), content_type="application/json",
                       **hook).status_code == 200
    assert QuarantinedMail.objects.get().reason == "auto_reply" and not Ticket.objects.exists()
