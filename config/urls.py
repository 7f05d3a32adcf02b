"""URLs of the demo site: a landing page at /, the admin at /admin/, the helpdesk API at
/api/, its docs at /api/docs/, the Zammad dialect at /api/v1/, the Planhat dialect at
/planhat/ and the Service Provider Pro dialect at /spp/api/."""

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.urls import include, path, reverse
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularSwaggerView

from helpdesk.api.schema import SPECTACULAR_SETTINGS as HELPDESK_SCHEMA

# The demo's admin branding (its templates/admin/base_site.html shows these).
admin.site.site_header = "Deskflow helpdesk"
admin.site.site_title = "Deskflow helpdesk"
admin.site.index_title = "Workplace"


class LandingView(TemplateView):
    """Where the admin, the API docs and the demo's mailbox are."""

    template_name = "index.html"

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "admin_url": reverse("admin:index"),
            "api_docs_url": reverse("api-docs"),
            "mailbox": settings.DEMO_MAILBOX,
        }


urlpatterns = [
    path("", LandingView.as_view(), name="landing"),
    path("admin/", admin.site.urls),
    # Before the API's include: its last route answers every other /api/ path with a 404.
    path(
        "api/docs/",
        staff_member_required(SpectacularSwaggerView.as_view(url_name="helpdesk-api:schema",
                                                             title=HELPDESK_SCHEMA["TITLE"])),
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
