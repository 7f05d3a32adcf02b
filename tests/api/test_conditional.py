"""Conditional requests: ETag / Last-Modified on ticket reads, 304 on a current copy, 412 on a stale write."""

import pytest
from django.utils.http import http_date

from helpdesk import services
from helpdesk.models import Reply, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def opened(agent, department, client_org):
    return services.ticket_create(
        subject="Cannot log in", message="Error", department=department, client=client_org, creator=agent, silent=True
    )


def etag_of(api, ticket):
    r = api.get(f"/api/tickets/{ticket.pk}")
    assert r.status_code == 200
    return r["ETag"]


class TestReads:
    def test_get_has_validators(self, api, opened):
        r = api.get(f"/api/tickets/{opened.pk}")
        assert r["ETag"].startswith('"') and r["ETag"].endswith('"')
        assert r["Last-Modified"] == http_date(Ticket.objects.get(pk=opened.pk).updated_at.timestamp())

    def test_if_none_match_is_304_until_the_ticket_changes(self, api, opened):
        etag = etag_of(api, opened)
        r = api.get(f"/api/tickets/{opened.pk}", HTTP_IF_NONE_MATCH=etag)
        assert r.status_code == 304 and r.content == b"" and r["ETag"] == etag
        assert api.get(f"/api/tickets/{opened.pk}", HTTP_IF_NONE_MATCH=f'"other", W/{etag}').status_code == 304
        api.put(f"/api/tickets/{opened.pk}/tags", {"tags": ["vip"]}, format="json")
        r = api.get(f"/api/tickets/{opened.pk}", HTTP_IF_NONE_MATCH=etag)
        assert r.status_code == 200 and r["ETag"] != etag
        assert r.json()["data"]["tags"] == ["vip"]

    def test_if_modified_since(self, api, opened):
        last = api.get(f"/api/tickets/{opened.pk}")["Last-Modified"]
        assert api.get(f"/api/tickets/{opened.pk}", HTTP_IF_MODIFIED_SINCE=last).status_code == 304
        assert api.get(f"/api/tickets/{opened.pk}", HTTP_IF_MODIFIED_SINCE="Mon, 01 Jan 2001 00:00:00 GMT").status_code == 200
        assert api.get(f"/api/tickets/{opened.pk}", HTTP_IF_MODIFIED_SINCE="garbage").status_code == 200

    def test_every_write_changes_the_etag(self, api, opened, agent):
        seen = {etag_of(api, opened)}
        writes = [
            lambda: api.patch(f"/api/tickets/{opened.pk}", {"ticket_subject": "New"}, format="json"),
            lambda: api.put(f"/api/tickets/{opened.pk}/status", {"status": 2}, format="json"),
            lambda: api.put(f"/api/tickets/{opened.pk}/tags", {"tags": ["a"]}, format="json"),
            lambda: api.put(f"/api/tickets/{opened.pk}/archive"),
            lambda: api.put(f"/api/tickets/{opened.pk}/restore"),
            lambda: api.post(f"/api/tickets/{opened.pk}/replies", {"ticketreply_text": "Hi"}, format="json"),
            lambda: api.delete(f"/api/tickets/{opened.pk}/replies/{Reply.objects.get(ticket=opened).pk}"),
        ]
        for write in writes:
            r = write()
            assert r.status_code in (200, 201, 204), r.content
            etag = etag_of(api, opened)
            assert etag not in seen
            seen.add(etag)

    def test_a_write_answers_with_the_new_etag(self, api, opened):
        r = api.patch(f"/api/tickets/{opened.pk}", {"ticket_subject": "New"}, format="json")
        assert r["ETag"] == etag_of(api, opened)

    def test_contacts_get_validators_too(self, contact_api, contact, agent, department):
        own = services.ticket_create(subject="S", message="M", department=department, client=contact.client,
                                     creator=agent, silent=True)
        etag = contact_api.get(f"/api/tickets/{own.pk}")["ETag"]
        assert contact_api.get(f"/api/tickets/{own.pk}", HTTP_IF_NONE_MATCH=etag).status_code == 304


class TestWrites:
    @pytest.mark.parametrize("name", ["patch", "status", "tags", "archive", "restore", "reply_delete", "reply", "delete"])
    def test_stale_if_match_is_412_and_nothing_changes(self, api, admin_api, opened, agent, name):
        reply = services.reply_post(ticket=opened, author=agent, text="first", silent=True)
        stale = etag_of(api, opened)
        services.ticket_update(ticket=opened, by=agent, subject="Changed meanwhile", silent=True)
        before = Ticket.objects.get(pk=opened.pk)
        client = admin_api if name == "delete" else api
        url = f"/api/tickets/{opened.pk}"
        calls = {
            "patch": lambda **h: client.patch(url, {"ticket_subject": "Mine"}, format="json", **h),
            "status": lambda **h: client.put(f"{url}/status", {"status": 2}, format="json", **h),
            "tags": lambda **h: client.put(f"{url}/tags", {"tags": ["x"]}, format="json", **h),
            "archive": lambda **h: client.put(f"{url}/archive", **h),
            "restore": lambda **h: client.put(f"{url}/restore", **h),
            "reply_delete": lambda **h: client.delete(f"{url}/replies/{reply.pk}", **h),
            "reply": lambda **h: client.post(f"{url}/replies", {"ticketreply_text": "x"}, format="json", **h),
            "delete": lambda **h: client.delete(url, **h),
        }
        r = calls[name](HTTP_IF_MATCH=stale)
        assert r.status_code == 412, r.content
        assert r.json()["error"]["code"] == "precondition_failed"
        after = Ticket.objects.get(pk=opened.pk)
        assert (after.updated_at, after.subject, after.status_id, after.active_state, after.replies_count) == (
            before.updated_at, before.subject, before.status_id, before.active_state, before.replies_count)
        assert Reply.objects.filter(pk=reply.pk).exists()
        # With the current ETag the same write goes through.
        r = calls[name](HTTP_IF_MATCH=etag_of(api, opened))
        assert r.status_code in (200, 201, 204), r.content

    def test_if_match_star_and_lists(self, api, opened):
        assert api.put(f"/api/tickets/{opened.pk}/archive", HTTP_IF_MATCH="*").status_code == 200
        etag = etag_of(api, opened)
        assert api.put(f"/api/tickets/{opened.pk}/restore", HTTP_IF_MATCH=f'"nope", {etag}').status_code == 200

    def test_if_unmodified_since(self, api, opened):
        assert api.put(f"/api/tickets/{opened.pk}/archive",
                       HTTP_IF_UNMODIFIED_SINCE="Mon, 01 Jan 2001 00:00:00 GMT").status_code == 412
        last = api.get(f"/api/tickets/{opened.pk}")["Last-Modified"]
        assert api.put(f"/api/tickets/{opened.pk}/archive", HTTP_IF_UNMODIFIED_SINCE=last).status_code == 200

    def test_unknown_ticket_stays_404(self, api):
        assert api.put("/api/tickets/424242/archive", HTTP_IF_MATCH='"x"').status_code == 404
