"""What a bulk upsert returns: counts, keys and per-item errors, in Planhat's shape."""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass
class ItemError:
    """One item that was not saved, in the response's terms (the payload's field names)."""

    index: int
    source_id: str | None
    message: str
    fields: dict[str, list[str]]

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "sourceId": self.source_id, "message": self.message, "fields": self.fields}


@dataclasses.dataclass
class UpsertResult:
    """What a bulk upsert did; ``to_dict()`` is Planhat's response shape."""

    created: int = 0
    updated: int = 0
    created_errors: list[ItemError] = dataclasses.field(default_factory=list)
    updated_errors: list[ItemError] = dataclasses.field(default_factory=list)
    inserts_keys: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    updates_keys: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every item was saved."""
        return not (self.created_errors or self.updated_errors)

    @property
    def errors(self) -> list[ItemError]:
        return sorted(self.created_errors + self.updated_errors, key=lambda e: e.index)

    def merge(self, other: UpsertResult, *, offset: int = 0) -> None:
        """Add ``other`` (a later chunk whose first item had index ``offset``) to this result."""
        self.created += other.created
        self.updated += other.updated
        for mine, theirs in ((self.created_errors, other.created_errors), (self.updated_errors, other.updated_errors)):
            mine.extend(dataclasses.replace(e, index=e.index + offset) for e in theirs)
        self.inserts_keys.extend(other.inserts_keys)
        self.updates_keys.extend(other.updates_keys)

    def to_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "createdErrors": [e.to_dict() for e in self.created_errors],
            "updatedErrors": [e.to_dict() for e in self.updated_errors],
            "insertsKeys": self.inserts_keys,
            "updatesKeys": self.updates_keys,
        }
