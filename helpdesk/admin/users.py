"""What the helpdesk admin may assume about the site's user admin.

Autocomplete pickers for users need the user model registered in the same admin site
with ``search_fields`` (Django's ``UserAdmin`` has them). A site with a custom user model
and no such admin still gets working, plain pickers instead of a failed system check.
"""

from __future__ import annotations

from django.contrib.admin import AdminSite
from django.contrib.auth import get_user_model


def user_autocomplete_available(site: AdminSite) -> bool:
    user_admin = site._registry.get(get_user_model())
    return bool(user_admin is not None and getattr(user_admin, "search_fields", None))
