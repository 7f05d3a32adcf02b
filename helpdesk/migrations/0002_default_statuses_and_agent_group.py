"""The five default statuses (ids 1-5, as API.md fixes them) and the agents group."""

from django.core.management.color import no_style
from django.db import migrations

STATUSES = [
    # id, title, order, is_closed, colour
    (1, "Open", 10, False, "#2563eb"),
    (2, "Closed", 50, True, "#6b7280"),
    (3, "On Hold", 30, False, "#d97706"),
    (4, "Answered", 20, False, "#16a34a"),
    (5, "Customer Replied", 40, False, "#dc2626"),
]

AGENT_GROUP = "Helpdesk agents"
# Agents work tickets every day but cannot delete tickets or change reference data.
AGENT_PERMISSIONS = {
    "ticket": ["view", "add", "change", "archive"],
    "reply": ["view", "add", "change", "delete"],
    "statuschange": ["view"],
    "tag": ["view", "add", "change"],
    "client": ["view", "add", "change"],
    "clientdomain": ["view", "add", "change", "delete"],
    "contact": ["view", "add", "change"],
    "project": ["view", "add", "change"],
    "department": ["view"],
    "ticketstatus": ["view"],
    "customfield": ["view"],
}


def create_statuses(apps, schema_editor):
    TicketStatus = apps.get_model("helpdesk", "TicketStatus")
    for pk, title, order, is_closed, colour in STATUSES:
        TicketStatus.objects.update_or_create(
            pk=pk, defaults={"title": title, "order": order, "is_closed": is_closed, "colour": colour}
        )
    # Rows inserted with explicit ids leave PostgreSQL's sequence at 1; move it past them.
    connection = schema_editor.connection
    for sql in connection.ops.sequence_reset_sql(no_style(), [TicketStatus]):
        schema_editor.execute(sql)


def create_agent_group(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after migrate; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=AGENT_GROUP)
    codenames = [
        f"{action}_{model}" for model, actions in AGENT_PERMISSIONS.items() for action in actions
    ]
    group.permissions.add(*Permission.objects.filter(content_type__app_label="helpdesk", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("helpdesk", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_statuses, migrations.RunPython.noop),
        migrations.RunPython(create_agent_group, migrations.RunPython.noop),
    ]
