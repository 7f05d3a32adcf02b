"""``/ticket_articles``: create a reply or note (with its files), show one, list a ticket's
articles; ``/ticket_attachment``: download an article's file."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from .... import selectors
from ....api.attachments import AnyAccept
from ....attachments import download_response
from ....models import Attachment, Reply, Ticket
from .. import mapping
from .. import serializers as z
from ..errors import Unprocessable
from ..mapping import parse_id
from .base import ZammadView


class ArticleCreate(ZammadView):
    """``POST /ticket_articles``: a public reply, or an internal note (``internal: true``),
    with its ``attachments``."""

    carries_files = True

    def post(self, request: Request) -> Response:
        data = self.body()
        if data.get("ticket_id") is None:
            raise Unprocessable(_("ticket_id is required."))
        ticket = self.ticket(z.as_id(data["ticket_id"], "ticket_id"))
        article = z.article_input(data, user=request.user)
        try:
            with transaction.atomic():
                reply = self.post_article(ticket, article)
        except DjangoValidationError as exc:
            raise self.write_error(exc) from None
        data = z.reply_article_data(reply)
        if article["time_unit"] is not None:
            # What this article accounted (Zammad's "12.0"); the ticket keeps the total.
            data["time_unit"] = str(float(article["time_unit"]))
        return Response(data, status=201)


class ArticleDetail(ZammadView):
    """``GET /ticket_articles/{id}``."""

    def get(self, request: Request, pk: str) -> Response:
        missing = exceptions.NotFound(_("Couldn't find Ticket::Article with 'id'=%(id)s") % {"id": pk[:30]})
        if parse_id(pk) is None:
            raise missing
        kind, row_id = mapping.parse_article_id(parse_id(pk))
        if kind == "ticket":
            try:
                return Response(z.opening_article_data(selectors.ticket_get(user=request.user, pk=row_id)))
            except Ticket.DoesNotExist:
                raise missing from None
        reply = Reply.objects.filter(pk=row_id).select_related("ticket").first()
        if reply is None:
            raise missing
        try:
            ticket = selectors.ticket_get(user=request.user, pk=reply.ticket_id)
        except Ticket.DoesNotExist:
            raise missing from None
        visible = selectors.reply_list(user=request.user, ticket=ticket).filter(pk=row_id).first()
        if visible is None:
            raise missing
        return Response(z.reply_article_data(visible))


class ArticlesByTicket(ZammadView):
    """``GET /ticket_articles/by_ticket/{ticket_id}``: oldest first; customers never see notes."""

    def get(self, request: Request, pk: str) -> Response:
        ticket = self.ticket(pk)
        expand = True  # Zammad's by_ticket names type and sender; clients rely on it
        articles = [z.opening_article_data(ticket, expand=expand)]
        articles += [z.reply_article_data(r, expand=expand) for r in selectors.reply_list(user=request.user, ticket=ticket)]
        return Response(articles)


class AttachmentDownload(ZammadView):
    """``GET /ticket_attachment/{ticket_id}/{article_id}/{id}``: the native download,
    authorized as ``/attachments/{id}`` is (``selectors.attachment_get``: a customer never
    gets a note's file, nor another organization's) and answered by the same
    ``download_response``; three ids that do not belong together are a 404."""

    content_negotiation_class = AnyAccept

    def get(self, request: Request, ticket_id: str, article_id: str, pk: str) -> Any:
        missing = exceptions.NotFound(_("Attachment not found."))
        ids = parse_id(ticket_id), parse_id(article_id), parse_id(pk)
        if None in ids:
            raise missing
        ticket_pk, article_pk, attachment_pk = ids
        try:
            attachment = selectors.attachment_get(user=request.user, pk=attachment_pk)
        except Attachment.DoesNotExist:
            raise missing from None
        kind, row_id = mapping.parse_article_id(article_pk)
        on_article = (attachment.reply_id is None and row_id == ticket_pk) if kind == "ticket" else (
            attachment.reply_id == row_id)
        if attachment.ticket_id != ticket_pk or not on_article:
            raise missing
        return download_response(attachment)
