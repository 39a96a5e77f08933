"""Celery jobs of the operations desk. They take no model instances.

Idempotent: an incident per report is made once (its unique `report`), an alert is raised once (the alerts'
`alert_once_uniq`), an incident is escalated once (its row locked, `escalated` checked under the lock), so a
retry or two workers at once do nothing twice.
"""

from celery import shared_task

from dashboards.jobs import RETRY
from support import services

# Seconds between a step and its job: the steps made meanwhile share it (support.models.NotifyRequest).
NOTIFY_DELAY = 1


@shared_task(**RETRY)
def incidents_notify(only_if_requested: bool = False) -> dict[str, int]:
    """After steps: tell who must be told, escalate what breached. Queued after a step with only_if_requested:
    it takes the pending request first, and a duplicate delivery (no request left) does nothing."""
    if not services.notify_take() and only_if_requested:
        return {"raised": 0, "escalated": 0}
    result = services.incidents_notify(trigger="support")
    services.vendor_notices_send()
    _send_digests(result.notifications)
    return {"raised": result.raised, "escalated": result.escalated}


@shared_task(**RETRY)
def incidents_check() -> dict[str, int]:
    """On the beat (every 5 minutes): reports' requests for support, auto-closing, breaches."""
    result = services.incidents_check(trigger="beat")
    services.vendor_notices_send()
    _send_digests(result.notifications)
    return {"opened": result.opened, "closed": result.closed, "raised": result.raised, "escalated": result.escalated}


def _send_digests(notifications: int) -> None:
    if notifications:
        from alerts.jobs import digests_send

        digests_send.delay()
