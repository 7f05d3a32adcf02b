"""Planhat's routes; the demo mounts them at ``/planhat/``: ``path("planhat/", include("helpdesk.dialects.planhat.urls"))``."""

from django.urls import re_path

from ...api.base import NotFoundView
from .views import TicketsView, TicketView

app_name = "helpdesk-planhat"

urlpatterns = [
    re_path(r"^tickets/?$", TicketsView.as_view(), name="tickets"),
    re_path(r"^tickets/(?P<_id>[^/]+)/?$", TicketView.as_view(), name="ticket"),
    re_path(r"", NotFoundView.as_view(), name="not-found"),
]
