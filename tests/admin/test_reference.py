"""Every model has a working admin page; replies and history are kept consistent there too."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from helpdesk import services
from helpdesk.models import APIKey, IdempotencyKey, WebhookAttempt, WebhookDelivery, WebhookSubscription
from tests import factories


@pytest.mark.parametrize("model", [m for m in apps.get_app_config("helpdesk").get_models() if not m._meta.proxy],
                         ids=lambda m: m._meta.model_name)
def test_every_model_is_registered_with_a_working_list(su_client, model, make_ticket, superuser):
    assert model in admin.site._registry
    ticket = make_ticket(tags=["vip"])
    services.reply_post(ticket=ticket, author=superuser, text="hello there", silent=True)
    factories.ContactFactory()
    factories.ProjectFactory()
    factories.CustomFieldFactory()
    factories.ClientDomainFactory()
    factories.SLAPolicyFactory(calendar=factories.HolidayFactory().calendar)
    factories.CannedReplyFactory()
    factories.AgentFactory(departments=[ticket.department])
    APIKey.objects.create_key(user=superuser, name="sync")
    IdempotencyKey.objects.create(user=superuser, key="retry-1", fingerprint="f", status_code=201)
    _attachments_and_mail(ticket)
    hook = WebhookSubscription.objects.create(url="https://hooks.example/x", events=["ticket.created"])
    message = WebhookDelivery.objects.create(subscription=hook, event="ticket.created", ticket_id=ticket.pk, payload={})
    WebhookAttempt.objects.create(delivery=message, status_code=500, error="HTTP 500")
    opts = model._meta
    response = su_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) >= 1
    search = su_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"), {"q": "zz-nothing"})
    assert search.status_code == 200


def _attachments_and_mail(ticket):
    from helpdesk.attachments import IncomingFile, attachments_add
    from helpdesk.models import Mailbox, MailMessage, QuarantinedMail

    attachments_add(ticket=ticket, files=[IncomingFile.from_bytes("a.txt", b"hello")])
    MailMessage.objects.create(direction="in", message_id="<a@b>", ticket=ticket, status="received")
    QuarantinedMail.objects.create(reason="unparseable", raw=b"garbage")
    Mailbox.objects.create(name="support", host="localhost", username="support")


@pytest.mark.parametrize("name", ["department", "ticketstatus", "tag", "client", "contact", "project", "customfield",
                                  "clientdomain", "apikey", "ticket"])
def test_add_pages_render(su_client, name):
    assert su_client.get(reverse(f"admin:helpdesk_{name}_add")).status_code == 200


def test_deleting_a_reply_in_the_admin_keeps_counters_right(su_client, superuser, make_ticket):
    ticket = make_ticket()
    first = services.reply_post(ticket=ticket, author=superuser, text="one", silent=True)
    services.reply_post(ticket=ticket, author=superuser, text="two", silent=True)
    response = su_client.post(reverse("admin:helpdesk_reply_delete", args=[first.pk]), {"post": "yes"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.replies_count == 1


def test_history_and_replies_are_read_only(su_client, make_ticket, superuser):
    ticket = make_ticket()
    reply = services.reply_post(ticket=ticket, author=superuser, text="one", silent=True)
    change = ticket.status_changes.get()
    assert su_client.get(reverse("admin:helpdesk_statuschange_add")).status_code == 403
    assert su_client.get(reverse("admin:helpdesk_statuschange_delete", args=[change.pk])).status_code == 403
    assert su_client.get(reverse("admin:helpdesk_reply_add")).status_code == 403
    page = su_client.get(reverse("admin:helpdesk_reply_change", args=[reply.pk]))
    assert page.status_code == 200 and "one" in page.content.decode()
    su_client.post(reverse("admin:helpdesk_reply_change", args=[reply.pk]), {"text": "changed"})
    reply.refresh_from_db()
    assert reply.text == "one"


def test_status_badges_use_only_hex_colours():
    from helpdesk.admin.tickets import badge

    assert "--hd-badge: #6b7280" in badge("x", "red;background:url(http://evil)")
    assert "--hd-badge: #22c55e" in badge("x", "#22c55e")
