"""Drop the foreign-key indexes that a composite index already leads with (found by the benchmark).

``reply.ticket_id`` is covered by ``hd_reply_ticket_created``, ``statuschange.ticket_id``
by ``hd_statuschange_ticket_at``, ``ticket.client_id`` by ``hd_ticket_client_state`` and
``ticket.department_id`` by ``hd_ticket_dept_status``: every lookup and cascade by those
columns uses the composite index, and each dropped index is one less to update on every
reply, status change and new ticket.
"""
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("helpdesk", "0006_search_documents"),
    ]

    operations = [
        migrations.AlterField(
            model_name="reply",
            name="ticket",
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="replies", to="helpdesk.ticket", verbose_name="ticket"),
        ),
        migrations.AlterField(
            model_name="statuschange",
            name="ticket",
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="status_changes", to="helpdesk.ticket", verbose_name="ticket"),
        ),
        migrations.AlterField(
            model_name="ticket",
            name="client",
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="tickets", to="helpdesk.client", verbose_name="client"),
        ),
        migrations.AlterField(
            model_name="ticket",
            name="department",
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="tickets", to="helpdesk.department", verbose_name="department"),
        ),
    ]
