"""The Zammad dialect's routes; the demo mounts them at ``/api/v1/`` (Zammad's own path):
``path("api/v1/", include("helpdesk.dialects.zammad.urls"))``. Trailing slashes optional;
the last route answers any other path with Zammad's JSON 404."""

from django.urls import re_path

from . import views

app_name = "helpdesk-zammad"

ID = r"(?P<pk>[^/]+)"

urlpatterns = [
    re_path(r"^tickets/search/?$", views.TicketSearch.as_view(), name="ticket-search"),
    re_path(r"^tickets/?$", views.TicketList.as_view(), name="ticket-list"),
    re_path(rf"^tickets/{ID}/?$", views.TicketDetail.as_view(), name="ticket-detail"),
    re_path(r"^ticket_articles/?$", views.ArticleCreate.as_view(), name="article-create"),
    re_path(rf"^ticket_articles/by_ticket/{ID}/?$", views.ArticlesByTicket.as_view(), name="articles-by-ticket"),
    re_path(rf"^ticket_articles/{ID}/?$", views.ArticleDetail.as_view(), name="article-detail"),
    re_path(
        r"^ticket_attachment/(?P<ticket_id>[^/]+)/(?P<article_id>[^/]+)/(?P<pk>[^/]+)/?$",
        views.AttachmentDownload.as_view(), name="attachment-download",
    ),
    re_path(r"^tags/?$", views.TicketTags.as_view(), name="tags"),
    re_path(r"^tags/add/?$", views.TagAdd.as_view(), name="tag-add"),
    re_path(r"^tags/remove/?$", views.TagRemove.as_view(), name="tag-remove"),
    re_path(r"^tag_search/?$", views.TagSearch.as_view(), name="tag-search"),
    re_path(r"^tag_list/?$", views.TagList.as_view(), name="tag-list"),
    re_path(r"^ticket_states/?$", views.StateList.as_view(), name="states"),
    re_path(rf"^ticket_states/{ID}/?$", views.StateDetail.as_view(), name="state-detail"),
    re_path(r"^ticket_priorities/?$", views.PriorityList.as_view(), name="priorities"),
    re_path(rf"^ticket_priorities/{ID}/?$", views.PriorityDetail.as_view(), name="priority-detail"),
    re_path(r"^groups/?$", views.GroupList.as_view(), name="groups"),
    re_path(rf"^groups/{ID}/?$", views.GroupDetail.as_view(), name="group-detail"),
    re_path(r"^organizations/search/?$", views.OrganizationSearch.as_view(), name="organization-search"),
    re_path(r"^organizations/?$", views.OrganizationList.as_view(), name="organizations"),
    re_path(rf"^organizations/{ID}/?$", views.OrganizationDetail.as_view(), name="organization-detail"),
    re_path(r"^users/me/?$", views.UserMe.as_view(), name="user-me"),
    re_path(r"^users/search/?$", views.UserSearch.as_view(), name="user-search"),
    re_path(r"^users/?$", views.UserList.as_view(), name="users"),
    re_path(rf"^users/{ID}/?$", views.UserDetail.as_view(), name="user-detail"),
    re_path(r"", views.NotFound.as_view(), name="not-found"),
]
