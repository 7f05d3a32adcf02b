"""The mailbox admin and encrypted passwords: the form never sends the password back (in
clear or encrypted), empty keeps it, a new one replaces it; one that cannot be decrypted is
said on the list and the form, must be entered again, and is never a 500."""

import pytest
from django.urls import reverse

from helpdesk.models import Mailbox
from tests.mail.conftest import NEW_KEY as NEW
from tests.mail.conftest import OLD_KEY as OLD
from tests.mail.conftest import stored_password as stored

pytestmark = pytest.mark.django_db


def form(**changes):
    data = {"name": "support", "protocol": "imap", "host": "imap.example", "port": "", "security": "ssl",
            "username": "u", "password": "", "folder": "INBOX", "active": "on"}
    return {**data, **changes}


@pytest.fixture
def box(settings):
    # The helpdesk's own key (changing SECRET_KEY would also end the admin's session).
    settings.HELPDESK = {"ENCRYPTION_KEY": OLD}
    return Mailbox.objects.create(name="support", host="imap.example", username="u", password="hunter2-secret")


def test_the_form_shows_neither_the_password_nor_its_token(su_client, box):
    page = su_client.get(reverse("admin:helpdesk_mailbox_change", args=[box.pk])).content.decode()
    assert "hunter2-secret" not in page and stored(box) not in page
    assert 'type="password"' in page and "Stored. Leave empty to keep it." in page
    listing = su_client.get(reverse("admin:helpdesk_mailbox_changelist")).content.decode()
    assert "hunter2-secret" not in listing and stored(box) not in listing and "stored" in listing


def test_a_new_password_is_encrypted_and_empty_keeps_it(su_client, box):
    url = reverse("admin:helpdesk_mailbox_change", args=[box.pk])
    assert su_client.post(url, form(host="imap2.example")).status_code == 302
    box.refresh_from_db()
    assert (box.host, box.password) == ("imap2.example", "hunter2-secret")
    assert su_client.post(url, form(password="correct horse")).status_code == 302
    box.refresh_from_db()
    assert box.password == "correct horse" and "correct horse" not in stored(box)
    add = su_client.post(reverse("admin:helpdesk_mailbox_add"), form(name="sales", password="sales-pw"))
    assert add.status_code == 302
    sales = Mailbox.objects.get(name="sales")
    assert sales.password == "sales-pw" and "sales-pw" not in stored(sales)


def test_the_history_says_the_password_changed_only_when_it_did(su_client, box):
    from django.contrib.admin.models import LogEntry

    url = reverse("admin:helpdesk_mailbox_change", args=[box.pk])
    su_client.post(url, form(host="imap2.example"))
    su_client.post(url, form(host="imap2.example", password="new one"))
    first, second = LogEntry.objects.order_by("pk")
    assert "assword" not in first.get_change_message() and "assword" in second.get_change_message()


def test_a_password_that_cannot_be_decrypted_is_said_and_must_be_entered(su_client, box, settings):
    settings.HELPDESK = {"ENCRYPTION_KEY": NEW}  # the old key is lost
    listing = su_client.get(reverse("admin:helpdesk_mailbox_changelist"))
    assert listing.status_code == 200 and "cannot be decrypted" in listing.content.decode()
    url = reverse("admin:helpdesk_mailbox_change", args=[box.pk])
    page = su_client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "The stored password cannot be decrypted" in text and stored(box) not in text
    refused = su_client.post(url, form(host="imap2.example"))
    assert refused.status_code == 200  # the form again, with the error on the password
    assert "enter it again" in refused.content.decode()
    box.refresh_from_db()
    assert box.host == "imap.example" and box.password_lost
    assert su_client.post(url, form(password="re-entered")).status_code == 302
    box.refresh_from_db()
    assert box.password == "re-entered"


def test_fetch_now_reports_a_lost_password(su_client, box, settings):
    settings.HELPDESK = {"ENCRYPTION_KEY": NEW}
    r = su_client.post(reverse("admin:helpdesk_mailbox_changelist"),
                       {"action": "fetch_now", "_selected_action": [box.pk]}, follow=True)
    assert r.status_code == 200
    assert "The password of mailbox &#x27;support&#x27; cannot be decrypted" in r.content.decode()
    box.refresh_from_db()
    assert "cannot be decrypted" in box.last_error
