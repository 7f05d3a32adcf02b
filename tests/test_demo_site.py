"""The demo site's own templates (top-level ``templates/``): its admin branding and the
landing page that says where the admin, the API docs and the demo's mailbox are."""

from django.test import override_settings


def test_landing_page_links_the_admin_the_api_docs_and_the_mailbox(client, db):
    html = client.get("/").content.decode()
    assert 'href="/admin/"' in html
    assert 'href="/api/docs/"' in html
    assert 'href="mailto:support@helpdesk.localhost"' in html


@override_settings(DEMO_MAILBOX="help@example.org")
def test_landing_page_mailbox_comes_from_the_settings(client, db):
    assert 'href="mailto:help@example.org"' in client.get("/").content.decode()


def test_admin_is_branded_not_django_administration(client, db):
    html = client.get("/admin/login/").content.decode()
    assert "Deskflow helpdesk" in html
    assert "Django administration" not in html and "Django site admin" not in html
