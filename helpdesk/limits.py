"""The size of every field a client can send, and ids that fit the database, in one place.

The services enforce these limits for every entry point (API, upsert, import, admin,
dialects); serializers and forms may check them earlier, with the same numbers.
"""

from __future__ import annotations

from typing import Any

#: The largest id a bigint primary key holds.
MAX_ID = 2**63 - 1
_MAX_ID_DIGITS = len(str(MAX_ID))

#: Tags on one ticket.
MAX_TAGS = 500
#: Assignees on one ticket.
MAX_ASSIGNEES = 100
#: Characters in a ticket's message and in a reply's text (1 MB of plain text).
MAX_TEXT_LENGTH = 1_000_000
#: Entries in one upsert item's ``history``.
MAX_HISTORY_ENTRIES = 1000
#: Email domains in one upsert item's ``domains``.
MAX_DOMAINS = 100
#: Characters of a custom field's value once stored as text (the JSON of it).
MAX_CUSTOM_FIELD_LENGTH = 10_000
#: Characters of a ticket's ``metadata`` once stored as JSON.
MAX_METADATA_LENGTH = 100_000


def parse_id(value: Any) -> int | None:
    """A database id (1 .. ``MAX_ID``) from an int or a string of ASCII digits; None otherwise.

    Never calls ``int()`` on a string longer than an id can be: Python refuses to convert
    strings of more than 4300 digits (``ValueError``), and ``"²".isdigit()`` is true.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not (text.isascii() and text.isdecimal()) or len(text.lstrip("0")) > _MAX_ID_DIGITS:
            return None
        value = int(text.lstrip("0") or "0")
    if isinstance(value, int) and 0 < value <= MAX_ID:
        return value
    return None
