"""The HELPDESK settings object: defaults, unknown keys, imports, resets."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from helpdesk.conf import DEFAULTS, HelpdeskSettings, helpdesk_settings
from helpdesk.notify import EmailNotifier, NullNotifier


def test_defaults_apply_without_a_helpdesk_setting(settings):
    del settings.HELPDESK
    for key in ("PAGE_SIZE", "MAX_PAGE_SIZE", "API_VERSION", "DEFAULT_STATUS_ID"):
        assert getattr(helpdesk_settings, key) == DEFAULTS[key]
    assert helpdesk_settings.NOTIFIER is NullNotifier


def test_user_values_override_defaults(settings):
    settings.HELPDESK = {"PAGE_SIZE": 50}
    assert helpdesk_settings.PAGE_SIZE == 50
    assert helpdesk_settings.MAX_PAGE_SIZE == DEFAULTS["MAX_PAGE_SIZE"]


def test_setting_changed_resets_the_cache(settings):
    settings.HELPDESK = {"PAGE_SIZE": 10}
    assert helpdesk_settings.PAGE_SIZE == 10
    settings.HELPDESK = {"PAGE_SIZE": 20}
    assert helpdesk_settings.PAGE_SIZE == 20
    settings.HELPDESK = {}
    assert helpdesk_settings.PAGE_SIZE == DEFAULTS["PAGE_SIZE"]


def test_other_settings_changes_keep_the_cache(settings):
    settings.HELPDESK = {"PAGE_SIZE": 10}
    assert helpdesk_settings.PAGE_SIZE == 10
    settings.DEBUG = not settings.DEBUG
    assert "PAGE_SIZE" in helpdesk_settings.__dict__


def test_unknown_key_is_rejected_with_the_known_ones(settings):
    settings.HELPDESK = {"PAGE_SIZ": 10}
    with pytest.raises(ImproperlyConfigured, match="Unknown HELPDESK setting.*PAGE_SIZ.*Known:.*PAGE_SIZE"):
        helpdesk_settings.PAGE_SIZE


def test_helpdesk_must_be_a_dict(settings):
    settings.HELPDESK = [("PAGE_SIZE", 10)]
    with pytest.raises(ImproperlyConfigured, match="must be a dict"):
        helpdesk_settings.PAGE_SIZE


def test_asking_for_an_unknown_attribute_fails():
    with pytest.raises(AttributeError, match="NOPE"):
        helpdesk_settings.NOPE


def test_dotted_paths_are_imported(settings):
    settings.HELPDESK = {"NOTIFIER": "helpdesk.notify.EmailNotifier"}
    assert helpdesk_settings.NOTIFIER is EmailNotifier
    settings.HELPDESK = {"NOTIFIER": EmailNotifier}  # a class works too
    assert helpdesk_settings.NOTIFIER is EmailNotifier


def test_a_bad_dotted_path_raises_import_error(settings):
    settings.HELPDESK = {"NOTIFIER": "helpdesk.notify.Nope"}
    with pytest.raises(ImportError):
        helpdesk_settings.NOTIFIER


def test_nothing_is_read_at_import_time(settings):
    fresh = HelpdeskSettings(DEFAULTS)
    settings.HELPDESK = {"PAGE_SIZE": 7}
    assert fresh.PAGE_SIZE == 7


def test_the_readme_documents_every_setting():
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    missing = [key for key in DEFAULTS if f"| `{key}` |" not in readme]
    assert missing == [], f"Add these HELPDESK keys to the README's settings table: {missing}"
