"""Celery jobs of the dashboards. They take codes and ISO dates, never model instances.

Idempotent first: each rebuild deletes and re-inserts its rows in one transaction, serialised per day
(dashboards.locks), so a retry, a duplicate delivery (acks_late; Redis redelivers an unacknowledged job
after the broker's visibility timeout) or two workers running the same job at once only rebuild the same
rows again. A job that meets a transient database error (a restart, a deadlock, a lost connection) is
retried with backoff; one that fails for good leaves its request pending, and the catch-up rebuilds it.
"""

import datetime
import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from core.dates import parse_date
from dashboards import packs, rollups, snapshots

logger = logging.getLogger(__name__)

# Retried: the database went away or refused for a moment. Not retried: bugs (they reach the admins).
TRANSIENT = (OperationalError, InterfaceError)
RETRY = {
    "autoretry_for": TRANSIENT,
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 5,
    "acks_late": True,
}


@shared_task(**RETRY)
def rollup_province_day(province_id: str, day: str) -> int:
    """Rebuild one (province, day) rollup, and the day's other pending ones with it; enqueued after commit by
    every newly requested (province, day). Returns the number of requests taken (0: an earlier job did)."""
    return rollups.rollup_rebuild(province_id=province_id, day=parse_date(day), only_if_requested=True)


@shared_task(**RETRY)
def rollup_catch_up() -> dict[str, int]:
    """Rebuild the rollups and snapshots whose job was lost (broker down, worker killed, job failed)."""
    return {"rollups": rollups.rollup_catch_up(), "snapshots": snapshots.snapshot_catch_up()}


@shared_task(**RETRY)
def rollup_recent(days: int = 2) -> None:
    """Rebuild today and the previous days, so days nobody has reported yet still get rows (and missing
    lists) and late counts are final after the due time."""
    today = timezone.localdate()
    rollups.rollup_rebuild_range(start=today - datetime.timedelta(days=days - 1), end=today)


@shared_task(**RETRY)
def rollup_range(start: str, end: str) -> None:
    """Full rebuild of a period (also `manage.py rollup --from --to`)."""
    rollups.rollup_rebuild_range(start=parse_date(start), end=parse_date(end))


@shared_task(**RETRY)
def rollup_verify_window(days: int = 7) -> int:
    """Nightly: recompute the last `days` days, record an alarm where stored rollups disagree, repair."""
    today = timezone.localdate()
    alarms = rollups.rollup_verify(start=today - datetime.timedelta(days=days), end=today - datetime.timedelta(days=1))
    return len(alarms)


@shared_task(**RETRY)
def task_snapshot(day: str | None = None, only_if_requested: bool = False) -> int:
    """Rebuild the task snapshots of a day (today by default): hourly, and after task updates (requested,
    coalesced)."""
    return snapshots.snapshot_build(
        parse_date(day) if day else timezone.localdate(), only_if_requested=only_if_requested
    )


@shared_task(**RETRY)
def task_snapshot_yesterday() -> int:
    """Just after midnight: the final snapshot of the day that ended (the hourly one missed its last hour)."""
    return snapshots.snapshot_build(timezone.localdate() - datetime.timedelta(days=1))


@shared_task(ignore_result=True)
def weekly_pack() -> str:
    """The steering committee's weekly pack (dashboards.packs): once per ISO week, however often it runs."""
    mailing = packs.weekly_pack_send()
    return str(mailing) if mailing is not None else "already sent"
