#!/usr/bin/env python3
"""Push tickets from another system into the helpdesk with ``PUT /tickets``.

    HELPDESK_URL=https://helpdesk.example.com/api HELPDESK_KEY=... \
        python sync_tickets.py export.json [--source zendesk]

``export.json`` is a JSON array of the other system's tickets; ``to_item()`` maps one of
them to the helpdesk's Planhat-dialect item (adapt it to your system). The script sends
them in requests of at most 5000 items, waits and retries when throttled (429) or when the
server is briefly unavailable, and prints every item the helpdesk refused. Running it
again is safe: tickets are matched by (source, sourceId), so nothing is duplicated.
Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from typing import Any

BATCH = 5000  # the server's UPSERT_MAX_ITEMS


def to_item(ticket: dict[str, Any], source: str) -> dict[str, Any]:
    """One exported ticket as a helpdesk item. This mapping is for a Zendesk-like export."""
    item = {
        "source": source,
        "sourceId": str(ticket["id"]),
        "title": ticket.get("subject") or "",
        "description": ticket.get("description") or "",
        "url": ticket.get("url"),
        "email": ticket["requester"]["email"],
        "name": ticket["requester"].get("name", ""),
        "companyExternalId": ticket.get("organization_id") and str(ticket["organization_id"]),
        "status": ticket.get("status", "open"),  # new/pending/solved are understood
        "priority": {"low": "normal", "normal": "normal", "high": "high", "urgent": "urgent"}.get(
            ticket.get("priority") or "normal", "normal"),
        "tags": ticket.get("tags", []),
        "createdAt": ticket.get("created_at"),
        "updatedAt": ticket.get("updated_at"),
        "agentEmail": (ticket.get("assignee") or {}).get("email"),
        "history": [{"status": e["status"], "time": e["at"]} for e in ticket.get("status_history", [])],
    }
    return {k: v for k, v in item.items() if v is not None}


def put(base_url: str, key: str, items: list[dict[str, Any]], attempts: int = 5) -> dict[str, Any]:
    body = json.dumps(items).encode()
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(
            f"{base_url.rstrip('/')}/tickets", data=body, method="PUT",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                return json.loads(response.read())  # 200 or 206
        except urllib.error.HTTPError as exc:
            if exc.code in (429, 502, 503, 504) and attempt < attempts:
                wait = int(exc.headers.get("Retry-After") or 2**attempt)
                print(f"  {exc.code}, retrying in {wait} s", file=sys.stderr)
                time.sleep(wait)
                continue
            error = json.loads(exc.read() or b"{}").get("error", {})
            raise SystemExit(f"HTTP {exc.code}: {error.get('message', exc.reason)}") from None
        except urllib.error.URLError as exc:
            if attempt < attempts:
                time.sleep(2**attempt)
                continue
            raise SystemExit(f"Cannot reach the helpdesk: {exc.reason}") from None
    raise AssertionError("unreachable")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export", help="a JSON array of the other system's tickets")
    parser.add_argument("--source", default="zendesk", help="the name of the other system (part of the key)")
    args = parser.parse_args()
    base_url, key = os.environ["HELPDESK_URL"], os.environ["HELPDESK_KEY"]

    with open(args.export, encoding="utf-8") as f:
        items = [to_item(t, args.source) for t in json.load(f)]
    created = updated = failed = 0
    for start in range(0, len(items), BATCH):
        result = put(base_url, key, items[start:start + BATCH])
        created += result["created"]
        updated += result["updated"]
        for error in result["createdErrors"] + result["updatedErrors"]:
            failed += 1
            print(f"item {start + error['index']} (sourceId {error['sourceId']}): {error['message']}", file=sys.stderr)
        print(f"{min(start + BATCH, len(items))}/{len(items)} sent", file=sys.stderr)
    print(f"created {created}, updated {updated}, failed {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
