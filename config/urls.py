"""URLs of the demo site: the admin at /admin/, the helpdesk API at /api/, its docs at /api/docs/,
the Zammad dialect at /api/v1/, the Planhat dialect at /planhat/ and the Service Provider Pro
dialect at /spp/api/."""

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
    # The Zammad dialect where Zammad clients expect it (before the API's catch-all).
    path("api/v1/", include("helpdesk.dialects.zammad.urls")),
    path("api/", include("helpdesk.api.urls")),
    # Dialects: other systems' ticket APIs, for clients written against them.
    path("planhat/", include("helpdesk.dialects.planhat.urls")),
    path("spp/api/", include("helpdesk.dialects.spp.urls")),
    # Providers' inbound mail webhooks (django-anymail): /anymail/<provider>/inbound/.
    path("anymail/", include("anymail.urls")),
]
