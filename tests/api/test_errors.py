"""The error shape, auth, headers and limits on every kind of failure (API.md)."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from helpdesk.models import APIKey, Ticket
from tests import factories
from tests.api.conftest import key_client

pytestmark = pytest.mark.django_db


def error(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["status"] == status
    assert body["error"]["message"]
    return body["error"]


class TestAuth:
    def test_no_key_is_401_with_challenge(self, anon):
        r = anon.get("/api/tickets")
        assert error(r, 401)["code"] == "not_authenticated"
        assert r["WWW-Authenticate"].startswith("Bearer")

    @pytest.mark.parametrize(
        "header",
        ["Bearer", "Bearer nope", "Bearer abcdefgh.wrongsecret", "Bearer a b", "Bearer \u00e9\u00e9", "Token xyz"],
    )
    def test_bad_keys_are_401(self, agent, header):
        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=header)
        error(c.get("/api/tickets"), 401)

    @pytest.mark.parametrize("pair", ["{key}:", "{key}", ":{key}"])
    def test_key_as_basic_credentials_works_like_planhat_clients_send_it(self, agent, pair):
        # `curl --user KEY:` (Planhat's dialect) sends the key as the Basic user name.
        import base64

        _row, key = APIKey.objects.create_key(user=agent, name="planhat")
        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(pair.format(key=key).encode()).decode())
        assert c.get("/api/tickets").status_code == 200

    @pytest.mark.parametrize("raw", ["Basic", "Basic !!!notbase64", "Basic " + "d3Jvbmc6", "Basic w6k="])
    def test_bad_basic_credentials_are_401(self, agent, raw):
        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=raw)
        error(c.get("/api/tickets"), 401)

    def test_revoked_and_expired_keys_are_401(self, agent):
        row, key = APIKey.objects.create_key(user=agent, name="x")
        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        assert c.get("/api/tickets").status_code == 200
        APIKey.objects.filter(pk=row.pk).update(revoked=True)
        error(c.get("/api/tickets"), 401)
        row2, key2 = APIKey.objects.create_key(
            user=agent, name="y", expires_at=timezone.now() - datetime.timedelta(seconds=1)
        )
        c.credentials(HTTP_AUTHORIZATION=f"Bearer {key2}")
        error(c.get("/api/tickets"), 401)

    def test_inactive_user_is_401(self, agent):
        c = key_client(agent)
        agent.is_active = False
        agent.save()
        # Exactly a bad key's answer: nothing says the key itself is valid.
        assert error(c.get("/api/tickets"), 401)["message"] == "Invalid, revoked or expired API key."

    def test_staff_without_helpdesk_permissions_is_403(self, db):
        c = key_client(factories.StaffFactory())
        assert error(c.get("/api/tickets"), 403)["code"] == "permission_denied"
        error(c.get("/api/tickets/1"), 403)

    def test_user_without_a_role_is_403(self, db):
        c = key_client(factories.UserFactory())
        assert error(c.get("/api/tickets"), 403)["code"] == "permission_denied"
        error(c.get("/api/statuses"), 403)

    def test_last_used_is_recorded_at_most_once_a_minute(self, agent, django_assert_num_queries):
        c = key_client(agent)
        row = APIKey.objects.get(user=agent)
        assert row.last_used_at is None
        c.get("/api/statuses")
        row.refresh_from_db()
        first = row.last_used_at
        assert first is not None
        c.get("/api/statuses")
        row.refresh_from_db()
        assert row.last_used_at == first

    def test_session_auth_needs_csrf_for_writes(self, agent):
        c = APIClient(enforce_csrf_checks=True)
        c.force_login(agent)
        assert c.get("/api/tickets").status_code == 200
        error(c.post("/api/tickets", {}, format="json"), 403)


class TestShape:
    def test_parse_error_is_400(self, api):
        r = api.post("/api/tickets", "{not json", content_type="application/json")
        assert error(r, 400)["code"] == "parse_error"

    def test_unsupported_media_type_is_415(self, api):
        r = api.post("/api/tickets", "<x/>", content_type="application/xml")
        assert error(r, 415)["code"] == "unsupported_media_type"

    def test_method_not_allowed_is_405(self, api, ticket):
        assert error(api.delete("/api/tickets"), 405)["code"] == "method_not_allowed"
        error(api.post(f"/api/tickets/{ticket.pk}/status", {"status": 2}), 405)

    @pytest.mark.parametrize("path", ["/api/", "/api/nope", "/api/tickets/1/nope", "/api/tickets/1/replies/2/x"])
    def test_unknown_routes_are_json_404_even_without_auth(self, anon, path):
        r = anon.get(path)
        assert error(r, 404)["code"] == "not_found"
        assert r["X-Api-Version"]

    def test_body_over_the_limit_is_413_and_nothing_saved(self, api, settings, client_org, department):
        settings.HELPDESK = {"MAX_BODY_BYTES": 200}
        body = {
            "ticket_clientid": client_org.pk, "ticket_categoryid": department.pk, "ticket_subject": "x",
            "ticket_message": "y" * 500, "ticket_priority": "high",
        }
        r = api.post("/api/tickets", body, format="json")
        assert error(r, 413)["code"] == "request_too_large"
        assert Ticket.objects.count() == 0

    def test_form_body_over_djangos_limit_is_413(self, api, settings, ticket):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
        r = api.post(
            f"/api/tickets/{ticket.pk}/replies", "ticketreply_text=" + "x" * 500,
            content_type="application/x-www-form-urlencoded",
        )
        error(r, 413)

    def test_not_acceptable_is_406(self, api):
        r = api.get("/api/tickets", HTTP_ACCEPT="application/xml")
        assert r.status_code == 406

    def test_validation_error_shape(self, api):
        err = error(api.post("/api/tickets", {}, format="json"), 422)
        assert err["code"] == "validation_failed"
        assert isinstance(err["fields"], dict)
        assert all(isinstance(v, list) and all(isinstance(m, str) for m in v) for v in err["fields"].values())

    def test_no_fields_key_on_other_errors(self, anon):
        assert "fields" not in anon.get("/api/tickets").json()["error"]


class TestHeaders:
    def test_request_id_is_made_or_echoed(self, api, anon):
        r = api.get("/api/statuses")
        assert len(r["X-Request-Id"]) >= 16
        assert api.get("/api/statuses").get("X-Request-Id") != r["X-Request-Id"]
        assert api.get("/api/statuses", HTTP_X_REQUEST_ID="abc-123")["X-Request-Id"] == "abc-123"
        assert anon.get("/api/tickets", HTTP_X_REQUEST_ID="abc-124")["X-Request-Id"] == "abc-124"

    def test_unsafe_request_id_is_replaced(self, api):
        assert api.get("/api/statuses", HTTP_X_REQUEST_ID="a\r\nb<script>")["X-Request-Id"] != "a\r\nb<script>"

    def test_api_version_everywhere(self, api, anon, settings):
        settings.HELPDESK = {"API_VERSION": "2030-01-01"}
        for r in (api.get("/api/tickets"), anon.get("/api/tickets"), api.get("/api/tickets/999"), api.get("/api/x")):
            assert r["X-Api-Version"] == "2030-01-01"


class TestThrottling:
    def test_429_with_retry_after(self, api, settings):
        settings.HELPDESK = {"THROTTLE_RATES": {"anon": None, "user": "3/min", "upsert": None}}
        for _ in range(3):
            assert api.get("/api/statuses").status_code == 200
        r = api.get("/api/statuses")
        assert error(r, 429)["code"] == "throttled"
        assert 1 <= int(r["Retry-After"]) <= 60
        assert r["X-Request-Id"]

    def test_none_disables_a_scope(self, api, settings):
        settings.HELPDESK = {"THROTTLE_RATES": {"anon": None, "user": None, "upsert": None}}
        for _ in range(5):
            assert api.get("/api/statuses").status_code == 200

    def test_upsert_has_its_own_scope(self, api, settings):
        settings.HELPDESK = {"THROTTLE_RATES": {"anon": None, "user": None, "upsert": "1/min"}}
        first = api.put("/api/tickets", [], format="json")
        assert first.status_code != 429
        error(api.put("/api/tickets", [], format="json"), 429)
        assert api.get("/api/tickets").status_code == 200
