"""The Zammad endpoints. Thin: each view parses Zammad's request (``serializers``),
checks the role with ``helpdesk.permissions``, calls the services, and renders what the
selectors return in Zammad's shape. No rule lives here.

One module per resource: ``base`` (``ZammadView``, what they share), ``tickets``,
``articles``, ``tags``, ``reference`` (states, priorities, groups) and ``people``
(organizations, users). The names below are what ``urls`` routes to.
"""

from .articles import ArticleCreate, ArticleDetail, ArticlesByTicket, AttachmentDownload
from .base import NotFound, ZammadView
from .people import (
    OrganizationDetail,
    OrganizationList,
    OrganizationSearch,
    UserCreate,
    UserDetail,
    UserList,
    UserMe,
    UserSearch,
)
from .reference import GroupDetail, GroupList, PriorityDetail, PriorityList, StateDetail, StateList
from .tags import TagAdd, TagList, TagRemove, TagSearch, TicketTags
from .tickets import TicketDetail, TicketList, TicketSearch

__all__ = [
    "ArticleCreate", "ArticleDetail", "ArticlesByTicket", "AttachmentDownload", "GroupDetail", "GroupList", "NotFound",
    "OrganizationDetail", "OrganizationList", "OrganizationSearch", "PriorityDetail", "PriorityList",
    "StateDetail", "StateList", "TagAdd", "TagList", "TagRemove", "TagSearch", "TicketDetail", "TicketList",
    "TicketSearch", "TicketTags", "UserCreate", "UserDetail", "UserList", "UserMe", "UserSearch", "ZammadView",
]
