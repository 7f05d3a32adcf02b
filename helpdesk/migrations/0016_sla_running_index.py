"""The breaching filter's index covers every column it reads, so its counts are
index-only scans of the running tickets (bench/README.md, "SLA lists")."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("helpdesk", "0015_mailbox_password_encrypted"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="ticket",
            name="hd_ticket_resolution_due",
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(("closed_at__isnull", True), ("sla_paused_at__isnull", True)),
                fields=["resolution_due_at", "first_response_due_at", "first_response_at", "active_state"],
                name="hd_ticket_sla_running",
            ),
        ),
    ]
