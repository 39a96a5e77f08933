"""Webhook endpoints, the messages sent to them and every attempt (DESIGN.md §14), and the retention mark of
the changes feed."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix Standard Webhooks secrets carry, not a secret


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    import base64

    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


class WebhookEndpoint(models.Model):
    """An address another system gave to be told of events: which types, for which unit, signed with its
    secret. Registered by the national admin in the admin; switched off after a day of failures."""

    class ScopeKind(models.TextChoices):
        NATIONAL = "national", _("national: every event")
        PROVINCE = "province", _("a province and its communes")
        COMMUNE = "commune", _("a commune")
        AGENCY = "agency", _("a central agency")

    name = models.CharField(_("name"), max_length=200)
    url = models.URLField(_("URL"), max_length=500)
    # Signs every delivery (HMAC-SHA256, Standard Webhooks). Kept as it is: signing needs the secret itself.
    secret = models.CharField(_("secret"), max_length=100, default=new_secret)
    # Declared event types (core.events); empty: every type.
    event_types = models.JSONField(_("event types"), default=list, blank=True)
    scope_kind = models.CharField(_("scope"), max_length=10, choices=ScopeKind.choices, default=ScopeKind.NATIONAL)
    province = models.ForeignKey(
        "localities.Province",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("province"),
    )
    commune = models.ForeignKey(
        "localities.Commune",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("commune"),
    )
    agency = models.ForeignKey(
        "tasks.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency")
    )
    owner_email = models.EmailField(_("owner's e-mail"), help_text=_("Told when the endpoint is switched off."))
    active = models.BooleanField(_("active"), default=True)
    # The first failure since the last success: a day of failures switches the endpoint off.
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    disabled_at = models.DateTimeField(_("switched off at"), null=True, blank=True)
    disabled_reason = models.CharField(_("why it was switched off"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        constraints = [
            models.CheckConstraint(
                condition=Q(scope_kind="national", province__isnull=True, commune__isnull=True, agency__isnull=True)
                | Q(scope_kind="province", province__isnull=False, commune__isnull=True, agency__isnull=True)
                | Q(scope_kind="commune", province__isnull=True, commune__isnull=False, agency__isnull=True)
                | Q(scope_kind="agency", province__isnull=True, commune__isnull=True, agency__isnull=False),
                name="webhook_endpoint_scope_unit",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.url})"


class WebhookMessage(models.Model):
    """One event for one endpoint: its body, signed again at each attempt with the same `webhook-id`, and
    where its delivery stands. Delivered once answered 2xx; retried with backoff until about three days
    after the first attempt; redelivered on demand from the admin."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for its next attempt")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("given up after about three days")

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="messages", verbose_name=_("endpoint")
    )
    # The event it carries (the event itself may be purged after 90 days; the body keeps what was sent).
    event_id = models.BigIntegerField(_("event"))
    event_type = models.CharField(_("event type"), max_length=60)
    webhook_id = models.CharField(_("webhook-id"), max_length=40, unique=True)
    body = models.TextField(_("body"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created at"))
    first_attempt_at = models.DateTimeField(_("first attempt"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    # A worker that claimed it holds it until then; one killed mid-delivery lets it go when this passes.
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook message")
        verbose_name_plural = _("webhook messages")
        constraints = [
            # Fan-out run twice (two workers, a retry) never makes a second message of one event.
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhook_message_once"),
        ]
        indexes = [
            # The delivery job: WHERE status = 'pending' AND next_attempt_at <= now.
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="webhook_message_due_idx"),
        ]

    def __str__(self):
        return f"{self.webhook_id} {self.event_type} → {self.endpoint_id}"


class WebhookAttempt(models.Model):
    """One try to deliver a message: recorded before the request is sent (a worker killed while waiting
    leaves it without an answer), completed with the answer or the error."""

    message = models.ForeignKey(WebhookMessage, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField(_("attempt"))
    url = models.CharField(_("URL"), max_length=500)
    request_headers = models.JSONField(_("request headers"), default=dict)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(_("answer status"), null=True, blank=True)
    response_body = models.TextField(_("answer (start)"), blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")

    def __str__(self):
        return f"{self.message_id} #{self.number}: {self.response_status or self.error or '…'}"


class FeedMark(models.Model):
    """Named positions in the events (one row each): `dispatched`, how far the webhooks' fan-out has read;
    `purged`, the greatest (txid, id) the retention purge deleted — a cursor before it may have missed
    events and answers 410."""

    name = models.CharField(primary_key=True, max_length=20)
    txid = models.BigIntegerField(default=0)
    event_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("feed mark")
        verbose_name_plural = _("feed marks")

    def __str__(self):
        return f"{self.name}: ({self.txid}, {self.event_id})"
