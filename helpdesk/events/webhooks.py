"""Webhooks: events out to subscribed URLs, signed the Standard Webhooks way.

The services call ``emit`` inside their transaction: it writes one outbox row
(``WebhookDelivery``) per subscription that wants the event, with the API's ticket or
reply object as the payload, and queues ``deliver`` for when the transaction commits. A
change that rolls back sends nothing; one that commits is never lost, even if the task
queue or a worker dies (``sweep`` re-queues whatever is still pending).

Order: one worker at a time delivers a subscription's messages (it holds the
subscription's lease), oldest first, and a message that fails holds back the later ones
of its ticket until it is delivered or given up. Every service that emits has written
the ticket's row first, so two changes of one ticket get their outbox ids in commit order.

Retries: network errors, timeouts, 429 and 5xx are retried with exponential backoff
(``WEBHOOK_RETRY_BACKOFF_SECONDS`` doubled per attempt, capped) up to
``WEBHOOK_MAX_ATTEMPTS``; other answers (3xx, 4xx) and refused addresses are given up at
once. ``WEBHOOK_DISABLE_AFTER_FAILURES`` failed attempts in a row disable the subscription
and say why; the admin re-enables it and re-sends messages.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import secrets
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ..conf import helpdesk_settings
from . import safe_http
from .models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookSubscription
from .tasks import enqueue_on_commit, helpdesk_task

logger = logging.getLogger(__name__)

#: Every event a subscription may ask for, and what its ``data`` is.
EVENTS = {
    "ticket.created": _("A ticket was opened (data: the ticket)."),
    "ticket.updated": _("A ticket's fields, assignees or archive state changed (data: the ticket)."),
    "ticket.status_changed": _("A ticket moved to another status (data: the ticket; previous_status)."),
    "ticket.deleted": _("A ticket was deleted (data: the ticket as it was)."),
    "reply.created": _("A reply or internal note was posted (data: the reply)."),
    "reply.deleted": _("A reply or note was deleted (data: the reply as it was)."),
    "tags.changed": _("A ticket's tags changed (data: the ticket)."),
}

#: A host name or address as urlsplit gives it (IPv6 without its brackets).
_HOST = re.compile(r"[A-Za-z0-9.\-_]+|[0-9A-Fa-f:.]+(%[A-Za-z0-9]+)?")

#: Bytes of a receiver's answer kept in the attempt log.
EXCERPT_CHARS = 1000
#: Messages one pass of ``deliver`` looks at.
BATCH = 200


# -- writing events (inside the service's transaction) ---------------------------------


def active_subscriptions() -> list[tuple[int, list[str]]]:
    """``(id, events)`` of every active subscription (few rows; cached by ``refcache``)."""
    return [(pk, list(events)) for pk, events in
            WebhookSubscription.objects.filter(is_active=True).order_by("id").values_list("id", "events")]


def _subscribers(event: str) -> list[int]:
    # Filtered here: SQLite's JSON has no "list contains", and the list is cached.
    from .. import refcache

    return [pk for pk, events in refcache.get("webhooks") if event in events or "*" in events]


def wanted(event: str) -> bool:
    """Whether any active subscription wants ``event`` (to capture a payload before a delete)."""
    return bool(_subscribers(event))


def ticket_payload(ticket_id: int) -> dict[str, Any] | None:
    """The API's ticket object (``helpdesk.api.serializers.ticket_data``) as of now."""
    # The payload is the API's object by contract, so its one builder is reused; it is a
    # plain function of the rows (no request, no view).
    from django.db.models import Prefetch

    from ..api.serializers import ticket_data
    from ..models import Tag, Ticket

    ticket = (
        Ticket.objects.select_related("status", "department", "client", "requester")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.only("id", "name")), "assignees")
        .filter(pk=ticket_id)
        .first()
    )
    return ticket_data(ticket) if ticket is not None else None


def ticket_object(ticket: Any) -> dict[str, Any]:
    """The API's ticket object of an instance whose related rows are loaded."""
    from ..api.serializers import ticket_data

    return ticket_data(ticket)


def reply_payload(reply: Any) -> dict[str, Any]:
    from ..api.serializers import reply_data

    return reply_data(reply)


def emit(event: str, *, ticket_id: int, data: Any = None, extra: dict[str, Any] | None = None) -> int:
    """Record ``event`` for every subscription that wants it; deliver after commit.

    ``data`` is the payload's ``data`` (a dict), or a callable building it (called only
    when someone listens), or None for the ticket object of ``ticket_id``. Returns the
    number of messages written. Call it inside the write's transaction.
    """
    if event not in EVENTS:
        raise ValueError(f"Unknown webhook event {event!r}.")
    subscriptions = _subscribers(event)
    if not subscriptions:
        return 0
    if callable(data):
        data = data()
    elif data is None:
        data = ticket_payload(ticket_id)
    now = timezone.now()
    payload = {"type": event, "timestamp": now.isoformat().replace("+00:00", "Z"), "data": data, **(extra or {})}
    WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(subscription_id=pk, event=event, ticket_id=ticket_id, payload=payload, created_at=now,
                         next_attempt_at=now)
         for pk in subscriptions]
    )
    for pk in subscriptions:
        enqueue_on_commit(deliver, pk)
    return len(subscriptions)


def emit_many(event: str, ticket_ids: list[int]) -> int:
    """``emit`` for many tickets at once (the bulk upsert): their ticket objects are read
    in one query (two more for tags and assignees off PostgreSQL), the messages written
    in one ``INSERT``."""
    subscriptions = _subscribers(event) if ticket_ids else []
    if not subscriptions:
        return 0
    from django.db.models import Prefetch

    from ..api.serializers import ticket_data
    from ..models import Tag, Ticket

    tickets = (
        Ticket.objects.select_related("status", "department", "client", "requester")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.only("id", "name")), "assignees")
        .filter(pk__in=ticket_ids)
        .in_bulk()
    )
    now = timezone.now()
    stamp = now.isoformat().replace("+00:00", "Z")
    rows = [
        WebhookDelivery(subscription_id=pk, event=event, ticket_id=ticket_id, created_at=now, next_attempt_at=now,
                        payload={"type": event, "timestamp": stamp, "data": ticket_data(tickets[ticket_id])})
        for ticket_id in sorted(ticket_ids) if ticket_id in tickets
        for pk in subscriptions
    ]
    WebhookDelivery.objects.bulk_create(rows, batch_size=1000)
    for pk in subscriptions:
        enqueue_on_commit(deliver, pk)
    return len(rows)


# -- delivering ---------------------------------------------------------------------------


def sign(subscription: WebhookSubscription, delivery: WebhookDelivery, body: str, at: datetime.datetime) -> dict[str, str]:
    """The Standard Webhooks headers for ``body``."""
    from standardwebhooks.webhooks import Webhook

    return {
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(subscription.secret).sign(delivery.message_id, at, body),
    }


def retry_delay(attempts: int) -> datetime.timedelta:
    seconds = helpdesk_settings.WEBHOOK_RETRY_BACKOFF_SECONDS * 2 ** (attempts - 1)
    return datetime.timedelta(seconds=min(seconds, helpdesk_settings.WEBHOOK_RETRY_MAX_DELAY_SECONDS))


def _lease_seconds() -> float:
    # Renewed before each message; one message takes at most ~2 timeouts.
    return helpdesk_settings.WEBHOOK_TIMEOUT_SECONDS * 3 + 5


def _claim(subscription_id: int, token: str) -> bool:
    now = timezone.now()
    return bool(
        WebhookSubscription.objects.filter(pk=subscription_id, is_active=True)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now) | Q(lease_token=token))
        .update(lease_until=now + datetime.timedelta(seconds=_lease_seconds()), lease_token=token)
    )


def _release(subscription_id: int, token: str) -> None:
    WebhookSubscription.objects.filter(pk=subscription_id, lease_token=token).update(lease_until=None, lease_token="")


def _enqueue_later(subscription_id: int, when: datetime.datetime) -> None:
    if when <= timezone.now():
        deliver.enqueue(subscription_id)
    elif deliver.get_backend().supports_defer:
        deliver.using(run_after=when).enqueue(subscription_id)
    # else (e.g. the immediate backend, which cannot wait): the next event or ``sweep``.


def attempt(subscription: WebhookSubscription, delivery: WebhookDelivery) -> bool:
    """Send one message once, log the attempt, and update the message and subscription."""
    settings = helpdesk_settings
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False)
    now = timezone.now()
    headers = {"content-type": "application/json", "user-agent": "django-deskflow-webhooks",
               **sign(subscription, delivery, body, now)}
    status_code = None
    excerpt = error = ""
    duration = 0
    retry = False
    try:
        answer = safe_http.post(subscription.url, body.encode(), headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
                                max_bytes=settings.WEBHOOK_MAX_RESPONSE_BYTES,
                                allow_private=settings.WEBHOOK_ALLOW_PRIVATE)
        status_code, duration = answer.status, answer.duration_ms
        excerpt = answer.body.decode("utf-8", "replace")[:EXCERPT_CHARS]
        ok = 200 <= status_code < 300
        if not ok:
            retry = status_code >= 500 or status_code == 429
            error = _("The receiver answered HTTP %(status)d.") % {"status": status_code}
            if 300 <= status_code < 400:
                error += " " + _("Redirects are not followed.")
    except safe_http.Refused as exc:
        ok, error = False, _("Refused: %(reason)s") % {"reason": exc}
    except Exception as exc:  # network trouble, timeouts, malformed answers: worth another try
        ok, retry = False, True
        error = f"{type(exc).__name__}: {exc}"[:EXCERPT_CHARS]
        duration = int((timezone.now() - now).total_seconds() * 1000)
    WebhookAttempt.objects.create(delivery=delivery, at=now, ok=ok, status_code=status_code, duration_ms=duration,
                                  response_excerpt=excerpt, error=error)
    delivery.attempts += 1
    if ok:
        delivery.status, delivery.delivered_at, delivery.last_error = DeliveryStatus.DELIVERED, timezone.now(), ""
        WebhookSubscription.objects.filter(pk=subscription.pk).update(failure_count=0, last_success_at=timezone.now())
    else:
        delivery.last_error = error
        if retry and delivery.attempts < settings.WEBHOOK_MAX_ATTEMPTS:
            delivery.next_attempt_at = timezone.now() + retry_delay(delivery.attempts)
        else:
            delivery.status = DeliveryStatus.FAILED
        _count_failure(subscription, error)
    delivery.save(update_fields=["status", "attempts", "next_attempt_at", "delivered_at", "last_error"])
    return ok


def _count_failure(subscription: WebhookSubscription, error: str) -> None:
    with transaction.atomic():
        sub = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
        sub.failure_count += 1
        fields = ["failure_count"]
        limit = helpdesk_settings.WEBHOOK_DISABLE_AFTER_FAILURES
        if sub.is_active and sub.failure_count >= limit:
            sub.is_active = False
            sub.disabled_reason = _(
                "Disabled on %(at)s after %(n)d failed deliveries in a row. Last: %(error)s"
            ) % {"at": timezone.now().strftime("%Y-%m-%d %H:%M UTC"), "n": sub.failure_count, "error": error}
            fields += ["is_active", "disabled_reason"]
            logger.warning("Webhook %s (%s) disabled: %s", sub.pk, sub.url, sub.disabled_reason)
        sub.save(update_fields=fields)
        subscription.failure_count, subscription.is_active = sub.failure_count, sub.is_active


@helpdesk_task(queue_name="default")
def deliver(subscription_id: int) -> int:
    """Deliver a subscription's due messages in order; returns how many went out.

    Safe to run twice or concurrently: a second run finds the lease taken and comes back
    when it runs out. A run with messages due first queues a later run of itself (when
    its lease would run out), so a worker killed mid-delivery loses nothing: the
    restarted worker (any worker) finishes the job; at most the message in flight is sent
    twice, with the same ``webhook-id``.
    """
    token = secrets.token_hex(8)
    if not _claim(subscription_id, token):
        sub = WebhookSubscription.objects.filter(pk=subscription_id, is_active=True).only("lease_until").first()
        if sub is not None and sub.lease_until is not None:
            _enqueue_later(subscription_id, sub.lease_until)
        return 0
    sent = 0
    backend = deliver.get_backend()
    if backend.supports_defer and subscription_due(subscription_id):
        # A watchdog: if this worker dies mid-delivery, this later run (already in the
        # queue, so it survives the worker) takes over once the lease has run out.
        deliver.using(run_after=timezone.now() + datetime.timedelta(seconds=_lease_seconds() + 1)).enqueue(
            subscription_id)
    try:
        while True:
            subscription = WebhookSubscription.objects.get(pk=subscription_id)
            if not subscription.is_active:
                break
            held: set[Any] = set()  # tickets whose oldest pending message is not out yet
            progressed = False
            pending = list(subscription.deliveries.filter(status=DeliveryStatus.PENDING).order_by("id")[:BATCH])
            for delivery in pending:
                if delivery.ticket_id in held:
                    continue
                if delivery.next_attempt_at > timezone.now():
                    held.add(delivery.ticket_id)
                    continue
                if not _claim(subscription_id, token):  # renew the lease; lost it: stop
                    return sent
                if attempt(subscription, delivery):
                    sent += 1
                    progressed = True
                else:
                    held.add(delivery.ticket_id)
                    if not subscription.is_active:
                        break
            if not progressed or len(pending) < BATCH:
                break
    finally:
        _release(subscription_id, token)
    # Come back when the next retry is due.
    if subscription.is_active:
        due = subscription.deliveries.filter(status=DeliveryStatus.PENDING).aggregate(at=Min("next_attempt_at"))["at"]
        if due is not None:
            _enqueue_later(subscription_id, due)
    return sent


def subscription_due(subscription_id: int) -> bool:
    return WebhookDelivery.objects.filter(subscription_id=subscription_id, status=DeliveryStatus.PENDING,
                                          next_attempt_at__lte=timezone.now()).exists()


def sweep() -> int:
    """Queue ``deliver`` for every active subscription with pending messages whose lease
    is free or ran out (e.g. its worker was killed). Returns how many were queued.
    Run it from cron or after a worker restarts: ``manage.py helpdesk_webhooks --sweep``."""
    now = timezone.now()
    ids = list(
        WebhookSubscription.objects.filter(is_active=True, deliveries__status=DeliveryStatus.PENDING)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .values_list("pk", flat=True).distinct()
    )
    for pk in ids:
        deliver.enqueue(pk)
    return len(ids)


# -- what the admin and the API do --------------------------------------------------------


@transaction.atomic
def resend(deliveries: Any) -> int:
    """Put messages back in the queue (a fresh attempt count) and deliver them."""
    rows = list(deliveries)
    now = timezone.now()
    for delivery in rows:
        delivery.status, delivery.attempts, delivery.next_attempt_at = DeliveryStatus.PENDING, 0, now
        delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
    for subscription_id in {d.subscription_id for d in rows}:
        enqueue_on_commit(deliver, subscription_id)
    return len(rows)


@transaction.atomic
def enable(subscription: WebhookSubscription) -> None:
    """Turn a (disabled) subscription back on and deliver what waited."""
    WebhookSubscription.objects.filter(pk=subscription.pk).update(is_active=True, failure_count=0, disabled_reason="")
    from .. import refcache

    refcache.drop("webhooks")
    subscription.is_active, subscription.failure_count, subscription.disabled_reason = True, 0, ""
    enqueue_on_commit(deliver, subscription.pk)


# -- subscriptions: the services the admin and the API call -------------------------------


def clean_url(url: Any) -> str:
    from django.core.exceptions import ValidationError

    text = str(url or "").strip()
    if not text:
        raise ValidationError({"url": [_("This field is required.")]})
    if len(text) > WebhookSubscription._meta.get_field("url").max_length:
        raise ValidationError({"url": [_("At most 2000 characters.")]})
    # Not Django's URLValidator: it refuses single-label intranet names ("crm"), which a
    # site with WEBHOOK_ALLOW_PRIVATE may well use.
    if any(c.isspace() for c in text) or not _HOST.fullmatch(urlsplit(text).hostname or ""):
        raise ValidationError({"url": [_("Enter a valid http or https URL.")]})
    try:
        safe_http.check_url(text, allow_private=helpdesk_settings.WEBHOOK_ALLOW_PRIVATE)
    except safe_http.Refused as exc:
        raise ValidationError({"url": [str(exc)]}) from None
    return text


def clean_events(events: Any) -> list[str]:
    from django.core.exceptions import ValidationError

    if isinstance(events, str) or not isinstance(events, (list, tuple)) or not events:
        raise ValidationError({"events": [_("A non-empty list of events, e.g. [\"ticket.created\"].")]})
    unknown = [str(e) for e in events if e not in EVENTS and e != "*"]
    if unknown:
        raise ValidationError({"events": [_("Unknown event(s): %(u)s. Known: %(k)s.") % {
            "u": ", ".join(unknown), "k": ", ".join(EVENTS)}]})
    return list(dict.fromkeys(events))


def clean_secret(secret: Any) -> str:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 24 to 64 bytes."""
    import base64
    import binascii

    from django.core.exceptions import ValidationError

    message = _("Use the Standard Webhooks form: whsec_ followed by 24 to 64 random bytes in base64.")
    if not isinstance(secret, str) or not secret.startswith("whsec_"):
        raise ValidationError({"secret": [message]})
    try:
        raw = base64.b64decode(secret[6:], validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError({"secret": [message]}) from None
    if not 24 <= len(raw) <= 64:
        raise ValidationError({"secret": [message]})
    return secret


def _require_manager(by: Any) -> None:
    """Staff who may not manage webhooks are refused (``PermissionDenied``), as the API
    and the admin refuse them; ``by=None`` is the site's own code."""
    from django.core.exceptions import PermissionDenied

    from ..permissions import can_manage_webhooks

    if by is not None and getattr(by, "is_staff", False) and not can_manage_webhooks(by):
        raise PermissionDenied(_("Managing webhooks needs the helpdesk.change_webhooksubscription permission."))


def _collect(checks: dict[str, Any]) -> dict[str, Any]:
    from django.core.exceptions import ValidationError

    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name, check in checks.items():
        try:
            values[name] = check()
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(key, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return values


@transaction.atomic
def webhook_create(*, url: Any, events: Any, secret: Any = None, description: str = "", by: Any = None
                   ) -> WebhookSubscription:
    """Subscribe ``url`` to ``events``; without ``secret`` one is generated (show it once)."""
    _require_manager(by)
    checks: dict[str, Any] = {"url": lambda: clean_url(url), "events": lambda: clean_events(events),
                              "description": lambda: str(description or "")[:200]}
    if secret not in (None, ""):
        checks["secret"] = lambda: clean_secret(secret)
    values = _collect(checks)
    return WebhookSubscription.objects.create(**values, created_by=by if getattr(by, "pk", None) else None)


@transaction.atomic
def webhook_update(*, subscription: WebhookSubscription, by: Any = None, **changes: Any) -> WebhookSubscription:
    """Change any of ``url``, ``events``, ``secret``, ``description``, ``is_active``
    (turning it on again clears the failure count and delivers what waited)."""
    _require_manager(by)
    unknown = set(changes) - {"url", "events", "secret", "description", "is_active"}
    if unknown:
        raise TypeError(f"webhook_update() cannot change: {', '.join(sorted(unknown))}")
    cleaners = {"url": clean_url, "events": clean_events, "secret": clean_secret,
                "description": lambda v: str(v or "")[:200], "is_active": bool}
    values = _collect({k: (lambda k=k: cleaners[k](changes[k])) for k in changes})
    reactivate = values.get("is_active") is True and not subscription.is_active
    for name, value in values.items():
        setattr(subscription, name, value)
    fields = list(values)
    if values.get("is_active") is False:
        subscription.disabled_reason = _("Turned off by hand.")
        fields.append("disabled_reason")
    if fields:
        subscription.save(update_fields=fields)
    if reactivate:
        enable(subscription)
    return subscription


@transaction.atomic
def webhook_delete(*, subscription: WebhookSubscription, by: Any = None) -> None:
    """Unsubscribe; pending messages go with it."""
    _require_manager(by)
    subscription.delete()
