"""Mailbox passwords at rest (helpdesk.encryption): the database holds a Fernet token, the
model the clear text; the key is HELPDESK's ENCRYPTION_KEY or SECRET_KEY, former keys still
decrypt, a save re-encrypts with the current key, a lost key is reported (never used), the
migration encrypts what was stored before and can be reversed."""

import io
import json

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection

from helpdesk.checks import check_mail_settings
from helpdesk.encryption import DecryptionError, Undecryptable, decrypt, looks_encrypted
from helpdesk.models import Mailbox

from .conftest import NEW_KEY as NEW
from .conftest import OLD_KEY as OLD
from .conftest import stored_password as stored

pytestmark = pytest.mark.django_db

OWN = "helpdesk-own-encryption-key-0123456789abcd"


def make(password: str = "s3cret Pässwörd", name: str = "support") -> Mailbox:
    return Mailbox.objects.create(name=name, host="imap.example", username="u", password=password)


def test_the_database_holds_a_token_and_the_model_the_clear_text():
    box = make()
    raw = stored(box)
    assert looks_encrypted(raw) and "s3cret" not in raw
    assert Mailbox.objects.get().password == "s3cret Pässwörd"
    assert not Mailbox.objects.get().password_lost
    box.save()
    assert stored(box) != raw  # a fresh token on each save (its own IV), the same clear text
    assert Mailbox.objects.get().password == "s3cret Pässwörd"


def test_an_empty_password_stays_empty():
    box = make(password="")
    assert stored(box) == ""
    assert Mailbox.objects.get().password == "" and not Mailbox.objects.get().password_lost


def test_a_queryset_update_encrypts_too():
    box = make()
    Mailbox.objects.filter(pk=box.pk).update(password="changed")
    assert looks_encrypted(stored(box))
    assert Mailbox.objects.get().password == "changed"


def test_secret_key_rotation_reads_old_values_and_a_save_re_encrypts_them(settings):
    settings.SECRET_KEY = OLD
    box = make()
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW, [OLD]
    box = Mailbox.objects.get()
    assert box.password == "s3cret Pässwörd"  # by the fallback
    box.save(update_fields=["password"])
    settings.SECRET_KEY_FALLBACKS = []  # the old key is gone now
    assert Mailbox.objects.get().password == "s3cret Pässwörd"  # re-encrypted with NEW


def test_without_the_old_key_the_password_is_lost_not_garbage(settings):
    settings.SECRET_KEY = OLD
    make()
    settings.SECRET_KEY = NEW
    box = Mailbox.objects.get()
    assert box.password_lost and isinstance(box.password, Undecryptable)
    with pytest.raises(DecryptionError, match=r"mailbox 'support' cannot be decrypted: no key decrypts it "
                                              r"\(SECRET_KEY and SECRET_KEY_FALLBACKS were tried"):
        box.login_password()
    box.host = "imap2.example"
    box.save()  # other fields can be saved: the token is written back unchanged
    settings.SECRET_KEY = OLD
    assert Mailbox.objects.get().password == "s3cret Pässwörd"


def test_the_helpdesk_key_is_used_when_the_site_sets_one(settings):
    settings.HELPDESK = {"ENCRYPTION_KEY": OWN}
    box = make()
    settings.SECRET_KEY = NEW  # SECRET_KEY plays no part
    assert Mailbox.objects.get().password == "s3cret Pässwörd"
    settings.HELPDESK = {}
    assert Mailbox.objects.get().password_lost  # SECRET_KEY does not decrypt it
    settings.HELPDESK = {"ENCRYPTION_KEY": NEW, "ENCRYPTION_KEY_FALLBACKS": [OWN]}
    box = Mailbox.objects.get()
    assert box.password == "s3cret Pässwörd"
    box.save()
    settings.HELPDESK = {"ENCRYPTION_KEY": NEW}
    assert Mailbox.objects.get().password == "s3cret Pässwörd"


def test_moving_from_secret_key_to_a_key_of_our_own(settings):
    settings.SECRET_KEY = OLD
    make()
    settings.HELPDESK = {"ENCRYPTION_KEY": OWN, "ENCRYPTION_KEY_FALLBACKS": [OLD]}
    assert Mailbox.objects.get().password == "s3cret Pässwörd"
    settings.HELPDESK = {"ENCRYPTION_KEY": OWN}
    assert Mailbox.objects.get().password_lost
    with pytest.raises(DecryptionError, match="HELPDESK ENCRYPTION_KEY and ENCRYPTION_KEY_FALLBACKS were tried"):
        Mailbox.objects.get().login_password()


def test_dumpdata_writes_the_token_and_loaddata_reads_it_back(tmp_path):
    make()
    out = io.StringIO()
    call_command("dumpdata", "helpdesk.mailbox", stdout=out)
    assert "s3cret" not in out.getvalue()
    (row,) = json.loads(out.getvalue())
    assert decrypt(row["fields"]["password"]) == "s3cret Pässwörd"
    path = tmp_path / "boxes.json"
    path.write_text(out.getvalue())
    Mailbox.objects.all().delete()
    call_command("loaddata", str(path), verbosity=0)
    assert Mailbox.objects.get().password == "s3cret Pässwörd"


@pytest.mark.parametrize("value,expected", [
    ({"ENCRYPTION_KEY": "short"}, ["helpdesk.E060"]),
    ({"ENCRYPTION_KEY": 12345678901234567890123456789012345}, ["helpdesk.E060"]),
    ({"ENCRYPTION_KEY_FALLBACKS": OLD}, ["helpdesk.E061"]),
    ({"ENCRYPTION_KEY_FALLBACKS": [OLD, "short"]}, ["helpdesk.E061"]),
    ({"ENCRYPTION_KEY": OWN, "ENCRYPTION_KEY_FALLBACKS": [OLD]}, []),
])
def test_the_key_settings_are_checked(settings, value, expected):
    settings.HELPDESK = value
    assert [e.id for e in check_mail_settings()] == expected


def test_a_wrong_key_setting_is_an_error_when_fetching_not_a_crash(settings):
    make()
    settings.HELPDESK = {"ENCRYPTION_KEY": "short"}
    box = Mailbox.objects.get()  # loading never fails
    assert box.password_lost
    with pytest.raises(Exception, match="at least 32 characters"):
        box.login_password()


def test_a_lost_password_is_a_database_check_error(settings):
    settings.SECRET_KEY = OLD
    make(name="support")
    make(name="sales", password="")
    settings.SECRET_KEY = NEW
    errors = checks.run_checks(databases=["default"], tags=[checks.Tags.database])
    (error,) = [e for e in errors if e.id.startswith("helpdesk.")]
    assert error.id == "helpdesk.E062"
    assert "'support'" in error.msg and "sales" not in error.msg and "SECRET_KEY_FALLBACKS" in error.hint
    with pytest.raises(SystemCheckError, match="helpdesk.E062"):
        call_command("check", databases=["default"])
    settings.SECRET_KEY_FALLBACKS = [OLD]
    assert not [e for e in checks.run_checks(databases=["default"], tags=[checks.Tags.database])
                if e.id.startswith("helpdesk.")]
    call_command("check")  # without --database the database is not read


def test_clear_text_left_from_before_the_migration_is_not_reported_as_lost():
    box = make()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE helpdesk_mailbox SET password = %s WHERE id = %s", ["plain", box.pk])
    assert not [e for e in checks.run_checks(databases=["default"], tags=[checks.Tags.database])
                if e.id.startswith("helpdesk.")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_stored_passwords_and_reverses(settings):
    from django.db.migrations.executor import MigrationExecutor

    target = [("helpdesk", "0015_mailbox_password_encrypted")]
    before = [("helpdesk", "0014_workplace")]
    leaf = MigrationExecutor(connection).loader.graph.leaf_nodes("helpdesk")
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(before)
        old_state = executor.loader.project_state(before[0]).apps
        old_mailbox = old_state.get_model("helpdesk", "Mailbox")
        old_mailbox.objects.create(name="a", host="h", username="u", password="clear one")
        old_mailbox.objects.create(name="b", host="h", username="u", password="")
        executor = MigrationExecutor(connection)
        executor.migrate(target)
        a, b = Mailbox.objects.get(name="a"), Mailbox.objects.get(name="b")
        assert looks_encrypted(stored(a)) and decrypt(stored(a)) == "clear one"
        assert stored(b) == ""
        assert a.password == "clear one"

        executor = MigrationExecutor(connection)
        executor.migrate(before)
        assert stored(a) == "clear one" and stored(b) == ""

        # A password no key decrypts stops the reversal, naming the mailbox; nothing changes.
        executor = MigrationExecutor(connection)
        executor.migrate(target)
        settings.SECRET_KEY = NEW
        executor = MigrationExecutor(connection)
        with pytest.raises(RuntimeError, match="mailbox 'a' cannot be decrypted"):
            executor.migrate(before)
        assert looks_encrypted(stored(a))
    finally:
        Mailbox.objects.all().delete()
        MigrationExecutor(connection).migrate(leaf)
