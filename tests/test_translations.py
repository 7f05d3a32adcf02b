"""The shipped catalogs (de, fr, es, pt_BR, nl): complete, compiled, and used by the
admin and the API for a visitor who asks for that language."""

from pathlib import Path

import polib
import pytest
from django.urls import reverse

import helpdesk
from helpdesk import services
from tests import factories

LOCALE = Path(helpdesk.__file__).parent / "locale"
LANGUAGES = ["de", "fr", "es", "pt_BR", "nl"]

# What each language calls a few things the agent sees, and the API's 404.
EXPECTED = {
    "de": {"views": "Meine offenen", "send": "Antwort senden", "not_found": "Ticket nicht gefunden."},
    "fr": {"views": "Mes tickets ouverts", "send": "Envoyer la réponse", "not_found": "Ticket introuvable."},
    "es": {"views": "Mis abiertos", "send": "Enviar respuesta", "not_found": "Ticket no encontrado."},
    "pt_BR": {"views": "Meus abertos", "send": "Enviar resposta", "not_found": "Ticket não encontrado."},
    "nl": {"views": "Mijn open", "send": "Antwoord versturen", "not_found": "Ticket niet gevonden."},
}


@pytest.fixture(autouse=True)
def _back_to_english():
    # LocaleMiddleware activates the visitor's language for the thread and leaves it on;
    # the tests after these must not run in Dutch.
    from django.utils import translation

    yield
    translation.activate("en-us")


def header(lang):
    return lang.replace("_", "-").lower()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalog_is_complete_and_compiled(lang):
    po = polib.pofile(str(LOCALE / lang / "LC_MESSAGES" / "django.po"))
    missing = [e.msgid for e in po if not e.obsolete and (not e.translated() or "fuzzy" in e.flags)]
    assert missing == [], f"{lang}: {len(missing)} untranslated, e.g. {missing[:3]}"
    mo = polib.mofile(str(LOCALE / lang / "LC_MESSAGES" / "django.mo"))
    compiled = {(e.msgid, e.msgstr) for e in mo if not e.msgid_plural}
    assert {(e.msgid, e.msgstr) for e in po if not e.msgid_plural and not e.obsolete} <= compiled, (
        f"{lang}: django.mo is older than django.po; run compilemessages")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_admin_speaks_the_language(db, client, lang):
    admin = factories.SuperuserFactory()
    client.force_login(admin)
    ticket = services.ticket_create(subject="Printer", message="On fire", department=factories.DepartmentFactory(),
                                    client=factories.ClientFactory(), silent=True)
    words = EXPECTED[lang]
    html = client.get(reverse("admin:helpdesk_ticket_changelist"), HTTP_ACCEPT_LANGUAGE=header(lang)).content.decode()
    assert words["views"] in html
    page = client.get(reverse("admin:helpdesk_ticket_change", args=[ticket.pk]), HTTP_ACCEPT_LANGUAGE=header(lang))
    assert words["send"] in page.content.decode()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_api_errors_speak_the_language(db, lang):
    from tests.api.conftest import key_client

    api = key_client(factories.AgentFactory())
    response = api.get("/api/tickets/999999", HTTP_ACCEPT_LANGUAGE=header(lang))
    assert response.status_code == 404
    assert EXPECTED[lang]["not_found"] in response.content.decode()


def test_the_requester_mail_is_translated(db, settings, django_capture_on_commit_callbacks):
    from django.core import mail
    from django.utils import translation

    settings.HELPDESK = {"NOTIFIER": "helpdesk.notify.EmailNotifier", "MERGE_NOTIFY_REQUESTER": True}
    agent = factories.AgentFactory()
    make = lambda **kw: services.ticket_create(subject="s", message="m", department=factories.DepartmentFactory(),  # noqa: E731
                                               client=factories.ClientFactory(), silent=True, **kw)
    target, source = make(), make(requester=factories.UserFactory(email="max@example.org"))
    with translation.override("de"), django_capture_on_commit_callbacks(execute=True):
        services.ticket_merge(source=source, target=target, by=agent)
    assert f"wurde in #{target.pk}" in mail.outbox[0].body
