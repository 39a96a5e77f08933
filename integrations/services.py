"""Writes of the integrations app: webhook endpoints (registered by the national admin), the fan-out of
events to their messages, each delivery attempt, redelivery, switching a failing endpoint off, and the
retention purge of the events (DESIGN.md §14).

Concurrency. The fan-out reads the events after the `dispatched` mark, row-locked (two runs at once take
turns) and creates at most one message per (endpoint, event) (`webhook_message_once`, ON CONFLICT DO
NOTHING). A delivery first claims its message with a compare-and-set (pending, due, not claimed by a live
worker) that sets `claimed_until`; a worker killed mid-request leaves the claim to expire, and the next run
sends the message again with the same `webhook-id` (receivers deduplicate on it, as Standard Webhooks asks).
The attempt row is committed before the request is sent, so the log shows a try that never got an answer.
"""

from __future__ import annotations

import datetime
import json
import logging
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core import events
from core.models import Event
from integrations import feed, webhooks
from integrations.models import FeedMark, WebhookAttempt, WebhookEndpoint, WebhookMessage
from tasks.roles import Role, Scope

logger = logging.getLogger(__name__)

# Waits before each retry: exponential (×4 from 30 s), capped at 12 hours; the last retry comes about three
# days (71 h) after the first attempt. Then the message is given up (it can still be redelivered by hand).
RETRY_DELAYS = [datetime.timedelta(seconds=30 * 4**n) for n in range(6)] + [datetime.timedelta(hours=12)] * 5
RETRY_DELAYS = [min(delay, datetime.timedelta(hours=12)) for delay in RETRY_DELAYS]
DISPATCH_BATCH = 2000


# --- endpoints --------------------------------------------------------------------------------------------


def endpoint_scope(endpoint: WebhookEndpoint) -> Scope:
    """The reader an endpoint stands for: it receives what such a reader of the changes feed would see."""
    kind = endpoint.scope_kind
    if kind == WebhookEndpoint.ScopeKind.PROVINCE:
        return Scope(role=Role.PROVINCE_OFFICER, province_id=endpoint.province_id)
    if kind == WebhookEndpoint.ScopeKind.COMMUNE:
        return Scope(role=Role.COMMUNE_CLERK, commune_id=endpoint.commune_id)
    if kind == WebhookEndpoint.ScopeKind.AGENCY:
        return Scope(role=Role.AGENCY_OFFICER, agency_id=endpoint.agency_id)
    return Scope(role=Role.STEERING)


def endpoint_validate(endpoint: WebhookEndpoint) -> None:
    """Raise ValidationError naming each bad field: the URL (SSRF rules, its host resolved now), the event
    types (declared ones), the scope and its unit."""
    errors: dict[str, list[ValidationError]] = {}
    try:
        webhooks.check_url(endpoint.url or "")
    except webhooks.UrlRefused as exc:
        errors["url"] = [ValidationError(str(exc), code=exc.code)]
    types = endpoint.event_types
    if not isinstance(types, list) or not all(isinstance(code, str) for code in types):
        errors["event_types"] = [ValidationError(_("A list of event types."), code="invalid")]
    else:
        unknown = sorted(set(types) - set(events.declared()))
        if unknown:
            errors["event_types"] = [
                ValidationError(
                    _("Unknown event type: %(types)s.") % {"types": ", ".join(unknown)}, code="unknown_type"
                )
            ]
    units = {"province": endpoint.province_id, "commune": endpoint.commune_id, "agency": endpoint.agency_id}
    wanted = None if endpoint.scope_kind == WebhookEndpoint.ScopeKind.NATIONAL else endpoint.scope_kind
    for field, value in units.items():
        if field == wanted and not value:
            errors.setdefault(field, []).append(ValidationError(_("Choose the unit of this scope."), code="required"))
        elif field != wanted and value:
            errors.setdefault(field, []).append(
                ValidationError(_("Only for an endpoint of this unit's scope."), code="not_in_scope")
            )
    if errors:
        raise ValidationError(errors)


def endpoint_save(*, endpoint: WebhookEndpoint, actor: Any) -> WebhookEndpoint:
    """Create or change an endpoint after validating it; records who. Switching it on again clears the
    switch-off and the failure streak."""
    endpoint_validate(endpoint)
    endpoint.event_types = sorted(set(endpoint.event_types))
    if endpoint.pk is None:
        endpoint.created_by = actor
    endpoint.updated_by = actor
    if endpoint.active:
        endpoint.disabled_at, endpoint.disabled_reason, endpoint.failing_since = None, "", None
    with transaction.atomic():
        endpoint.save()
    return endpoint


def endpoint_rotate_secret(*, endpoint: WebhookEndpoint, actor: Any) -> str:
    from integrations.models import new_secret

    endpoint.secret = new_secret()
    endpoint.updated_by = actor
    endpoint.save(update_fields=["secret", "updated_by", "updated_at"])
    return endpoint.secret


# --- fan-out: events → messages ---------------------------------------------------------------------------


def _body(event: dict[str, Any]) -> str:
    """The delivered JSON, as Standard Webhooks suggests: type, timestamp, and the event as the feed has it."""
    data = feed.serialize(event)
    return json.dumps(
        {"type": event["type"], "timestamp": data["occurred_at"], "data": data}, ensure_ascii=False, sort_keys=True
    )


def webhooks_dispatch() -> int:
    """Turn the events written since the last run into messages for the active endpoints that want them
    (their types, their scope, as the feed would show them). Returns how many messages were created."""
    created = 0
    while True:
        with transaction.atomic():
            FeedMark.objects.get_or_create(name=feed.DISPATCHED)
            mark = FeedMark.objects.select_for_update().get(name=feed.DISPATCHED)
            position = feed.Position(mark.txid, mark.event_id)
            batch = feed.rows_after(Event.objects.all(), position, until=feed.horizon(), limit=DISPATCH_BATCH)
            if not batch:
                return created
            endpoints = list(WebhookEndpoint.objects.filter(active=True, disabled_at__isnull=True))
            agency_codes = dict(
                WebhookEndpoint.objects.filter(agency__isnull=False).values_list("agency_id", "agency__code")
            )
            now = timezone.now()
            messages = [
                WebhookMessage(
                    endpoint=endpoint,
                    event_id=event["id"],
                    event_type=event["type"],
                    webhook_id=f"msg_{uuid.uuid4().hex}",
                    body=_body(event),
                    created_at=now,
                    next_attempt_at=now,
                )
                for event in batch
                for endpoint, scope in ((e, endpoint_scope(e)) for e in endpoints)
                if (not endpoint.event_types or event["type"] in endpoint.event_types)
                and feed.event_visible(scope, event, agency_code=agency_codes.get(endpoint.agency_id or 0))
            ]
            if messages:
                created += len(WebhookMessage.objects.bulk_create(messages, ignore_conflicts=True))
            last = feed.position_of(batch[-1])
            FeedMark.objects.filter(name=feed.DISPATCHED).update(txid=last.txid, event_id=last.id)
        if len(batch) < DISPATCH_BATCH:
            return created


def due_messages(*, limit: int = 500) -> list[int]:
    """Messages whose attempt is due and that no live worker holds, oldest first."""
    now = timezone.now()
    return list(
        WebhookMessage.objects.filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
            status=WebhookMessage.Status.PENDING,
            next_attempt_at__lte=now,
            endpoint__active=True,
            endpoint__disabled_at__isnull=True,
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


# --- one delivery -----------------------------------------------------------------------------------------


def _lease() -> datetime.timedelta:
    # Longer than one request can take (its connect and read timeouts), so a live worker keeps its claim.
    return datetime.timedelta(seconds=settings.WEBHOOKS_TIMEOUT * 3 + 5)


def webhook_deliver(*, message_id: int) -> str | None:
    """Claim the message and make one attempt. Returns the message's status afterwards, or None when it was
    not claimable (delivered, not due, held by another worker, endpoint switched off)."""
    now = timezone.now()
    claimable = WebhookMessage.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        pk=message_id,
        status=WebhookMessage.Status.PENDING,
        next_attempt_at__lte=now,
        endpoint__active=True,
        endpoint__disabled_at__isnull=True,
    )
    # Compare-and-set: of two workers given the same message, one claims it.
    if not WebhookMessage.objects.filter(pk__in=claimable.values("pk")).update(
        claimed_until=now + _lease(), attempts=F("attempts") + 1
    ):
        return None
    message = WebhookMessage.objects.select_related("endpoint").get(pk=message_id)
    endpoint = message.endpoint
    if message.first_attempt_at is None:
        WebhookMessage.objects.filter(pk=message.pk).update(first_attempt_at=now)
        message.first_attempt_at = now
    headers = webhooks.sign(endpoint.secret, webhook_id=message.webhook_id, timestamp=now, body=message.body)
    attempt = WebhookAttempt.objects.create(
        message=message, number=message.attempts, url=endpoint.url, request_headers=headers, started_at=now
    )
    try:
        target = webhooks.check_url(endpoint.url)
    except webhooks.UrlRefused as exc:
        answer = webhooks.Answer(None, "", f"refused: {exc.code}: {exc}")
    else:
        answer = webhooks.post(target, headers=headers, body=message.body, timeout=settings.WEBHOOKS_TIMEOUT)
    finished = timezone.now()
    WebhookAttempt.objects.filter(pk=attempt.pk).update(
        finished_at=finished, response_status=answer.status, response_body=answer.body, error=answer.error
    )
    if answer.ok:
        WebhookMessage.objects.filter(pk=message.pk).update(
            status=WebhookMessage.Status.DELIVERED, delivered_at=finished, claimed_until=None, next_attempt_at=None
        )
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=False).update(failing_since=None)
        return WebhookMessage.Status.DELIVERED
    return _failed(message, endpoint, answer, now=finished)


def _failed(
    message: WebhookMessage, endpoint: WebhookEndpoint, answer: webhooks.Answer, *, now: datetime.datetime
) -> str:
    """Schedule the next attempt, or give up; switch the endpoint off after a day of failures."""
    retries_done = message.attempts - 1
    assert message.first_attempt_at is not None
    if retries_done < len(RETRY_DELAYS):
        status, next_at = WebhookMessage.Status.PENDING, now + RETRY_DELAYS[retries_done]
    else:
        status, next_at = WebhookMessage.Status.FAILED, None
    WebhookMessage.objects.filter(pk=message.pk).update(status=status, next_attempt_at=next_at, claimed_until=None)
    logger.warning(
        "webhook %s to endpoint %s failed (attempt %s): %s",
        message.webhook_id,
        endpoint.pk,
        message.attempts,
        answer.error or answer.status,
    )
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
    since = WebhookEndpoint.objects.values_list("failing_since", flat=True).get(pk=endpoint.pk)
    if since is not None and now - since >= datetime.timedelta(hours=settings.WEBHOOKS_DISABLE_AFTER_HOURS):
        endpoint_switch_off(endpoint=endpoint, reason=answer.error or f"HTTP {answer.status}", now=now)
    return status


def endpoint_switch_off(*, endpoint: WebhookEndpoint, reason: str, now: datetime.datetime | None = None) -> bool:
    """Switch an endpoint off after a day of failures and tell its owner, once (compare-and-set)."""
    now = now or timezone.now()
    text = _("Every delivery failed for %(hours)s hours; last error: %(error)s") % {
        "hours": settings.WEBHOOKS_DISABLE_AFTER_HOURS,
        "error": reason,
    }
    with transaction.atomic():
        switched = WebhookEndpoint.objects.filter(pk=endpoint.pk, disabled_at__isnull=True).update(
            active=False, disabled_at=now, disabled_reason=text[:300]
        )
        if switched:
            transaction.on_commit(lambda: _tell_owner(endpoint.pk))
    return bool(switched)


def _tell_owner(endpoint_id: int) -> None:
    endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
    subject = _("[plan02] Webhook endpoint switched off: %(name)s") % {"name": endpoint.name}
    body = _(
        "The webhook endpoint “%(name)s” (%(url)s) of the Plan 02 portal was switched off: %(reason)s\n\n"
        "Events keep being recorded and its undelivered messages wait. Once the receiver works again, ask the "
        "portal's national admin to switch it on (Admin › Webhook endpoints); the waiting messages are then "
        "sent, and any message given up can be redelivered from Admin › Webhook messages. The changes feed "
        "(/api/v1/changes/) has every event of the last 90 days."
    ) % {"name": endpoint.name, "url": endpoint.url, "reason": endpoint.disabled_reason}
    try:
        send_mail(subject, body, None, [endpoint.owner_email])
    except Exception:  # the switch-off stands; the admins are told by the error mail
        logger.exception("could not mail the owner of webhook endpoint %s", endpoint_id)


def messages_redeliver(*, message_ids: list[int]) -> int:
    """Send these messages again now (an admin's decision), with their own webhook-id; attempts go on."""
    return WebhookMessage.objects.filter(pk__in=message_ids).update(
        status=WebhookMessage.Status.PENDING, next_attempt_at=timezone.now(), claimed_until=None
    )


# --- retention --------------------------------------------------------------------------------------------


def events_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete the events (and the webhook log) older than the retention, and move the `purged` mark to the
    greatest (txid, id) deleted, so a cursor before it answers 410. Returns how many events were deleted."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.EVENTS_RETENTION_DAYS)
    with transaction.atomic():
        FeedMark.objects.get_or_create(name=feed.PURGED)
        mark = FeedMark.objects.select_for_update().get(name=feed.PURGED)
        old = Event.objects.filter(occurred_at__lt=cutoff)
        last = old.order_by("-txid", "-id").values_list("txid", "id").first()
        if last is None:
            return 0
        deleted, _by_model = old.delete()
        position = max(feed.Position(mark.txid, mark.event_id), feed.Position(last[0] or 0, last[1]))
        FeedMark.objects.filter(name=feed.PURGED).update(txid=position.txid, event_id=position.id)
        WebhookMessage.objects.filter(created_at__lt=cutoff).exclude(status=WebhookMessage.Status.PENDING).delete()
    logger.info("events purge: %d events older than %s deleted", deleted, cutoff)
    return deleted
