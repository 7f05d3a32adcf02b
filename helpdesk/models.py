"""The helpdesk's data: tickets, their conversation and history, and reference data.

Rules that span rows (dates, counters, history) live in ``services``; the models hold
fields, constraints and small per-row helpers only.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.crypto import KeyGenerator

from .encryption import EncryptedTextField, Undecryptable, clear_text


class Priority(models.IntegerChoices):
    """Stored as a rank so that ordering by priority orders by urgency."""

    NORMAL = 1, _("normal")
    HIGH = 2, _("high")
    URGENT = 3, _("urgent")

    @property
    def slug(self) -> str:
        return self.name.lower()

    @classmethod
    def from_slug(cls, value: str) -> Priority:
        """``"high"`` -> ``Priority.HIGH``; raises ``ValueError`` for anything else."""
        try:
            return cls[str(value).strip().upper()]
        except KeyError:
            raise ValueError(value) from None


class Channel(models.TextChoices):
    """Where a ticket came in; set by the code path, never by the caller."""

    WEB = "web", _("web")
    API = "api", _("API")
    EMAIL = "email", _("email")


class ActiveState(models.TextChoices):
    ACTIVE = "active", _("active")
    ARCHIVED = "archived", _("archived")


class ReplyType(models.TextChoices):
    REPLY = "reply", _("reply")
    NOTE = "note", _("internal note")


class Department(models.Model):
    """A ticket category ("department" in the admin, ``category_id`` in the API)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    is_default = models.BooleanField(
        _("default"),
        default=False,
        help_text=_("Tickets synced without a department go here. At most one."),
    )
    email = models.EmailField(
        _("sender address"), blank=True,
        help_text=_("Mail about this department's tickets is sent from (and answered to) this address."),
    )
    notify_email = models.EmailField(
        _("agents' address"), blank=True,
        help_text=_("New tickets and customer replies with no assignee are mailed here (e.g. a team list)."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="helpdesk_department_one_default",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Marking one department default unmarks the previous one, atomically.
        with transaction.atomic():
            if self.is_default:
                Department.objects.filter(is_default=True).exclude(pk=self.pk).update(is_default=False)
            super().save(*args, **kwargs)


class TicketStatus(models.Model):
    """A status row; the defaults (1 Open … 5 Customer Replied) come from a migration."""

    OPEN = 1
    CLOSED = 2
    ON_HOLD = 3
    ANSWERED = 4
    CUSTOMER_REPLIED = 5

    title = models.CharField(_("title"), max_length=64, unique=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_closed = models.BooleanField(
        _("counts as closed"), default=False, help_text=_("Entering it sets the ticket's closed date.")
    )
    colour = models.CharField(_("colour"), max_length=7, default="#6b7280", help_text=_("A hex colour, e.g. #22c55e."))

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("status")
        verbose_name_plural = _("statuses")

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        # A regex, not int(x, 16), which also takes "#-12345" and "#12_345".
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", self.colour or ""):
            raise ValidationError({"colour": _("Use a hex colour such as #22c55e.")})


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        constraints = [models.UniqueConstraint(Lower("name"), name="helpdesk_tag_name_ci_unique")]

    def __str__(self) -> str:
        return self.name


class Client(models.Model):
    """An organization whose contacts open tickets."""

    name = models.CharField(_("name"), max_length=200, db_index=True)
    external_id = models.CharField(
        _("external id"), max_length=100, unique=True, null=True, blank=True,
        help_text=_("The client's id in another system (the sync's companyExternalId)."),
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("client")
        verbose_name_plural = _("clients")

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A blank external id means "none": NULLs never collide under the unique index.
        if not self.external_id:
            self.external_id = None
        super().save(*args, **kwargs)


class ClientDomain(models.Model):
    """An email domain that identifies a client (``acme.com``); unique across clients."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="domains", verbose_name=_("client"))
    domain = models.CharField(_("domain"), max_length=253, unique=True)

    class Meta:
        ordering = ["domain"]
        verbose_name = _("email domain")
        verbose_name_plural = _("email domains")

    def __str__(self) -> str:
        return self.domain

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.domain = self.domain.strip().lower().lstrip("@")
        super().save(*args, **kwargs)


class Contact(models.Model):
    """Links a user to the client they act for; such a user is a "client contact"."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="helpdesk_contact", verbose_name=_("user")
    )
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("client"))
    phone = models.CharField(_("phone"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("client contact")
        verbose_name_plural = _("client contacts")

    def __str__(self) -> str:
        return f"{self.user} ({self.client})"


class Project(models.Model):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="projects", verbose_name=_("client"))
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        ordering = ["client__name", "name"]
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        constraints = [models.UniqueConstraint(fields=["client", "name"], name="helpdesk_project_client_name_unique")]

    def __str__(self) -> str:
        return self.name


class CustomField(models.Model):
    """A ticket field defined by staff; values live in ``Ticket.custom_fields`` by key."""

    class Type(models.TextChoices):
        TEXT = "text", _("text")
        TEXTAREA = "textarea", _("long text")
        INTEGER = "integer", _("integer")
        DECIMAL = "decimal", _("decimal")
        BOOLEAN = "boolean", _("yes/no")
        DATE = "date", _("date")
        CHOICE = "choice", _("choice")

    key = models.SlugField(
        _("key"), max_length=64, unique=True,
        help_text=_("The name used in the API and in ticket data, e.g. order_number."),
    )
    label = models.CharField(_("label"), max_length=100)
    type = models.CharField(_("type"), max_length=10, choices=Type.choices, default=Type.TEXT)
    choices = models.JSONField(_("choices"), default=list, blank=True, help_text=_("For the choice type: a list of strings."))
    required = models.BooleanField(_("required"), default=False)
    enabled = models.BooleanField(_("enabled"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    help_text = models.CharField(_("help text"), max_length=255, blank=True)

    # Keys that would shadow the API's own parameters.
    RESERVED_KEYS = frozenset(
        {"id", "tags", "search", "sort", "order", "select", "page", "limit", "offset", "status", "priority"}
    )

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        if self.key in self.RESERVED_KEYS or self.key.startswith(("ticket_", "ticketreply_")):
            raise ValidationError({"key": _("This key is reserved by the API.")})
        if self.type == self.Type.CHOICE:
            if not self.choices or not isinstance(self.choices, list) or not all(isinstance(c, str) for c in self.choices):
                raise ValidationError({"choices": _("A choice field needs a list of strings.")})


class Ticket(models.Model):
    subject = models.CharField(_("subject"), max_length=255)
    message = models.TextField(_("message"), blank=True)
    status = models.ForeignKey(
        TicketStatus, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("status")
    )
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.NORMAL)
    channel = models.CharField(_("source"), max_length=8, choices=Channel.choices, default=Channel.WEB)
    active_state = models.CharField(
        _("active state"), max_length=8, choices=ActiveState.choices, default=ActiveState.ACTIVE
    )

    # No index of their own on department, client (here) and ticket (replies, history):
    # a composite index of Meta.indexes leads with each, and every index costs every write.
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("department"), db_index=False
    )
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("client"), db_index=False
    )
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, null=True, blank=True, related_name="tickets", verbose_name=_("project")
    )
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="helpdesk_tickets_created", verbose_name=_("creator"),
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="helpdesk_tickets_requested", verbose_name=_("requester"),
    )
    assignees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="helpdesk_tickets_assigned", verbose_name=_("assignees"),
        # Only agents can be assigned (services enforce it); this keeps pickers and
        # the admin's autocomplete from offering anyone else.
        limit_choices_to={"is_staff": True, "is_active": True},
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets", verbose_name=_("tags"))

    type = models.CharField(_("type"), max_length=64, blank=True)
    severity = models.CharField(_("severity"), max_length=64, blank=True)
    product = models.CharField(_("product"), max_length=128, blank=True)
    time_spent = models.DecimalField(_("time spent (minutes)"), max_digits=10, decimal_places=2, default=0)

    # A ticket synced from another system: (external_source, external_id) is unique.
    # Both NULL for our own tickets; NULLs never collide under the unique constraint,
    # which the bulk upsert's ON CONFLICT targets.
    external_source = models.CharField(_("external source"), max_length=64, null=True, blank=True)
    external_id = models.CharField(_("external id"), max_length=128, null=True, blank=True)
    external_url = models.URLField(_("external URL"), max_length=500, blank=True)

    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)
    cc = models.JSONField(_("CC"), default=list, blank=True, help_text=_("Addresses copied on the ticket's mail."))

    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("last updated"), default=timezone.now)
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    last_reply_at = models.DateTimeField(_("last reply"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    # Denormalized so lists never count rows: public replies, and internal notes.
    replies_count = models.PositiveIntegerField(_("replies"), default=0, editable=False)
    notes_count = models.PositiveIntegerField(_("notes"), default=0, editable=False)

    # The SLA clock, kept by the services (``helpdesk.sla``): the policy that applies, when
    # the first response and the resolution are due, and the pause while we wait on the
    # customer (business minutes paused so far, and since when the clock stands still).
    sla_policy = models.ForeignKey(
        "SLAPolicy", on_delete=models.SET_NULL, null=True, blank=True, related_name="tickets",
        verbose_name=_("SLA policy"), editable=False,
    )
    first_response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True, editable=False)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True, editable=False)
    sla_paused_at = models.DateTimeField(_("SLA paused since"), null=True, blank=True, editable=False)
    sla_paused_minutes = models.PositiveIntegerField(_("SLA minutes paused"), default=0, editable=False)
    # A duplicate merged into another ticket (``services.ticket_merge``) points at it.
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="merged_tickets",
        verbose_name=_("merged into"), editable=False,
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        permissions = [("archive_ticket", _("Can archive and restore tickets"))]
        constraints = [
            models.UniqueConstraint(fields=["external_source", "external_id"], name="helpdesk_ticket_external_unique"),
        ]
        indexes = [
            # The list's default view and sorts, within the active/archived split.
            models.Index(fields=["active_state", "-created_at", "-id"], name="hd_ticket_state_created"),
            models.Index(fields=["active_state", "-updated_at", "-id"], name="hd_ticket_state_updated"),
            # Every key descending, as the API sorts (``sort=ticket_priority`` is priority,
            # created, id, all in the one direction): a forward scan serves ``desc`` and a
            # backward scan ``asc``, with no sort of the whole table.
            models.Index(fields=["active_state", "-priority", "-created_at", "-id"], name="hd_ticket_state_priority"),
            models.Index(fields=["active_state", "-status", "-created_at", "-id"], name="hd_ticket_state_status"),
            models.Index(fields=["department", "status", "-created_at"], name="hd_ticket_dept_status"),
            models.Index(fields=["client", "active_state", "-created_at"], name="hd_ticket_client_state"),
            # Incremental sync: updated_since / created_since across all states.
            models.Index(fields=["updated_at"], name="hd_ticket_updated"),
            models.Index(fields=["created_at"], name="hd_ticket_created"),
            # The admin overview's "closed per day" and resolution times.
            models.Index(fields=["closed_at"], name="hd_ticket_closed", condition=models.Q(closed_at__isnull=False)),
            # The overview's open-ticket breakdown and unassigned count, read from the index
            # alone (the id is there for the unassigned anti-join; a key column, not an
            # INCLUDE, which SQLite lacks).
            models.Index(
                fields=["status", "department", "priority", "id"], name="hd_ticket_active_breakdown",
                condition=models.Q(active_state="active"),
            ),
            # "Breaching SLA": the due times of tickets whose clock runs, nothing else.
            models.Index(
                fields=["first_response_due_at"], name="hd_ticket_first_response_due",
                condition=models.Q(first_response_at__isnull=True, sla_paused_at__isnull=True, closed_at__isnull=True),
            ),
            # Every column the breaching filter reads, as key columns (SQLite has no
            # INCLUDE): its bounded count and the overview's count are index-only scans of
            # the running tickets (1.5 ms instead of 23 ms at 100k), and the resolution
            # due-soon range leads it.
            models.Index(
                fields=["resolution_due_at", "first_response_due_at", "first_response_at", "active_state"],
                name="hd_ticket_sla_running",
                condition=models.Q(sla_paused_at__isnull=True, closed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def priority_slug(self) -> str:
        return Priority(self.priority).slug

    @property
    def is_archived(self) -> bool:
        return self.active_state == ActiveState.ARCHIVED

    @property
    def is_external(self) -> bool:
        return self.external_id is not None


class TicketOverview(Ticket):
    """No data of its own: gives the admin's overview page an entry in the admin index."""

    class Meta:
        proxy = True
        verbose_name = _("overview")
        verbose_name_plural = _("overview")
        default_permissions = ()


class Reply(models.Model):
    """One message in a ticket's conversation: a public reply or an internal note."""

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="replies", verbose_name=_("ticket"), db_index=False
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="helpdesk_replies", verbose_name=_("author"),
    )
    text = models.TextField(_("text"))
    type = models.CharField(_("type"), max_length=5, choices=ReplyType.choices, default=ReplyType.REPLY)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("reply")
        verbose_name_plural = _("replies")
        # Internal notes are replies of type "note"; who may read and write them is a
        # permission of its own (``helpdesk.permissions.can_view_notes``/``can_add_note``).
        permissions = [
            ("view_note", _("Can view internal notes")),
            ("add_note", _("Can add internal notes")),
        ]
        indexes = [models.Index(fields=["ticket", "created_at", "id"], name="hd_reply_ticket_created")]

    def __str__(self) -> str:
        return f"{self.get_type_display()} #{self.pk} on ticket #{self.ticket_id}"

    @property
    def is_note(self) -> bool:
        return self.type == ReplyType.NOTE


class StatusChange(models.Model):
    """Append-only status history: one row for every status a ticket entered."""

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="status_changes", verbose_name=_("ticket"), db_index=False
    )
    from_status = models.ForeignKey(
        TicketStatus, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("from")
    )
    to_status = models.ForeignKey(TicketStatus, on_delete=models.PROTECT, related_name="+", verbose_name=_("to"))
    changed_at = models.DateTimeField(_("at"), default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("by"),
    )

    class Meta:
        ordering = ["changed_at", "id"]
        verbose_name = _("status change")
        verbose_name_plural = _("status history")
        indexes = [models.Index(fields=["ticket", "changed_at", "id"], name="hd_statuschange_ticket_at")]

    def __str__(self) -> str:
        return f"#{self.ticket_id}: {self.from_status_id} -> {self.to_status_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("Status history is append-only; a StatusChange cannot be edited.")
        super().save(*args, **kwargs)


class APIKeyManager(models.Manager["APIKey"]):
    key_generator = KeyGenerator(prefix_length=8, secret_key_length=40)

    def create_key(self, *, user: Any, name: str, expires_at: datetime.datetime | None = None) -> tuple[APIKey, str]:
        """Create a key for ``user``; returns the row and the plain key (shown once, never stored)."""
        key, prefix, hashed_key = self.key_generator.generate()
        obj = self.create(user=user, name=name, prefix=prefix, hashed_key=hashed_key, expires_at=expires_at)
        return obj, key

    def get_from_key(self, key: str) -> APIKey | None:
        """The usable key matching ``key`` (not revoked, not expired), or None."""
        prefix, dot, secret = key.partition(".")
        if not dot or not secret or len(prefix) != self.key_generator.prefix_length:
            return None
        from .user_permissions import fill_user_access, key_lookup

        # What the permission checks need comes along in the same query, read afresh on
        # every request (never a stale permission): the user, their model permissions
        # (user and group), department access and client.
        obj = key_lookup(self, self.db, prefix)
        if obj is None or not self.key_generator.verify(key, obj.hashed_key) or obj.has_expired:
            return None
        fill_user_access(obj, obj.user)
        return obj


class APIKey(models.Model):
    """A user's API key. Only its prefix is kept in clear; the key itself is hashed."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="helpdesk_api_keys", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=100, help_text=_("What the key is for, e.g. 'Zendesk sync'."))
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    hashed_key = models.CharField(_("hashed key"), max_length=200, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked = models.BooleanField(_("revoked"), default=False, help_text=_("A revoked key can never be used again."))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    objects = APIKeyManager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def has_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()


class IdempotencyKey(models.Model):
    """A request sent with ``Idempotency-Key``: claimed before it runs, its response kept after.

    One row per user and key (a unique constraint: of two concurrent requests with one key,
    only one can claim it). ``status_code`` is null while the first request is in flight.
    See ``helpdesk.idempotency``.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    key = models.CharField(_("key"), max_length=255)
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    status_code = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    response_headers = models.JSONField(_("response headers"), default=dict, blank=True)
    response_body = models.BinaryField(_("response body"), default=b"", blank=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="hd_idempotency_user_key")]

    def __str__(self) -> str:
        return f"{self.key} ({self.status_code or 'in flight'})"


class AgentAccess(models.Model):
    """Limits an agent to some departments (Zammad's group access).

    An agent without a row works every department; with one, only the departments it
    lists (none: no tickets at all). ``helpdesk.permissions.agent_department_ids`` reads it.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="helpdesk_access", verbose_name=_("agent"),
        limit_choices_to={"is_staff": True},
    )
    departments = models.ManyToManyField(
        Department, blank=True, related_name="agent_access", verbose_name=_("departments"),
        help_text=_("The agent sees, searches and changes only tickets of these departments."),
    )

    class Meta:
        verbose_name = _("agent department access")
        verbose_name_plural = _("agent department access")

    def __str__(self) -> str:
        return str(self.user)


# -- attachments and mail (issue #13) --------------------------------------------------


def attachment_upload_to(instance: Attachment, filename: str) -> str:
    """``helpdesk/attachments/<ticket>/<random>/<name>``: never guessable, never colliding."""
    import secrets

    return f"helpdesk/attachments/{instance.ticket_id}/{secrets.token_hex(8)}/{filename[-100:]}"


def _attachment_storage() -> Any:
    from django.core.files.storage import storages

    from .conf import helpdesk_settings

    return storages[helpdesk_settings.ATTACHMENT_STORAGE]


class Attachment(models.Model):
    """A file on a ticket's first message (``reply`` empty) or on one of its replies.

    Stored through Django's storage API (``STORAGES``, the alias in ``ATTACHMENT_STORAGE``);
    the file goes with its row (``helpdesk.attachments`` deletes it after commit).
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("ticket"))
    reply = models.ForeignKey(
        Reply, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments", verbose_name=_("reply")
    )
    file = models.FileField(_("file"), upload_to=attachment_upload_to, storage=_attachment_storage, max_length=300)
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(
        _("content type"), max_length=100, help_text=_("Sniffed from the content, not taken from the sender.")
    )
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    content_id = models.CharField(
        _("content id"), max_length=255, blank=True, help_text=_("An inline image's Content-ID in its mail.")
    )
    inline = models.BooleanField(_("inline"), default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename


class MailDirection(models.TextChoices):
    INBOUND = "in", _("received")
    OUTBOUND = "out", _("sent")


class MailStatus(models.TextChoices):
    RECEIVED = "received", _("received")
    PENDING = "pending", _("queued")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")


class MailMessage(models.Model):
    """A mail that became (or came from) part of a ticket's conversation.

    Inbound: recorded once per ``Message-ID`` (a message seen twice is stored once).
    Outbound: one row per mail we send, created before it is queued, so every attempt
    sends the same ``Message-ID``; its status, attempts and last error show in the admin.
    Threading looks up ``In-Reply-To``/``References`` here.
    """

    direction = models.CharField(_("direction"), max_length=3, choices=MailDirection.choices)
    message_id = models.CharField(_("Message-ID"), max_length=255, unique=True)
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, null=True, blank=True, related_name="mail_messages", verbose_name=_("ticket")
    )
    # A deleted reply leaves its mail in the log (and in the thread's References).
    reply = models.ForeignKey(
        Reply, on_delete=models.SET_NULL, null=True, blank=True, related_name="mail_messages", verbose_name=_("reply")
    )
    kind = models.CharField(_("kind"), max_length=32, blank=True)
    sender = models.CharField(_("from"), max_length=320, blank=True)
    recipients = models.JSONField(_("to"), default=list, blank=True)
    cc = models.JSONField(_("cc"), default=list, blank=True)
    subject = models.CharField(_("subject"), max_length=998, blank=True)
    html = models.TextField(_("HTML (sanitized)"), blank=True)
    status = models.CharField(_("status"), max_length=8, choices=MailStatus.choices)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("mail message")
        verbose_name_plural = _("mail messages")
        indexes = [models.Index(fields=["ticket", "created_at"], name="hd_mailmessage_ticket")]

    def __str__(self) -> str:
        return f"{self.get_direction_display()}: {self.subject}"


class QuarantineReason(models.TextChoices):
    UNPARSEABLE = "unparseable", _("cannot be parsed")
    TOO_LARGE = "too_large", _("too large")
    AUTO_REPLY = "auto_reply", _("auto-reply")
    BOUNCE = "bounce", _("bounce")
    BLOCKED = "blocked", _("blocked sender")
    NO_DEPARTMENT = "no_department", _("no department")
    ERROR = "error", _("error while ingesting")


class QuarantinedMail(models.Model):
    """An inbound mail that did not become a ticket or reply, kept whole with the reason."""

    reason = models.CharField(_("reason"), max_length=16, choices=QuarantineReason.choices)
    detail = models.TextField(_("detail"), blank=True)
    source = models.CharField(_("source"), max_length=100, blank=True)
    sender = models.CharField(_("from"), max_length=320, blank=True)
    subject = models.CharField(_("subject"), max_length=998, blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True, db_index=True)
    raw = models.BinaryField(_("raw message"))
    received_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("quarantined mail")
        verbose_name_plural = _("quarantined mail")

    def __str__(self) -> str:
        return f"{self.get_reason_display()}: {self.subject or self.message_id or self.pk}"


class Mailbox(models.Model):
    """An IMAP or POP3 mailbox that ``manage.py helpdesk_mail_fetch`` polls."""

    class Protocol(models.TextChoices):
        IMAP = "imap", "IMAP"
        POP3 = "pop3", "POP3"

    class Security(models.TextChoices):
        SSL = "ssl", _("SSL/TLS")
        STARTTLS = "starttls", _("STARTTLS")
        NONE = "none", _("none (local servers only)")

    name = models.CharField(_("name"), max_length=100, unique=True)
    protocol = models.CharField(_("protocol"), max_length=4, choices=Protocol.choices, default=Protocol.IMAP)
    host = models.CharField(_("host"), max_length=253)
    port = models.PositiveIntegerField(_("port"), null=True, blank=True, help_text=_("Empty: the protocol's default."))
    security = models.CharField(_("security"), max_length=8, choices=Security.choices, default=Security.SSL)
    username = models.CharField(_("user name"), max_length=254)
    # Encrypted at rest (helpdesk.encryption); the attribute is the clear text, or an
    # Undecryptable when the key it was encrypted with is gone.
    password = EncryptedTextField(_("password"), max_length=254, blank=True)
    folder = models.CharField(_("folder"), max_length=200, default="INBOX", help_text=_("IMAP only."))
    department = models.ForeignKey(
        Department, on_delete=models.SET_NULL, null=True, blank=True, related_name="mailboxes",
        verbose_name=_("department"), help_text=_("New tickets from this mailbox go here; empty: the default."),
    )
    active = models.BooleanField(_("active"), default=True)
    last_fetched_at = models.DateTimeField(_("last fetched"), null=True, blank=True, editable=False)
    last_error = models.TextField(_("last error"), blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")

    def __str__(self) -> str:
        return self.name

    @property
    def password_lost(self) -> bool:
        """Whether the stored password cannot be decrypted (its key is gone)."""
        return isinstance(self.password, Undecryptable)

    def login_password(self) -> str:
        """The password to log in with; raises ``DecryptionError`` (saying what to do)
        when the stored one cannot be decrypted."""
        return clear_text(self.password, what=f"The password of mailbox {self.name!r}")


# The webhook tables live with the events code; imported here so they are this app's models.
from .events.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookSubscription  # noqa: E402,F401


# -- SLAs: business-hours calendars and first-response / resolution targets ---------------

def _validate_time_zone(value: str) -> None:
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(_("Enter a time zone name such as Europe/Berlin.")) from None


def _validate_working_days(value: str) -> None:
    if not value or any(ch not in "1234567" for ch in value) or len(set(value)) != len(value):
        raise ValidationError(_("Enter the working days as ISO weekday digits, e.g. 12345 for Monday to Friday."))


class BusinessCalendar(models.Model):
    """When the clock of an SLA runs: working days and hours in a time zone, minus holidays."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC", validators=[_validate_time_zone])
    working_days = models.CharField(
        _("working days"), max_length=7, default="12345", validators=[_validate_working_days],
        help_text=_("ISO weekdays: 1 is Monday, 7 is Sunday (12345 is Monday to Friday)."),
    )
    opens_at = models.TimeField(_("opens at"), default=datetime.time(9))
    closes_at = models.TimeField(_("closes at"), default=datetime.time(17))

    class Meta:
        ordering = ["name"]
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.opens_at is not None and self.closes_at is not None and self.opens_at >= self.closes_at:
            raise ValidationError({"closes_at": _("A working day must close after it opens.")})


class Holiday(models.Model):
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="holidays", verbose_name=_("calendar")
    )
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="helpdesk_holiday_unique")]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()


class SLAPolicy(models.Model):
    """First-response and resolution targets for the tickets it matches.

    A ticket gets the most specific matching policy: one naming its client beats one
    naming its department, which beats one for its priority alone (see ``helpdesk.sla``).
    """

    name = models.CharField(_("name"), max_length=100)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, null=True, blank=True,
                                                help_text=_("Empty: any priority."))
    department = models.ForeignKey(Department, on_delete=models.CASCADE, null=True, blank=True,
                                   related_name="sla_policies", verbose_name=_("department"),
                                   help_text=_("Empty: any department."))
    client = models.ForeignKey(Client, on_delete=models.CASCADE, null=True, blank=True,
                               related_name="sla_policies", verbose_name=_("client"), help_text=_("Empty: any client."))
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="policies", verbose_name=_("business calendar"),
                                 help_text=_("Empty: the clock runs around the clock."))
    first_response_minutes = models.PositiveIntegerField(_("first response within (minutes)"), null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(_("resolution within (minutes)"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.first_response_minutes is None and self.resolution_minutes is None:
            raise ValidationError(_("Set a first-response target, a resolution target, or both."))


class CannedReply(models.Model):
    """A saved reply: text with placeholders (``{{ requester.first_name }}``), optionally
    setting a status and adding tags when used. Personal (an owner) or shared (none)."""

    title = models.CharField(_("title"), max_length=100)
    body = models.TextField(
        _("text"),
        help_text=_("Placeholders: {{ ticket.id }}, {{ ticket.subject }}, {{ requester.first_name }}, "
                    "{{ requester.name }}, {{ agent.first_name }}, {{ agent.name }}; {% if %} works too."),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True,
        related_name="helpdesk_canned_replies", verbose_name=_("owner"),
        help_text=_("Empty: shared with every agent."),
    )
    status = models.ForeignKey(
        TicketStatus, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("then set status"),
    )
    tags = models.CharField(_("then add tags"), max_length=255, blank=True, help_text=_("Comma-separated."))
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["title", "id"]
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")

    def __str__(self) -> str:
        return self.title

    @property
    def is_shared(self) -> bool:
        return self.owner_id is None

    @property
    def tag_names(self) -> list[str]:
        return [part.strip() for part in self.tags.split(",") if part.strip()]

    def clean(self) -> None:
        from .canned import check_template

        check_template(self.body)
