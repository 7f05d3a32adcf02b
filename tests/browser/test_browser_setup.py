"""The browser tests' own rule: without Chromium they skip, except under CI, where they fail."""

import pytest

from . import conftest


def test_missing_browser_skips_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="chromium is missing"):
        conftest._unavailable("/usr/bin/chromium is missing: apt-get install chromium")


def test_missing_browser_fails_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="required under CI"):
        conftest._unavailable("/usr/bin/chromium is missing: apt-get install chromium")
