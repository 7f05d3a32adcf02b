"""One version story (docs/versioning.md): the package version and the API version date,
each kept once in ``helpdesk/__init__.py``, and every place that shows them agrees."""

import re
from pathlib import Path

import pytest

import helpdesk
from helpdesk.conf import DEFAULTS

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(agent):
    from tests.api.conftest import key_client

    return key_client(agent)


def test_the_api_sends_the_app_s_api_version_and_the_schema_names_both(api):
    r = api.get("/api/schema")
    info = r.json()["info"]
    assert info["version"] == helpdesk.__version__
    assert info["x-api-version"] == r["X-Api-Version"] == helpdesk.API_VERSION == DEFAULTS["API_VERSION"]
    assert f"API version {helpdesk.API_VERSION}" in info["description"]
    assert api.get("/api/tickets")["X-Api-Version"] == helpdesk.API_VERSION
    assert api.get("/api/nope")["X-Api-Version"] == helpdesk.API_VERSION  # errors too


def test_the_package_version_is_the_one_in_the_code():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "helpdesk.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+((a|b|rc)\d+)?(\.dev\d+)?", helpdesk.__version__)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", helpdesk.API_VERSION)


def test_the_docs_and_the_changelog_name_this_release_and_its_api_version():
    versioning = (ROOT / "docs" / "versioning.md").read_text()
    changelog = (ROOT / "CHANGELOG.md").read_text()
    released = re.findall(r"^## \[(\d[^\]]*)\]", changelog, re.M)
    if helpdesk.__version__ in released:  # a released version (not a .dev one)
        assert f"| {helpdesk.__version__} | {helpdesk.API_VERSION} |" in versioning
        section = changelog.split(f"## [{helpdesk.__version__}]", 1)[1].split("\n## [", 1)[0]
        assert f"API version {helpdesk.API_VERSION}" in section
    # Every release of the changelog has its row, with the API version its section names.
    for version in released:
        section = changelog.split(f"## [{version}]", 1)[1].split("\n## [", 1)[0]
        (date,) = re.findall(r"API version (\d{4}-\d{2}-\d{2})", section)
        assert f"| {version} | {date} |" in versioning
    assert "versioning" in (ROOT / "docs" / "index.md").read_text()


def test_a_site_that_sets_api_version_is_warned(settings):
    from helpdesk.checks import check_settings

    settings.HELPDESK = {"API_VERSION": "2030-01-01"}
    assert [w.id for w in check_settings()] == ["helpdesk.W102"]
    settings.HELPDESK = {"API_VERSION": helpdesk.API_VERSION}
    assert check_settings() == []
