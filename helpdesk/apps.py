"""App configuration: pins the auto field and wires checks and settings resets."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HelpdeskConfig(AppConfig):
    name = "helpdesk"
    verbose_name = _("Helpdesk")
    # Pinned so a host site's DEFAULT_AUTO_FIELD never causes phantom migrations.
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
        from . import conf  # noqa: F401  (connects the setting_changed reset)
        from . import attachments  # noqa: F401  (deletes an attachment's file with its row)
        from .mail import anymail

        anymail.connect()  # providers' inbound webhooks, when django-anymail is installed
        from . import refcache

        refcache.connect()  # cached statuses, custom fields, webhooks: dropped on change
        from . import user_permissions

        user_permissions.connect()  # the permission id → name map: dropped on change
        from . import sla_refresh

        sla_refresh.connect()  # a changed SLA policy or calendar refreshes the open tickets' due times
