"""The shipped catalogs (de, fr, es, pt_BR, nl): complete, compiled, and used by the
admin and the API for a visitor who asks for that language."""

import os
import shutil
import subprocess
import sys
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


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The msgids the code has now: `makemessages` (as `make messages` runs it) over a copy
    of the package with an empty locale directory, so nothing comes from the shipped .po."""
    if shutil.which("xgettext") is None:
        pytest.skip("xgettext (GNU gettext) is not on PATH; install gettext to check the catalogs against the code")
    root = tmp_path_factory.mktemp("extract") / "helpdesk"
    shutil.copytree(LOCALE.parent, root, ignore=shutil.ignore_patterns("__pycache__", "locale"))
    (root / "locale").mkdir()
    # Without DJANGO_SETTINGS_MODULE, makemessages configures bare settings and writes only
    # into ./locale, never into the project's LOCALE_PATHS; -I keeps the package's own
    # modules (selectors.py, ...) from shadowing the standard library's.
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    command = [sys.executable, "-I", "-m", "django", "makemessages", "-l", "de", "--no-location", "--no-obsolete"]
    run = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    po = polib.pofile(str(root / "locale" / "de" / "LC_MESSAGES" / "django.po"))
    return {(e.msgctxt, e.msgid) for e in po if not e.obsolete}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalog_has_every_string_of_the_code(extracted, lang):
    # The test above only sees the entries a catalog has; a string added to the code without
    # re-extracting (make messages) would be shown in English and go unnoticed there.
    assert len(extracted) > 100
    po = polib.pofile(str(LOCALE / lang / "LC_MESSAGES" / "django.po"))
    done = {(e.msgctxt, e.msgid) for e in po if not e.obsolete and e.translated() and "fuzzy" not in e.flags}
    missing = sorted(msgid for ctx, msgid in extracted - done)
    assert missing == [], (
        f"{lang}: {len(missing)} strings of the code not in the catalog (run make messages), e.g. {missing[:3]}")


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
