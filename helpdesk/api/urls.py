"""The helpdesk API's routes; mount anywhere: ``path("api/", include("helpdesk.api.urls"))``.

Trailing slashes are optional. The last route answers any other path with a JSON 404.
"""

from django.urls import re_path

from . import reference
from .attachments import AttachmentDownload
from .base import NotFoundView
from .schema import SchemaView
from .views import TicketViewSet
from .webhooks import WebhookViewSet

app_name = "helpdesk-api"

ID = r"(?P<pk>[^/]+)"

urlpatterns = [
    re_path(
        r"^tickets/?$",
        TicketViewSet.as_view({"get": "list", "post": "create", "put": "bulk_upsert"}),
        name="ticket-list",
    ),
    re_path(
        rf"^tickets/{ID}/?$",
        TicketViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
        name="ticket-detail",
    ),
    re_path(rf"^tickets/{ID}/status/?$", TicketViewSet.as_view({"put": "set_status"}), name="ticket-status"),
    re_path(rf"^tickets/{ID}/archive/?$", TicketViewSet.as_view({"put": "archive"}), name="ticket-archive"),
    re_path(rf"^tickets/{ID}/restore/?$", TicketViewSet.as_view({"put": "restore"}), name="ticket-restore"),
    re_path(rf"^tickets/{ID}/tags/?$", TicketViewSet.as_view({"put": "set_tags"}), name="ticket-tags"),
    re_path(
        rf"^tickets/{ID}/replies/?$",
        TicketViewSet.as_view({"get": "replies", "post": "replies"}),
        name="ticket-replies",
    ),
    re_path(
        rf"^tickets/{ID}/replies/(?P<reply_id>[^/]+)/?$",
        TicketViewSet.as_view({"delete": "delete_reply"}),
        name="ticket-reply",
    ),
    re_path(rf"^tickets/{ID}/merge/?$", TicketViewSet.as_view({"post": "merge"}), name="ticket-merge"),
    re_path(rf"^tickets/{ID}/history/?$", TicketViewSet.as_view({"get": "history"}), name="ticket-history"),
    re_path(r"^attachments/(?P<pk>[^/]+)/?$", AttachmentDownload.as_view(), name="attachment"),
    re_path(r"^departments/?$", reference.DepartmentList.as_view(), name="departments"),
    re_path(r"^statuses/?$", reference.StatusList.as_view(), name="statuses"),
    re_path(r"^tags/?$", reference.TagList.as_view(), name="tags"),
    re_path(r"^custom-fields/?$", reference.CustomFieldList.as_view(), name="custom-fields"),
    re_path(r"^clients/?$", reference.ClientList.as_view(), name="clients"),
    re_path(r"^projects/?$", reference.ProjectList.as_view(), name="projects"),
    re_path(r"^webhooks/?$", WebhookViewSet.as_view({"get": "list", "post": "create"}), name="webhook-list"),
    re_path(
        rf"^webhooks/{ID}/?$",
        WebhookViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
        name="webhook-detail",
    ),
    re_path(r"^canned-replies/?$", reference.CannedReplyList.as_view(), name="canned-replies"),
    re_path(r"^schema/?$", SchemaView.as_view(), name="schema"),
    re_path(r"", NotFoundView.as_view(), name="not-found"),
]
