"""Department-scoped agents (``AgentAccess``), the internal-note permissions on replies,
and the "Helpdesk agents" group granted them (superusers have them anyway)."""

from django.conf import settings
from django.db import migrations, models

AGENT_GROUP = "Helpdesk agents"
GRANTED = ["view_note", "add_note"]


def grant_note_permissions(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after migrate; make sure the new ones exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name=AGENT_GROUP).first()
    if group is not None:
        group.permissions.add(*Permission.objects.filter(content_type__app_label="helpdesk", codename__in=GRANTED))


def revoke_note_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name=AGENT_GROUP).first()
    if group is not None:
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="helpdesk", codename__in=GRANTED))


class Migration(migrations.Migration):
    dependencies = [
        ("helpdesk", "0009_search_rebuild_range"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="reply",
            options={
                "ordering": ["created_at", "id"],
                "permissions": [("view_note", "Can view internal notes"), ("add_note", "Can add internal notes")],
                "verbose_name": "reply",
                "verbose_name_plural": "replies",
            },
        ),
        migrations.CreateModel(
            name="AgentAccess",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "departments",
                    models.ManyToManyField(
                        blank=True,
                        help_text="The agent sees, searches and changes only tickets of these departments.",
                        related_name="agent_access",
                        to="helpdesk.department",
                        verbose_name="departments",
                    ),
                ),
                (
                    "user",
                    models.OneToOneField(
                        limit_choices_to={"is_staff": True},
                        on_delete=models.deletion.CASCADE,
                        related_name="helpdesk_access",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="agent",
                    ),
                ),
            ],
            options={
                "verbose_name": "agent department access",
                "verbose_name_plural": "agent department access",
            },
        ),
        migrations.RunPython(grant_note_permissions, revoke_note_permissions),
    ]
