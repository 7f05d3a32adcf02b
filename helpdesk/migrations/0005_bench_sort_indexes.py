"""The priority and status sort indexes in the API's sort direction (found by the benchmark).

``GET /tickets?sort=ticket_priority`` orders by priority, created, id, all descending (or
all ascending). The old indexes (priority ascending, created descending, no id) matched
neither direction, so PostgreSQL sorted every active ticket for each page: 74 ms at 10k
tickets. With every key descending, a forward or backward index scan reads just the page.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("helpdesk", "0004_admin_overview"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="ticket", name="hd_ticket_state_priority"),
        migrations.RemoveIndex(model_name="ticket", name="hd_ticket_state_status"),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                fields=["active_state", "-priority", "-created_at", "-id"], name="hd_ticket_state_priority"
            ),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(fields=["active_state", "-status", "-created_at", "-id"], name="hd_ticket_state_status"),
        ),
    ]
