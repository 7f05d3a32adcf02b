"""Fixtures of the mail tests: the corpus of real-world messages and a department."""

from pathlib import Path

import pytest

from tests import factories

CORPUS = Path(__file__).parent / "corpus"


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


@pytest.fixture
def support(db):
    """The default department new mail goes to, with its own sender address."""
    return factories.DepartmentFactory(name="Support", is_default=True, email="support@helpdesk.example")
