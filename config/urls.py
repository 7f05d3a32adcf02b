"""URLs of the demo site: the admin at /admin/, the helpdesk API at /api/, its docs at /api/docs/."""

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularSwaggerView

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    # Before the API's include: its last route answers every other /api/ path with a 404.
    path(
        "api/docs/",
        staff_member_required(SpectacularSwaggerView.as_view(url_name="helpdesk-api:schema")),
        name="api-docs",
    ),
    path("api/", include("helpdesk.api.urls")),
    # Providers' inbound mail webhooks (django-anymail): /anymail/<provider>/inbound/.
    path("anymail/", include("anymail.urls")),
]
