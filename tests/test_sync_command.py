"""``manage.py helpdesk_import``: files, stdin, chunks, progress, summary and errors."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from helpdesk.management.commands import helpdesk_import
from helpdesk.models import Ticket

from . import factories


@pytest.fixture
def setup(db):
    factories.DepartmentFactory(is_default=True)
    factories.ClientDomainFactory(domain="acme.com")
    return factories.AgentFactory(username="importer")


def items(count, start=0):
    return [{"source": "csv", "sourceId": str(n), "email": f"p{n}@acme.com", "title": f"T{n}"}
            for n in range(start, start + count)]


def run(*args, stdin=None, monkeypatch=None):
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    try:
        call_command("helpdesk_import", *args, stdout=out, stderr=err)
    finally:
        out.seek(0), err.seek(0)
    return out.getvalue(), err.getvalue()


def test_imports_a_file_in_chunks_with_progress_and_summary(setup, tmp_path):
    path = tmp_path / "tickets.json"
    path.write_text(json.dumps(items(7)))

    out, err = run(str(path), "--chunk-size", "3", "--user", "importer")

    assert out.startswith("Created 7, updated 0, failed 0 of 7 items")
    assert "100%" in err and "7/7" in err and "7 created, 0 updated, 0 failed" in err
    assert Ticket.objects.count() == 7
    assert set(Ticket.objects.values_list("creator__username", flat=True)) == {"importer"}

    out, _ = run(str(path))
    assert out.startswith("Created 0, updated 7, failed 0 of 7 items")


def test_reads_json_lines_from_stdin(setup, monkeypatch):
    lines = "\n".join(json.dumps(i) for i in items(3)) + "\n"

    out, _ = run("-", stdin=lines, monkeypatch=monkeypatch)

    assert out.startswith("Created 3,")


def test_a_single_object_is_one_item(setup, tmp_path):
    path = tmp_path / "one.json"
    path.write_text(json.dumps(items(1)[0]))

    out, _ = run(str(path))

    assert out.startswith("Created 1,")


def test_failed_items_are_listed_saved_ones_kept_and_the_exit_status_is_an_error(setup, tmp_path):
    path = tmp_path / "t.json"
    bad = items(4)
    bad[1]["email"] = "nope"
    bad[3] = 42
    path.write_text(json.dumps(bad))
    errors_path = tmp_path / "errors.json"

    with pytest.raises(CommandError, match="2 items failed"):
        run(str(path), "--chunk-size", "2", "--errors", str(errors_path))

    assert Ticket.objects.count() == 2
    errors = json.loads(errors_path.read_text())
    assert [(e["index"], e["sourceId"]) for e in errors] == [(1, "1"), (3, None)]  # indexes across chunks
    assert "email" in errors[0]["fields"]


def test_broken_json_stops_with_a_clear_error(setup, tmp_path):
    path = tmp_path / "t.json"
    path.write_text('[{"sourceId": "1", "email": "a@acme.com"}, {"sourceId": ')

    with pytest.raises(CommandError, match="Invalid JSON"):
        run(str(path))


def test_missing_file_and_bad_options(setup, tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        run(str(tmp_path / "nope.json"))
    with pytest.raises(CommandError, match="chunk-size"):
        run("-", "--chunk-size", "5001")
    customer = factories.UserFactory(username="customer")
    with pytest.raises(CommandError, match="not an active staff user"):
        run("-", "--user", customer.username)


def test_dry_run_saves_nothing(setup, tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(items(3)))

    out, _ = run(str(path), "--dry-run")

    assert "would have created 3" in out
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("text, expected", [
    ('[{"a": 1}, {"b": [1, 2, "]"]}, 3, "x"]', [{"a": 1}, {"b": [1, 2, "]"]}, 3, "x"]),
    ('  [ ]  ', []),
    ('', []),
    ('{"a": 1}\n{"a": 2}\n', [{"a": 1}, {"a": 2}]),
    ('\ufeff[12345678, {"long": "' + "x" * 50 + '"}]', [12345678, {"long": "x" * 50}]),
])
def test_the_stream_reader_across_small_reads(monkeypatch, text, expected):
    monkeypatch.setattr(helpdesk_import, "_READ_SIZE", 3)

    assert list(helpdesk_import.iter_json_items(io.BytesIO(text.encode()))) == expected


@pytest.mark.parametrize("text", ['[{"a": 1}', '[1, 2] 3', '{"a": }'])
def test_the_stream_reader_refuses_broken_json(monkeypatch, text):
    monkeypatch.setattr(helpdesk_import, "_READ_SIZE", 4)

    with pytest.raises(ValueError):
        list(helpdesk_import.iter_json_items(io.BytesIO(text.encode())))


@pytest.mark.parametrize("text, index, at", [
    ('[{"a": 1},,,{"b": 2}]', 1, ",,{"),  # [a,,,b]
    ('[{"a": 1} {"b": 2}]', 1, '{"b"'),  # a missing comma
    ('[{"a": 1}, {"b": 2,}]', 1, "}]"),
    ('[{"a": "ü€"}, {"b": "é" x}]', 1, "x}"),  # offsets in bytes, not characters
    ('{"a": 1}\n{"b": 2} ]\n', 2, "]"),  # JSON Lines
    ('[{"a": 1}] junk', 1, "junk"),
    ('[{"a": 1}, {"b": ', 1, ""),  # cut off: the end of the file
])
def test_broken_json_is_reported_with_the_item_and_byte_offset(monkeypatch, text, index, at):
    monkeypatch.setattr(helpdesk_import, "_READ_SIZE", 4)  # the error is found across reads
    data = text.encode()

    with pytest.raises(helpdesk_import.JSONFileError) as caught:
        list(helpdesk_import.iter_json_items(io.BytesIO(data)))

    assert caught.value.index == index
    assert data[caught.value.offset:].decode().startswith(at)
    assert f"item {index} at byte {caught.value.offset}" in str(caught.value)


@pytest.mark.parametrize("broken", [",,,", " "])
def test_a_broken_file_saves_nothing_even_in_earlier_chunks(setup, tmp_path, broken):
    good = ", ".join(json.dumps(i) for i in items(6))
    path = tmp_path / "t.json"
    path.write_text(f"[{good}{broken}{json.dumps(items(1, start=6)[0])}]")

    with pytest.raises(CommandError) as caught:
        run(str(path), "--chunk-size", "2")

    assert "Invalid JSON in item 6 at byte" in str(caught.value)
    assert "Nothing was saved" in str(caught.value)
    assert not Ticket.objects.exists()


def test_broken_json_on_stdin_is_located_too(setup, monkeypatch):
    with pytest.raises(CommandError, match=r"item 1 at byte 11: .*Nothing was saved"):
        run("-", stdin='[{"a": 1}, x]', monkeypatch=monkeypatch)
    assert not Ticket.objects.exists()


def test_sqlite_imports_in_short_chunks_by_default(setup, tmp_path, monkeypatch):
    from django.db import connection

    from helpdesk.sync import files

    sizes = []
    real = files.ticket_bulk_upsert
    monkeypatch.setattr(files, "ticket_bulk_upsert", lambda **kw: sizes.append(len(kw["items"])) or real(**kw))
    monkeypatch.setattr(files, "SQLITE_CHUNK_SIZE", 4)
    path = tmp_path / "t.json"
    path.write_text(json.dumps(items(10)))

    run(str(path))

    assert sizes == ([4, 4, 2] if connection.vendor == "sqlite" else [10])
    assert Ticket.objects.count() == 10
