"""One search document per ticket, kept by triggers, on PostgreSQL only.

``helpdesk_ticket_search`` holds one ``tsvector`` per ticket: its subject, message and
public replies weighted ``A``, its internal notes weighted ``B`` (a contact's search asks
for weight ``A`` only, so notes never match for them). One GIN index over it answers a
search of any number of words with one index lookup, where 0003's two indexes (ticket
text, reply text) had to collect and join the ticket ids of every matching reply: 5.6 s
for one word at 1M tickets and 10M replies, and more than 30 s for two.

Triggers keep the documents true for every write, the ORM's, the sync's ``COPY``-fed
``INSERT … ON CONFLICT`` and raw SQL alike (statement-level with transition tables where
one statement writes many rows, row-level where it usually writes one):

- a new ticket gets its document; a changed subject or message rebuilds it;
- a new reply or note is appended to its ticket's document (one small update), a changed
  or deleted one rebuilds the document from the ticket's rows;
- a deleted or truncated ticket takes its document with it.

PostgreSQL caps a ``tsvector`` at 1 MB: a ticket whose text would exceed it keeps the
document of its first 150,000 public and 50,000 note characters, and a reply that would
push a full document past the cap is left out of it. Writes never fail because of search.

The text search configuration is ``HELPDESK["SEARCH_CONFIG"]`` when this migration runs,
kept in the function ``helpdesk_search_config()`` that the search's queries use too;
``manage.py helpdesk_search_rebuild`` changes it and rebuilds every document. Other
databases get nothing here: their search is a plain ``icontains``.
"""

import re

from django.db import migrations

# The search's query side (helpdesk/search.py) names these too.
TABLE = "helpdesk_ticket_search"

FUNCTIONS = """
CREATE OR REPLACE FUNCTION helpdesk_search_config() RETURNS regconfig
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT '{config}'::regconfig $$;

CREATE OR REPLACE FUNCTION helpdesk_search_vector(public_text text, note_text text) RETURNS tsvector
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN setweight(to_tsvector(helpdesk_search_config(), coalesce(public_text, '')), 'A')
        || setweight(to_tsvector(helpdesk_search_config(), coalesce(note_text, '')), 'B');
EXCEPTION WHEN program_limit_exceeded THEN
    RETURN setweight(to_tsvector(helpdesk_search_config(), left(coalesce(public_text, ''), 150000)), 'A')
        || setweight(to_tsvector(helpdesk_search_config(), left(coalesce(note_text, ''), 50000)), 'B');
END $$;

CREATE OR REPLACE FUNCTION helpdesk_search_append(document tsvector, addition tsvector) RETURNS tsvector
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN document || addition;
EXCEPTION WHEN program_limit_exceeded THEN
    RETURN document;
END $$;

-- The documents of these tickets, built from their rows (NULL: every ticket).
CREATE OR REPLACE FUNCTION helpdesk_search_rebuild(ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF ids IS NULL THEN
        TRUNCATE helpdesk_ticket_search;
        INSERT INTO helpdesk_ticket_search (ticket_id, document)
        SELECT t.id, helpdesk_search_vector(concat_ws(E'\\n', t.subject, t.message, r.public_text), r.note_text)
        FROM helpdesk_ticket t
        LEFT JOIN (
            SELECT x.ticket_id,
                   string_agg(x.text, E'\\n' ORDER BY x.created_at, x.id) FILTER (WHERE x.type = 'reply') AS public_text,
                   string_agg(x.text, E'\\n' ORDER BY x.created_at, x.id) FILTER (WHERE x.type <> 'reply') AS note_text
            FROM helpdesk_reply x GROUP BY x.ticket_id
        ) r ON r.ticket_id = t.id;
        RETURN;
    END IF;
    IF cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    DELETE FROM helpdesk_ticket_search s WHERE s.ticket_id = ANY(ids)
        AND NOT EXISTS (SELECT 1 FROM helpdesk_ticket t WHERE t.id = s.ticket_id);
    INSERT INTO helpdesk_ticket_search (ticket_id, document)
    SELECT t.id, helpdesk_search_vector(concat_ws(E'\\n', t.subject, t.message, r.public_text), r.note_text)
    FROM helpdesk_ticket t
    LEFT JOIN LATERAL (
        SELECT string_agg(x.text, E'\\n' ORDER BY x.created_at, x.id) FILTER (WHERE x.type = 'reply') AS public_text,
               string_agg(x.text, E'\\n' ORDER BY x.created_at, x.id) FILTER (WHERE x.type <> 'reply') AS note_text
        FROM helpdesk_reply x WHERE x.ticket_id = t.id
    ) r ON true
    WHERE t.id = ANY(ids)
    ON CONFLICT (ticket_id) DO UPDATE SET document = EXCLUDED.document
        WHERE helpdesk_ticket_search.document IS DISTINCT FROM EXCLUDED.document;
END $$;

CREATE OR REPLACE FUNCTION helpdesk_search_ticket_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO helpdesk_ticket_search (ticket_id, document)
    SELECT n.id, helpdesk_search_vector(concat_ws(E'\\n', n.subject, n.message), NULL) FROM new_rows n
    ON CONFLICT (ticket_id) DO UPDATE SET document = EXCLUDED.document;
    RETURN NULL;
END $$;

-- Row-level, behind a WHEN that PostgreSQL checks without calling the function: most
-- ticket updates (counters, status, dates) leave subject and message alone and cost
-- nothing here. A bulk writer (the sync) may set helpdesk.search_deferred to 'on' for
-- its UPDATE and then call helpdesk_search_rebuild() once for the tickets it changed:
-- one rebuild of 5000 documents instead of 5000 (0.4 s instead of 2.5 s).
CREATE OR REPLACE FUNCTION helpdesk_search_ticket_text_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM helpdesk_search_rebuild(ARRAY[NEW.id]);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION helpdesk_search_ticket_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM helpdesk_ticket_search s USING old_rows o WHERE s.ticket_id = o.id;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION helpdesk_search_ticket_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE helpdesk_ticket_search;
    RETURN NULL;
END $$;

-- Row-level: one small UPDATE per new reply (a statement-level trigger's transition
-- table and grouping cost more than that for the usual single reply).
CREATE OR REPLACE FUNCTION helpdesk_search_reply_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE helpdesk_ticket_search SET document = helpdesk_search_append(
        document,
        CASE WHEN NEW.type = 'reply' THEN helpdesk_search_vector(NEW.text, NULL)
             ELSE helpdesk_search_vector(NULL, NEW.text) END
    ) WHERE ticket_id = NEW.ticket_id;
    IF NOT FOUND THEN
        -- A ticket written while the triggers were off (a bulk load) has no document yet.
        PERFORM helpdesk_search_rebuild(ARRAY[NEW.ticket_id]);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION helpdesk_search_reply_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    changed bigint[];
BEGIN
    EXECUTE 'SELECT ARRAY(
             SELECT o.ticket_id FROM new_rows n JOIN old_rows o ON o.id = n.id
             WHERE n.text IS DISTINCT FROM o.text OR n.type IS DISTINCT FROM o.type OR n.ticket_id <> o.ticket_id
             UNION
             SELECT n.ticket_id FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE n.ticket_id <> o.ticket_id)'
        INTO changed;
    PERFORM helpdesk_search_rebuild(changed);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION helpdesk_search_reply_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM helpdesk_search_rebuild(ARRAY(SELECT DISTINCT o.ticket_id FROM old_rows o));
    RETURN NULL;
END $$;
"""

TRIGGERS = """
CREATE TRIGGER helpdesk_search_ticket_insert AFTER INSERT ON helpdesk_ticket
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION helpdesk_search_ticket_inserted();
CREATE TRIGGER helpdesk_search_ticket_update AFTER UPDATE OF subject, message ON helpdesk_ticket
    FOR EACH ROW WHEN (
        (OLD.subject IS DISTINCT FROM NEW.subject OR OLD.message IS DISTINCT FROM NEW.message)
        AND coalesce(current_setting('helpdesk.search_deferred', true), '') <> 'on'
    )
    EXECUTE FUNCTION helpdesk_search_ticket_text_changed();
CREATE TRIGGER helpdesk_search_ticket_delete AFTER DELETE ON helpdesk_ticket
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION helpdesk_search_ticket_deleted();
CREATE TRIGGER helpdesk_search_ticket_truncate AFTER TRUNCATE ON helpdesk_ticket
    FOR EACH STATEMENT EXECUTE FUNCTION helpdesk_search_ticket_truncated();
CREATE TRIGGER helpdesk_search_reply_insert AFTER INSERT ON helpdesk_reply
    FOR EACH ROW EXECUTE FUNCTION helpdesk_search_reply_inserted();
CREATE TRIGGER helpdesk_search_reply_update AFTER UPDATE ON helpdesk_reply
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION helpdesk_search_reply_updated();
CREATE TRIGGER helpdesk_search_reply_delete AFTER DELETE ON helpdesk_reply
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION helpdesk_search_reply_deleted();
"""

DROP = """
DROP TRIGGER IF EXISTS helpdesk_search_ticket_insert ON helpdesk_ticket;
DROP TRIGGER IF EXISTS helpdesk_search_ticket_update ON helpdesk_ticket;
DROP TRIGGER IF EXISTS helpdesk_search_ticket_delete ON helpdesk_ticket;
DROP TRIGGER IF EXISTS helpdesk_search_ticket_truncate ON helpdesk_ticket;
DROP TRIGGER IF EXISTS helpdesk_search_reply_insert ON helpdesk_reply;
DROP TRIGGER IF EXISTS helpdesk_search_reply_update ON helpdesk_reply;
DROP TRIGGER IF EXISTS helpdesk_search_reply_delete ON helpdesk_reply;
DROP TABLE IF EXISTS helpdesk_ticket_search;
DROP FUNCTION IF EXISTS helpdesk_search_ticket_inserted(), helpdesk_search_ticket_text_changed(),
    helpdesk_search_ticket_deleted(), helpdesk_search_ticket_truncated(), helpdesk_search_reply_inserted(),
    helpdesk_search_reply_updated(), helpdesk_search_reply_deleted(), helpdesk_search_rebuild(bigint[]),
    helpdesk_search_append(tsvector, tsvector), helpdesk_search_vector(text, text), helpdesk_search_config();
"""

# 0003's indexes, replaced by the one document index.
OLD_INDEXES = {
    "hd_ticket_search": "helpdesk_ticket USING gin "
    "(to_tsvector('{config}'::regconfig, COALESCE(subject, '') || ' ' || COALESCE(message, '')))",
    "hd_reply_search": "helpdesk_reply USING gin (to_tsvector('{config}'::regconfig, COALESCE(text, '')))",
}


def search_config() -> str:
    from helpdesk.conf import helpdesk_settings

    config = helpdesk_settings.SEARCH_CONFIG
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", config):
        raise ValueError(f"HELPDESK SEARCH_CONFIG is not a text search configuration name: {config!r}")
    return config


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    execute = schema_editor.execute
    # toast_tuple_target 128: documents past 128 bytes (nearly all) are kept out of line,
    # so the table itself stays narrow (about 50 bytes a row). Reading the ticket ids of a
    # GIN match then touches a few pages instead of one page per matching ticket.
    execute(
        f"CREATE TABLE {TABLE} (ticket_id bigint PRIMARY KEY, document tsvector NOT NULL) "
        "WITH (toast_tuple_target = 128)"
    )
    execute(FUNCTIONS.replace("{config}", search_config()), params=None)
    execute(TRIGGERS, params=None)
    execute("SELECT helpdesk_search_rebuild(NULL)")
    execute(f"CREATE INDEX hd_ticket_search_document ON {TABLE} USING gin (document)")
    execute(f"ANALYZE {TABLE}")
    for name in OLD_INDEXES:
        execute(f"DROP INDEX IF EXISTS {name}")


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    config = search_config()
    for name, definition in OLD_INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON " + definition.replace("{config}", config))
    schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0005_bench_sort_indexes")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
