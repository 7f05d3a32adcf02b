"""SPP's routes; the demo mounts them at ``/spp/api/``: ``path("spp/api/", include("helpdesk.dialects.spp.urls"))``."""

from django.urls import re_path

from ...api.base import NotFoundView
from .views import TicketsView, TicketView

app_name = "helpdesk-spp"

urlpatterns = [
    re_path(r"^tickets/?$", TicketsView.as_view(), name="tickets"),
    re_path(r"^tickets/(?P<pk>[^/]+)/?$", TicketView.as_view(), name="ticket"),
    re_path(r"", NotFoundView.as_view(), name="not-found"),
]
