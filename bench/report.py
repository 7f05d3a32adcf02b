"""``python -m bench.report``: the results files as Markdown tables (for bench/README.md).

One table per database, one column per ticket count found in ``bench/results/``: p50 and
p95 in ms and the query count; for the replayed scenarios the bare SQL p50 and API/SQL.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _load() -> dict[str, dict[int, dict]]:
    runs: dict[str, dict[int, dict]] = {}
    for path in sorted(RESULTS.glob("*.json")):
        data = json.loads(path.read_text())
        meta = data["meta"]
        runs.setdefault(meta["db"], {})[meta["tickets"]] = data
    return runs


def _cell(r: dict) -> str:
    if r["status"] == "not available":
        return "n/a"
    if r["status"] != "ok":
        return "**> timeout**" if "timeout" in r.get("note", "") else "error"
    text = f"{r['p50_ms']:.1f} / {r['p95_ms']:.1f} ({r['queries']}q)"
    if r.get("goal_ms") is not None and not r.get("goal_met"):
        text = f"**{text}**"
    return text


def _sql_cell(r: dict) -> str:
    if r.get("ratio") is None:
        return ""
    return f"{r['sql_p50_ms']:.1f} / ×{r['ratio']:.1f}"


def render() -> str:
    out = []
    for db, by_n in sorted(_load().items(), reverse=True):
        sizes = sorted(by_n)
        out.append(f"### {db}\n")
        out.append("p50 / p95 in ms (queries per request); **bold**: misses its p50 goal (goals are for "
                   "PostgreSQL at 1M). SQL: bare SQL p50 in ms / API÷SQL.\n")
        head = "| scenario | goal p50 | " + " | ".join(f"{n:,}" for n in sizes) + " | " + " | ".join(
            f"SQL {n:,}" for n in sizes) + " |"
        out.append(head)
        out.append("|" + "---|" * (2 + 2 * len(sizes)))
        keys: list[str] = []
        labels: dict[str, str] = {}
        goals: dict[str, str] = {}
        for n in sizes:
            for r in by_n[n]["results"]:
                if r["key"] not in labels:
                    keys.append(r["key"])
                    labels[r["key"]] = r["label"]
                    goals[r["key"]] = f"{r['goal_ms']:g}" if r.get("goal_ms") is not None else ""
        for key in keys:
            cells, sql = [], []
            for n in sizes:
                r = next((x for x in by_n[n]["results"] if x["key"] == key), None)
                cells.append(_cell(r) if r else "")
                sql.append(_sql_cell(r) if r else "")
            out.append(f"| {labels[key]} | {goals[key]} | " + " | ".join(cells) + " | " + " | ".join(sql) + " |")
        out.append("")
        for n in sizes:
            m = by_n[n]["meta"]
            seed = m["seed"]
            out.append(
                f"- {n:,} tickets ({seed.get('replies', 0):,} replies): measured {m['measured_at']} at commit "
                f"{m['commit']}, {m['db_version']}; seeded in {seed.get('seconds', '?')} s; load average "
                f"{m['load_before'][0]} before / {m['load_after'][0]} after, whole-machine CPU busy "
                f"{m['cpu_busy_pct']}% during the measurement{'; ' + m['note'] if m.get('note') else ''}."
            )
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    sys.stdout.write(render() + "\n")
