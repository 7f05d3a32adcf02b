"""The API key admin: a key is shown once after saving; only its prefix afterwards."""

import datetime
import re

from django.urls import reverse
from django.utils import timezone

from helpdesk.models import APIKey
from tests import factories

ADD = reverse("admin:helpdesk_apikey_add")
LIST = reverse("admin:helpdesk_apikey_changelist")


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def test_create_shows_the_key_once_then_only_the_prefix(su_client, superuser):
    owner = factories.AgentFactory()
    response = su_client.post(ADD, {"user": owner.pk, "name": "Zendesk sync", "expires_at_0": "", "expires_at_1": ""},
                              follow=True)
    shown = [m for m in messages_of(response) if "shown only this once" in m]
    assert len(shown) == 1
    key = re.search(r"data-api-key>([^<]+)<", shown[0])[1]
    row = APIKey.objects.get()
    assert (row.user, row.name) == (owner, "Zendesk sync")
    assert APIKey.objects.get_from_key(key) == row
    assert key.startswith(row.prefix + ".")
    # Never again: not in the list, not on the change page.
    secret = key.split(".", 1)[1]
    for url in (LIST, reverse("admin:helpdesk_apikey_change", args=[row.pk])):
        html = su_client.get(url).content.decode()
        assert row.prefix in html and secret not in html and row.hashed_key not in html


def test_expiry_in_the_past_is_refused(su_client, superuser):
    past = timezone.localtime() - datetime.timedelta(days=1)
    response = su_client.post(ADD, {"user": superuser.pk, "name": "old", "expires_at_0": past.strftime("%Y-%m-%d"),
                                    "expires_at_1": past.strftime("%H:%M:%S")})
    assert response.status_code == 200
    assert "expires_at" in response.context["adminform"].form.errors
    assert not APIKey.objects.exists()


def test_revoke_action_and_revoked_keys_stay_revoked(su_client, superuser):
    row, key = APIKey.objects.create_key(user=superuser, name="ci")
    response = su_client.post(LIST, {"action": "revoke", "_selected_action": [row.pk]}, follow=True)
    assert "1 key revoked." in messages_of(response)
    assert APIKey.objects.get_from_key(key) is None
    assert "revoked" in su_client.get(LIST).content.decode()
    change = reverse("admin:helpdesk_apikey_change", args=[row.pk])
    form = su_client.get(change).context["adminform"].form
    assert "revoked" not in form.fields
    su_client.post(change, {"name": "ci", "expires_at_0": "", "expires_at_1": "", "revoked": ""})
    row.refresh_from_db()
    assert row.revoked


def test_staff_manage_only_their_own_keys(db, client):
    from django.contrib.auth.models import Permission

    staff = factories.AgentFactory()
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["add_apikey", "change_apikey", "view_apikey"]))
    other = factories.SuperuserFactory()
    APIKey.objects.create_key(user=other, name="theirs")
    client.force_login(staff)
    assert "theirs" not in client.get(LIST).content.decode()
    form = client.get(ADD).context["adminform"].form
    assert "user" not in form.fields
    client.post(ADD, {"user": other.pk, "name": "mine", "expires_at_0": "", "expires_at_1": ""})
    assert APIKey.objects.get(name="mine").user == staff  # never the superuser's
