"""Migrations: no drift from the models, named files, and a clean migrate on a fresh database."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

import helpdesk

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = Path(helpdesk.__file__).parent / "migrations"


def makemigrations_check():
    out = io.StringIO()
    try:
        call_command("makemigrations", "helpdesk", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exc:  # --check exits 1 when a migration would be written
        pytest.fail(f"Models and migrations drifted (exit {exc.code}):\n{out.getvalue()}")
    return out.getvalue()


@pytest.mark.django_db
def test_models_and_migrations_agree():
    assert "No changes detected" in makemigrations_check()


@pytest.mark.django_db
def test_a_host_sites_default_auto_field_causes_no_migration(settings):
    settings.DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
    assert "No changes detected" in makemigrations_check()


def test_migrations_are_named():
    names = sorted(p.stem for p in MIGRATIONS.glob("0*.py"))
    assert names[:2] == ["0001_initial", "0002_default_statuses_and_agent_group"]
    assert not [n for n in names if "_auto_" in n]
    numbers = [n.split("_")[0] for n in names]
    assert len(numbers) == len(set(numbers)), "two migrations share a number"


@pytest.fixture
def fresh_database_url(tmp_path):
    """An empty database of the same kind as the one under test, dropped afterwards."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    assert connection.vendor == "postgresql"
    params = connection.settings_dict
    name = f"{params['NAME']}_fresh"[:63]
    with connection._nodb_cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    user = params["USER"] + (f":{params['PASSWORD']}" if params["PASSWORD"] else "")
    yield f"postgres://{user}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{name}"
    with connection._nodb_cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')


def manage(database_url, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="config.settings")
    proc = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.mark.django_db
def test_migrate_forward_backward_and_forward_on_a_fresh_database(fresh_database_url):
    manage(fresh_database_url, "migrate", "--noinput", "-v0")
    count = ("from helpdesk.models import TicketStatus as S; from django.contrib.auth.models import Group as G;"
             "print(S.objects.count(), G.objects.get(name='Helpdesk agents').permissions.count())")
    statuses, permissions = manage(fresh_database_url, "shell", "-c", count).split()[-2:]
    assert statuses == "5" and int(permissions) > 20
    # Every migration can be unapplied, and applying them again gives the same result.
    manage(fresh_database_url, "migrate", "helpdesk", "zero", "--noinput", "-v0")
    manage(fresh_database_url, "migrate", "--noinput", "-v0")
    assert manage(fresh_database_url, "shell", "-c", count).split()[-2:] == [statuses, permissions]
    plan = manage(fresh_database_url, "showmigrations", "helpdesk", "--plan")
    assert "[ ]" not in plan


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="search documents are PostgreSQL only")
def test_0006_builds_search_documents_for_existing_tickets(fresh_database_url):
    # An install with tickets and replies from before 0006 finds them right after migrating.
    manage(fresh_database_url, "migrate", "helpdesk", "0005", "--noinput", "-v0")
    # The rows are written with the models as they were at 0005 (today's have columns a
    # database at 0005 lacks).
    make = (
        "from django.db import connection\n"
        "from django.db.migrations.loader import MigrationLoader\n"
        "apps = MigrationLoader(connection).project_state(('helpdesk', '0005_bench_sort_indexes')).apps\n"
        "Department, Client, Ticket, Reply = (apps.get_model('helpdesk', n) for n in ('Department', 'Client', 'Ticket', 'Reply'))\n"
        "d = Department.objects.create(name='D'); c = Client.objects.create(name='Initech')\n"
        "t = Ticket.objects.create(subject='Stapler missing', department=d, client=c, status_id=1)\n"
        "Reply.objects.create(ticket=t, text='Found it in the basement')\n"
        "Reply.objects.create(ticket=t, text='hushword', type='note')\n"
        "print(t.pk)"
    )
    pk = manage(fresh_database_url, "shell", "-c", make).split()[-1]
    manage(fresh_database_url, "migrate", "--noinput", "-v0")
    find = (
        "from helpdesk.models import Ticket; from helpdesk.search import search_tickets\n"
        "from django.contrib.auth.models import AnonymousUser\n"
        "from django.contrib.auth import get_user_model\n"
        "a = get_user_model().objects.create(username='a', is_staff=True, is_superuser=True)\n"
        "for text, user in (('stapler basement', a), ('hushword', a), ('hushword', AnonymousUser())):\n"
        "    print(text, [t.pk for t in search_tickets(Ticket.objects.all(), text, user=user)])"
    )
    out = manage(fresh_database_url, "shell", "-c", find)
    assert f"stapler basement [{pk}]" in out
    assert f"hushword [{pk}]" in out  # an agent with view_note (a superuser here) reads notes
    assert "hushword []" in out  # anyone else does not
    indexes = manage(fresh_database_url, "shell", "-c", (
        "from django.db import connection\n"
        "c = connection.cursor(); c.execute(\"SELECT indexname FROM pg_indexes WHERE indexname LIKE 'hd_%%'\")\n"
        "print(sorted(r[0] for r in c.fetchall()))"))
    assert "hd_ticket_search_document" in indexes and "hd_client_name_trgm" in indexes
    assert "'hd_ticket_search'" not in indexes and "hd_reply_search" not in indexes


def test_0008_skips_the_trigram_index_where_pg_trgm_cannot_be_created(caplog):
    # A database user that may not create extensions: the migration must still apply.
    import contextlib
    import importlib
    from types import SimpleNamespace

    from django.db import DatabaseError

    migration = importlib.import_module("helpdesk.migrations.0008_client_name_trigrams")
    executed = []

    def execute(sql, params=()):
        if sql.startswith("CREATE EXTENSION"):
            raise DatabaseError('permission denied to create extension "pg_trgm"')
        executed.append(sql)

    editor = SimpleNamespace(connection=SimpleNamespace(vendor="postgresql", alias="default"), execute=execute)
    with caplog.at_level("WARNING", logger="helpdesk"):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(migration.transaction, "atomic", lambda using=None: contextlib.nullcontext())
            migration.create_index(None, editor)
    assert executed == []  # no index without the extension
    assert "no pg_trgm" in caplog.text and "permission denied" in caplog.text
