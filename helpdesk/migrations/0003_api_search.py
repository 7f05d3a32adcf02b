"""GIN indexes for the API's full-text ``search``, on PostgreSQL only.

The index expressions equal the ones ``helpdesk.api.search`` queries with, using the
``SEARCH_CONFIG`` text search configuration in force when this migration runs. Other
databases get nothing (the search falls back to ``icontains``), and the models do not
declare these indexes, so there is no model/migration drift on any backend.
"""

import re

from django.db import migrations

TICKET_INDEX = "hd_ticket_search"
REPLY_INDEX = "hd_reply_search"


def _config() -> str:
    from helpdesk.conf import helpdesk_settings

    config = helpdesk_settings.SEARCH_CONFIG
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", config):
        raise ValueError(f"HELPDESK SEARCH_CONFIG is not a text search configuration name: {config!r}")
    return config


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    config = _config()
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {TICKET_INDEX} ON helpdesk_ticket USING gin "
        f"(to_tsvector('{config}'::regconfig, COALESCE(subject, '') || ' ' || COALESCE(message, '')))"
    )
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {REPLY_INDEX} ON helpdesk_reply USING gin "
        f"(to_tsvector('{config}'::regconfig, COALESCE(text, '')))"
    )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {TICKET_INDEX}")
    schema_editor.execute(f"DROP INDEX IF EXISTS {REPLY_INDEX}")


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0002_default_statuses_and_agent_group")]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
