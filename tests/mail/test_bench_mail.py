"""``python -m bench.mail`` keeps working: its mix of messages and its measurement, on a few."""

import pytest

from bench.mail import make_messages, measure


def test_the_mix_has_every_kind():
    messages = make_messages(40)
    assert len(messages) == 40
    assert sum(b"In-Reply-To: <bench." in m for m in messages) >= 10  # replies to earlier ones
    assert len(set(messages)) < 40  # some repeats


@pytest.mark.django_db
def test_measure_runs_and_reports(support):
    report = measure(40, traced=5)
    assert report["messages"] == 40 and report["traced_messages"] == 5
    assert report["outcomes"]["ticket"] >= 20 and report["outcomes"]["reply"] >= 10
    assert report["outcomes"].get("duplicate", 0) >= 1 and report["outcomes"].get("quarantined", 0) >= 1
    assert report["median_ms"] > 0
