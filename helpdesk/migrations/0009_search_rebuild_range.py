"""Rebuilding search documents by id range (PostgreSQL), so a rebuild can show progress.

``helpdesk_search_rebuild_range(low, high)`` builds the documents of the tickets with
``low <= id <= high`` the way 0006's full rebuild did (one aggregate over their replies,
not one lookup per ticket), and ``helpdesk_search_rebuild(NULL)`` now uses it for the
whole table, so the full rebuild and the command's batches share one formula.
"""

from django.db import migrations

RANGE = r"""
CREATE OR REPLACE FUNCTION helpdesk_search_rebuild_range(low bigint, high bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    written bigint;
BEGIN
    INSERT INTO helpdesk_ticket_search (ticket_id, document)
    SELECT t.id, helpdesk_search_vector(concat_ws(E'\n', t.subject, t.message, r.public_text), r.note_text)
    FROM helpdesk_ticket t
    LEFT JOIN (
        SELECT x.ticket_id,
               string_agg(x.text, E'\n' ORDER BY x.created_at, x.id) FILTER (WHERE x.type = 'reply') AS public_text,
               string_agg(x.text, E'\n' ORDER BY x.created_at, x.id) FILTER (WHERE x.type <> 'reply') AS note_text
        FROM helpdesk_reply x WHERE x.ticket_id BETWEEN low AND high GROUP BY x.ticket_id
    ) r ON r.ticket_id = t.id
    WHERE t.id BETWEEN low AND high
    ON CONFLICT (ticket_id) DO UPDATE SET document = EXCLUDED.document
        WHERE helpdesk_ticket_search.document IS DISTINCT FROM EXCLUDED.document;
    GET DIAGNOSTICS written = ROW_COUNT;
    RETURN written;
END $$;
"""

# helpdesk_search_rebuild(ids) as 0006 made it, but for its NULL (everything) branch.
REBUILD = r"""
CREATE OR REPLACE FUNCTION helpdesk_search_rebuild(ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF ids IS NULL THEN
        TRUNCATE helpdesk_ticket_search;
        {full}
        RETURN;
    END IF;
    IF cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    DELETE FROM helpdesk_ticket_search s WHERE s.ticket_id = ANY(ids)
        AND NOT EXISTS (SELECT 1 FROM helpdesk_ticket t WHERE t.id = s.ticket_id);
    INSERT INTO helpdesk_ticket_search (ticket_id, document)
    SELECT t.id, helpdesk_search_vector(concat_ws(E'\n', t.subject, t.message, r.public_text), r.note_text)
    FROM helpdesk_ticket t
    LEFT JOIN LATERAL (
        SELECT string_agg(x.text, E'\n' ORDER BY x.created_at, x.id) FILTER (WHERE x.type = 'reply') AS public_text,
               string_agg(x.text, E'\n' ORDER BY x.created_at, x.id) FILTER (WHERE x.type <> 'reply') AS note_text
        FROM helpdesk_reply x WHERE x.ticket_id = t.id
    ) r ON true
    WHERE t.id = ANY(ids)
    ON CONFLICT (ticket_id) DO UPDATE SET document = EXCLUDED.document
        WHERE helpdesk_ticket_search.document IS DISTINCT FROM EXCLUDED.document;
END $$;
"""

FULL_VIA_RANGE = "PERFORM helpdesk_search_rebuild_range(0, 9223372036854775807);"
FULL_AS_0006 = r"""INSERT INTO helpdesk_ticket_search (ticket_id, document)
        SELECT t.id, helpdesk_search_vector(concat_ws(E'\n', t.subject, t.message, r.public_text), r.note_text)
        FROM helpdesk_ticket t
        LEFT JOIN (
            SELECT x.ticket_id,
                   string_agg(x.text, E'\n' ORDER BY x.created_at, x.id) FILTER (WHERE x.type = 'reply') AS public_text,
                   string_agg(x.text, E'\n' ORDER BY x.created_at, x.id) FILTER (WHERE x.type <> 'reply') AS note_text
            FROM helpdesk_reply x GROUP BY x.ticket_id
        ) r ON r.ticket_id = t.id;"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(RANGE, params=None)
    schema_editor.execute(REBUILD.replace("{full}", FULL_VIA_RANGE), params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(REBUILD.replace("{full}", FULL_AS_0006), params=None)
    schema_editor.execute("DROP FUNCTION IF EXISTS helpdesk_search_rebuild_range(bigint, bigint)")


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0008_client_name_trigrams")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
