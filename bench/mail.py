"""Benchmark of inbound mail: ingest N messages (``ingest_mail``, as every source calls it).

    python -m bench.mail --messages 1000 --db postgres [--pg-url postgres://postgres@127.0.0.1:5432/postgres]
    python -m bench.mail --messages 1000 --db sqlite

Builds its own database (as ``bench.upsert`` does), migrates it, and ingests a realistic
mix made from the corpus in ``tests/mail/corpus`` with fresh Message-IDs: new tickets
(plain, HTML-only, multipart/alternative, non-UTF-8, with attachments and inline images),
replies threaded by In-Reply-To to earlier ones, auto-replies and bounces (quarantined)
and mails seen twice. The site's notifier runs too (``MailNotifier``: acknowledgements
and agent notes are recorded and queued as tasks, not sent). Prints per-message time
(mean, median, p95, max), memory (Python allocations per message, peak, and the
process's RSS growth over the run) and the outcomes; drops the database.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "mail" / "corpus"
NEW = ["plain.eml", "html_only.eml", "alternative.eml", "inline_image.eml", "attachments.eml", "latin1.eml",
       "iso2022jp.eml", "encoded_subject.eml"]


def make_messages(count: int) -> list[bytes]:
    """``count`` raw mails: 60% new, 30% replies to earlier ones, 5% automatic, 5% repeats."""
    import re

    originals = {name: (CORPUS / name).read_bytes() for name in NEW + ["gmail_reply.eml", "auto_reply.eml", "bounce.eml"]}
    out: list[bytes] = []
    new_ids: list[tuple[str, bytes]] = []
    for n in range(count):
        kind = n % 20
        if kind < 12 or not new_ids:
            name = NEW[n % len(NEW)]
            message_id = f"<bench.{n}@bench.example>"
            raw = re.sub(rb"(?im)^Message-ID: .*$", f"Message-ID: {message_id}".encode(), originals[name], count=1)
            # Spread the senders over 200 people at 50 companies.
            raw = re.sub(rb"[\w.]+@([\w-]+)\.example", f"person{n % 200}@company{n % 50}.example".encode(), raw, count=1)
            new_ids.append((message_id, raw))
        elif kind < 18:
            parent_id, parent = new_ids[(n * 7) % len(new_ids)]
            sender = re.search(rb"person\d+@company\d+\.example", parent)[0]
            raw = originals["gmail_reply.eml"].replace(b"<CAplain.0001@mail.acme.example>", parent_id.encode())
            raw = raw.replace(b"<CAgmail.reply.0009@mail.gmail.com>", f"<bench.{n}@bench.example>".encode())
            raw = raw.replace(b"jane@acme.example", sender)
        elif kind == 18:
            raw = originals["auto_reply.eml" if n % 2 else "bounce.eml"].replace(
                b"Message-ID: <", f"Message-ID: <bench.{n}.".encode(), 1)
        else:
            raw = new_ids[n % len(new_ids)][1]  # seen before: stored once
        out.append(raw)
    return out


def measure(count: int = 1000, *, traced: int = 200) -> dict[str, Any]:
    """Ingest ``count`` messages into the database Django is set up with (timed), then
    ``traced`` more under tracemalloc (memory; its overhead kept out of the times)."""
    from django.conf import settings

    from helpdesk.mail.ingest import ingest_mail
    from helpdesk.models import Department

    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="hd_bench_media_")
    Department.objects.get_or_create(name="Support", defaults={"is_default": True, "email": "support@bench.example"})
    messages = make_messages(count + traced)
    ingest_mail(make_messages(1)[0].replace(b"bench.0@", b"warmup@"), source="bench")  # imports, first queries
    seconds: list[float] = []
    outcomes: dict[str, int] = {}
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for raw in messages[:count]:
        start = time.perf_counter()
        result = ingest_mail(raw, source="bench")
        seconds.append(time.perf_counter() - start)
        outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    allocated: list[int] = []
    tracemalloc.start()
    start_traced = tracemalloc.get_traced_memory()[0]
    for raw in messages[count:]:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        ingest_mail(raw, source="bench")
        allocated.append(tracemalloc.get_traced_memory()[1] - before)
    retained = tracemalloc.get_traced_memory()[0] - start_traced
    tracemalloc.stop()
    ordered = sorted(seconds)
    return {
        "messages": len(seconds),
        "total_seconds": sum(seconds),
        "messages_per_second": len(seconds) / sum(seconds),
        "mean_ms": 1000 * statistics.mean(seconds),
        "median_ms": 1000 * statistics.median(seconds),
        "p95_ms": 1000 * ordered[int(0.95 * (len(ordered) - 1))],
        "max_ms": 1000 * ordered[-1],
        "rss_growth_mib": (rss_after - rss_before) / 1024,
        "traced_messages": len(allocated),
        "peak_kib_per_message_median": statistics.median(allocated) / 1024 if allocated else 0.0,
        "peak_kib_per_message_max": max(allocated) / 1024 if allocated else 0.0,
        "retained_kib_per_message": retained / 1024 / max(1, len(allocated)),
        "outcomes": outcomes,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mail", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.upsert import _setup

    teardown, label = _setup(args.db, args.pg_url)
    try:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        report = measure(args.messages)
    finally:
        teardown()
    print(f"ingest of {report['messages']} messages on {args.db} ({label}):")
    for key, value in report.items():
        print(f"  {key:32} {value:.2f}" if isinstance(value, float) else f"  {key:32} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
