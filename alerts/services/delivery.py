"""Sending the e-mail digests that runs prepared (alerts.services.runs), each at most once."""

import logging
import smtplib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from alerts import digests
from alerts.models import Digest
from alerts.sql import ids_in

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendResult:
    sent: int
    failed: int


def digests_send(*, run_id: int | None = None) -> SendResult:
    """Send the pending digests (of one run, or all), each at most once.

    Race: two senders at once (the run's own and the beat's retry job). Each claims its digests in a short
    transaction — the rows are locked, already-locked ones skipped (PostgreSQL), and the UPDATE only takes
    rows still `pending` (the compare-and-set that also holds on SQLite) — then sends and marks each one
    `sent`. A failed send goes back to `pending` (retried by the next sender) until
    ALERTS_DIGEST_MAX_ATTEMPTS; a digest whose sender died after claiming it stays `sending` and is not resent
    by itself, because it may have gone."""
    token = uuid.uuid4().hex
    now = timezone.now()
    with transaction.atomic():
        pending = Digest.objects.select_for_update(skip_locked=True).filter(status=Digest.Status.PENDING)
        if run_id is not None:
            pending = pending.filter(run_id=run_id)
        ids = list(pending.order_by("pk").values_list("pk", flat=True))
        if not ids:
            return SendResult(0, 0)
        Digest.objects.filter(pk__in=ids_in(ids), status=Digest.Status.PENDING).update(
            status=Digest.Status.SENDING, claim=token, claimed_at=now, attempts=F("attempts") + 1
        )
    claimed = list(Digest.objects.filter(claim=token, status=Digest.Status.SENDING).order_by("pk"))
    if not claimed:
        return SendResult(0, 0)
    alerts_of = digests.alerts_of(claimed)
    sent = failed = 0
    try:
        connection = get_connection()
        connection.open()
    except (smtplib.SMTPException, OSError) as exc:
        for digest in claimed:
            _send_failed(digest, token, exc)
        return SendResult(0, len(claimed))
    try:
        for digest in claimed:
            message = digests.message(digest, alerts_of.get(digest.pk, []), connection=connection)
            try:
                message.send()
            except (smtplib.SMTPException, OSError) as exc:
                _send_failed(digest, token, exc)
                failed += 1
                continue
            Digest.objects.filter(pk=digest.pk, claim=token, status=Digest.Status.SENDING).update(
                status=Digest.Status.SENT, sent_at=timezone.now(), last_error=""
            )
            sent += 1
    finally:
        connection.close()
    return SendResult(sent, failed)


def _send_failed(digest: Digest, token: str, exc: Exception) -> None:
    logger.warning("digest %s to %s not sent (attempt %s): %s", digest.pk, digest.email, digest.attempts + 1, exc)
    gave_up = digest.attempts + 1 >= settings.ALERTS_DIGEST_MAX_ATTEMPTS
    Digest.objects.filter(pk=digest.pk, claim=token, status=Digest.Status.SENDING).update(
        status=Digest.Status.FAILED if gave_up else Digest.Status.PENDING, claim="", last_error=str(exc)[:2000]
    )


def digest_requeue(*, digest_ids: Iterable[int]) -> int:
    """An administrator's decision to send again digests stuck in `sending` or given up (admin action)."""
    return Digest.objects.filter(
        pk__in=list(digest_ids), status__in=[Digest.Status.SENDING, Digest.Status.FAILED]
    ).update(status=Digest.Status.PENDING, claim="", attempts=0)
