"""System checks for the bulk upsert's settings (helpdesk.E009)."""

import pytest

from helpdesk.checks import check_settings


@pytest.mark.parametrize("overrides", [
    {"UPSERT_CREATE_CLIENTS": "yes"},
    {"UPSERT_DEFAULT_CLIENT_ID": "1"},
    {"UPSERT_DEFAULT_CLIENT_ID": 0},
    {"UPSERT_FREE_EMAIL_DOMAINS": "gmail.com"},
    {"UPSERT_FREE_EMAIL_DOMAINS": [1]},
    {"UPSERT_STATUS_ALIASES": ["new"]},
    {"UPSERT_STATUS_ALIASES": {"new": 1}},
])
def test_bad_upsert_settings_are_reported(settings, overrides):
    settings.HELPDESK = overrides

    assert [e.id for e in check_settings()] == ["helpdesk.E009"]


def test_good_upsert_settings_pass(settings):
    settings.HELPDESK = {"UPSERT_CREATE_CLIENTS": False, "UPSERT_DEFAULT_CLIENT_ID": 3,
                         "UPSERT_FREE_EMAIL_DOMAINS": ("gmail.com",), "UPSERT_STATUS_ALIASES": {"new": "Open"}}

    assert check_settings() == []
