"""``Idempotency-Key``: a retried write answers as the first time and writes nothing again."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from helpdesk import idempotency, services
from helpdesk.models import IdempotencyKey, Reply, StatusChange, Ticket
from tests import factories

from .conftest import key_client

pytestmark = pytest.mark.django_db


def create(api_client, key, subject="Printer on fire", **extra):
    body = {"ticket_subject": subject, "ticket_message": "Smoke", "ticket_categoryid": extra.pop("dept"),
            "ticket_clientid": extra.pop("org"), "ticket_priority": "high"}
    return api_client.post("/api/tickets", body, format="json", HTTP_IDEMPOTENCY_KEY=key, **extra)


class TestReplay:
    def test_retry_returns_the_first_response_and_creates_one_ticket(self, api, department, client_org):
        first = create(api, "k-1", dept=department.pk, org=client_org.pk)
        assert first.status_code == 201, first.content
        again = create(api, "k-1", dept=department.pk, org=client_org.pk)
        assert again.status_code == 201
        assert again.content == first.content
        assert again["Location"] == first["Location"]
        assert again["Content-Type"] == first["Content-Type"]
        assert again["Idempotent-Replayed"] == "true"
        assert not first.has_header("Idempotent-Replayed")
        assert again["X-Request-Id"] != first["X-Request-Id"]
        assert Ticket.objects.count() == 1

    def test_json_key_order_and_spacing_do_not_matter(self, api, department, client_org):
        body = '{"ticket_subject": "A", "ticket_message": "B", "ticket_categoryid": %d, "ticket_clientid": %d, "ticket_priority": "normal"}'
        r1 = api.post("/api/tickets", body % (department.pk, client_org.pk), content_type="application/json",
                      HTTP_IDEMPOTENCY_KEY="order")
        reordered = '{"ticket_clientid":%d,"ticket_categoryid":%d,"ticket_message":"B","ticket_subject":"A","ticket_priority":"normal"}'
        r2 = api.post("/api/tickets", reordered % (client_org.pk, department.pk), content_type="application/json",
                      HTTP_IDEMPOTENCY_KEY="order")
        assert r1.status_code == r2.status_code == 201
        assert r2["Idempotent-Replayed"] == "true"
        assert Ticket.objects.count() == 1

    def test_a_reply_is_posted_once(self, api, ticket):
        for _ in range(3):
            r = api.post(f"/api/tickets/{ticket.pk}/replies", {"ticketreply_text": "On it"}, format="json",
                         HTTP_IDEMPOTENCY_KEY="reply-1")
            assert r.status_code == 201
        assert Reply.objects.filter(ticket=ticket).count() == 1
        assert Ticket.objects.get(pk=ticket.pk).replies_count == 1

    def test_status_put_and_delete_are_replayed(self, api, ticket):
        for _ in range(2):
            r = api.put(f"/api/tickets/{ticket.pk}/status", {"status": 2}, format="json", HTTP_IDEMPOTENCY_KEY="s")
            assert r.status_code == 200
        assert StatusChange.objects.filter(ticket=ticket).count() == 1
        reply = services.reply_post(ticket=ticket, author=ticket.creator, text="x", silent=True)
        for _ in range(2):
            r = api.delete(f"/api/tickets/{ticket.pk}/replies/{reply.pk}", HTTP_IDEMPOTENCY_KEY="del")
            assert r.status_code == 204  # the second is the kept 204, not a 404
        assert r["Idempotent-Replayed"] == "true"

    def test_the_bulk_upsert_is_replayed(self, api, department, client_org):
        item = [{"title": "Synced", "email": "a@acme.com", "sourceId": "z-1", "departmentId": department.pk}]
        r1 = api.put("/api/tickets", item, format="json", HTTP_IDEMPOTENCY_KEY="up")
        r2 = api.put("/api/tickets", item, format="json", HTTP_IDEMPOTENCY_KEY="up")
        assert r1.status_code == r2.status_code and r1.status_code < 300, r1.content
        assert r2.content == r1.content and r2["Idempotent-Replayed"] == "true", r1.content
        assert r1.json()["created"] == 1, r1.content
        assert Ticket.objects.count() == 1

    def test_without_the_header_nothing_is_kept(self, api, department, client_org):
        for _ in range(2):
            api.post("/api/tickets", {"ticket_subject": "A", "ticket_message": "B", "ticket_categoryid": department.pk,
                                      "ticket_clientid": client_org.pk, "ticket_priority": "normal"}, format="json")
        assert Ticket.objects.count() == 2
        assert not IdempotencyKey.objects.exists()

    def test_get_ignores_the_header(self, api, ticket):
        assert api.get(f"/api/tickets/{ticket.pk}", HTTP_IDEMPOTENCY_KEY="g").status_code == 200
        assert not IdempotencyKey.objects.exists()


class TestMisuse:
    def test_same_key_other_body_is_422(self, api, department, client_org):
        assert create(api, "k", dept=department.pk, org=client_org.pk).status_code == 201
        r = create(api, "k", subject="Another", dept=department.pk, org=client_org.pk)
        assert r.status_code == 422
        assert "Idempotency-Key" in r.json()["error"]["fields"]
        assert Ticket.objects.count() == 1

    def test_same_key_other_path_is_422(self, api, ticket):
        other = factories.TicketFactory()
        assert api.put(f"/api/tickets/{ticket.pk}/archive", HTTP_IDEMPOTENCY_KEY="a").status_code == 200
        r = api.put(f"/api/tickets/{other.pk}/archive", HTTP_IDEMPOTENCY_KEY="a")
        assert r.status_code == 422
        assert Ticket.objects.get(pk=other.pk).active_state == "active"

    def test_keys_are_per_user(self, api, department, client_org):
        other = key_client(factories.AgentFactory())
        assert create(api, "shared", dept=department.pk, org=client_org.pk).status_code == 201
        r = create(other, "shared", dept=department.pk, org=client_org.pk)
        assert r.status_code == 201 and not r.has_header("Idempotent-Replayed")
        assert Ticket.objects.count() == 2

    @pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "é"])
    def test_bad_key_is_422(self, api, ticket, key):
        r = api.put(f"/api/tickets/{ticket.pk}/archive", HTTP_IDEMPOTENCY_KEY=key)
        assert r.status_code == 422
        assert "Idempotency-Key" in r.json()["error"]["fields"]
        assert Ticket.objects.get(pk=ticket.pk).active_state == "active"

    def test_an_error_is_not_kept_so_a_corrected_retry_runs(self, api, department, client_org):
        r = api.post("/api/tickets", {"ticket_subject": "A"}, format="json", HTTP_IDEMPOTENCY_KEY="e")
        assert r.status_code == 422
        assert not IdempotencyKey.objects.exists()
        assert create(api, "e", dept=department.pk, org=client_org.pk).status_code == 201

    def test_in_flight_key_is_409(self, api, ticket):
        assert api.put(f"/api/tickets/{ticket.pk}/archive", HTTP_IDEMPOTENCY_KEY="busy").status_code == 200
        # As if the first request were still running (on this or another app server).
        IdempotencyKey.objects.filter(key="busy").update(status_code=None)
        r = api.put(f"/api/tickets/{ticket.pk}/archive", HTTP_IDEMPOTENCY_KEY="busy")
        assert r.status_code == 409, r.content
        assert r["Retry-After"] == "1"
        assert r.json()["error"]["code"] == "conflict"

    def test_an_abandoned_claim_is_taken_over(self, api, ticket):
        api.put(f"/api/tickets/{ticket.pk}/archive", HTTP_IDEMPOTENCY_KEY="dead")
        IdempotencyKey.objects.filter(key="dead").update(
            status_code=None, created_at=timezone.now() - datetime.timedelta(minutes=11))
        r = api.put(f"/api/tickets/{ticket.pk}/archive", HTTP_IDEMPOTENCY_KEY="dead")
        assert r.status_code == 200 and not r.has_header("Idempotent-Replayed")


class TestExpiry:
    def test_an_expired_key_runs_again(self, api, department, client_org, settings):
        assert create(api, "old", dept=department.pk, org=client_org.pk).status_code == 201
        IdempotencyKey.objects.update(created_at=timezone.now() - datetime.timedelta(hours=25))
        r = create(api, "old", dept=department.pk, org=client_org.pk)
        assert r.status_code == 201 and not r.has_header("Idempotent-Replayed")
        assert Ticket.objects.count() == 2

    def test_the_ttl_is_a_setting(self, api, department, client_org, settings):
        settings.HELPDESK = {"IDEMPOTENCY_KEY_TTL": 60}
        assert create(api, "short", dept=department.pk, org=client_org.pk).status_code == 201
        IdempotencyKey.objects.update(created_at=timezone.now() - datetime.timedelta(seconds=61))
        assert create(api, "short", dept=department.pk, org=client_org.pk)["Location"]
        assert Ticket.objects.count() == 2

    def test_prune_command_deletes_old_keys_only(self, agent, capsys):
        old = IdempotencyKey.objects.create(user=agent, key="old", fingerprint="f", status_code=201)
        IdempotencyKey.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=2))
        IdempotencyKey.objects.create(user=agent, key="new", fingerprint="f", status_code=201)
        call_command("helpdesk_idempotency_prune")
        assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
        assert "1" in capsys.readouterr().out

    def test_a_claim_prunes_the_users_old_keys(self, api, agent, ticket):
        old = IdempotencyKey.objects.create(user=agent, key="stale", fingerprint="f", status_code=201)
        IdempotencyKey.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=2))
        api.put(f"/api/tickets/{ticket.pk}/archive", HTTP_IDEMPOTENCY_KEY="fresh")
        assert not IdempotencyKey.objects.filter(key="stale").exists()


def test_claim_functions_directly(agent):
    row, stored = idempotency.idempotency_claim(user=agent, key="k", fingerprint="a")
    assert row is not None and stored is None
    with pytest.raises(idempotency.KeyInFlight):
        idempotency.idempotency_claim(user=agent, key="k", fingerprint="a")
    with pytest.raises(idempotency.KeyReused):
        idempotency.idempotency_claim(user=agent, key="k", fingerprint="b")
    idempotency.idempotency_complete(row=row, status_code=201, headers={"Location": "/x"}, body=b"{}")
    row2, stored = idempotency.idempotency_claim(user=agent, key="k", fingerprint="a")
    assert row2 is None and stored.status_code == 201 and stored.headers == {"Location": "/x"} and stored.body == b"{}"
