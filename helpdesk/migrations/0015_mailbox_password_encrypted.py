"""Mailbox passwords encrypted at rest (helpdesk.encryption): the column becomes text (a
Fernet token is longer than the password) and every clear-text password is encrypted with
the current key. Reversed, each is decrypted back into clear text; one that no key decrypts
stops the reversal with an error naming the mailbox (nothing is changed)."""

from django.db import migrations

import helpdesk.encryption


def _rows(apps, schema_editor):
    table = schema_editor.quote_name(apps.get_model("helpdesk", "Mailbox")._meta.db_table)
    with schema_editor.connection.cursor() as cursor:
        # Raw SQL: the model's field would decrypt what it reads, and these are not tokens yet.
        cursor.execute(f"SELECT id, name, password FROM {table} ORDER BY id")
        return table, cursor.fetchall()


def _write(schema_editor, table, changes):
    with schema_editor.connection.cursor() as cursor:
        for pk, value in changes:
            cursor.execute(f"UPDATE {table} SET password = %s WHERE id = %s", [value, pk])


def encrypt_passwords(apps, schema_editor):
    from helpdesk.encryption import DecryptionError, decrypt, encrypt

    table, rows = _rows(apps, schema_editor)
    changes = []
    for pk, _name, value in rows:
        if not value:
            continue
        try:
            decrypt(value)  # encrypted already (the migration ran before, and was faked back)
        except DecryptionError:
            changes.append((pk, encrypt(value)))
    _write(schema_editor, table, changes)


def decrypt_passwords(apps, schema_editor):
    from helpdesk.encryption import DecryptionError, decrypt

    table, rows = _rows(apps, schema_editor)
    changes = []
    for pk, name, value in rows:
        if not value:
            continue
        try:
            changes.append((pk, decrypt(value)))
        except DecryptionError as exc:
            raise RuntimeError(
                f"The password of mailbox {name!r} cannot be decrypted: {exc}. Restore the key, or clear the "
                "password in the admin, then migrate back again."
            ) from None
    _write(schema_editor, table, changes)


class Migration(migrations.Migration):

    dependencies = [
        ("helpdesk", "0014_workplace"),
    ]

    operations = [
        migrations.AlterField(
            model_name="mailbox",
            name="password",
            field=helpdesk.encryption.EncryptedTextField(blank=True, max_length=254, verbose_name="password"),
        ),
        migrations.RunPython(encrypt_passwords, decrypt_passwords, elidable=False),
    ]
