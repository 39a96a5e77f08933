"""Celery jobs. They take codes and ISO dates, never model instances, and are idempotent, so a retry or a
duplicate delivery (acks_late) only rebuilds the same rows again."""

import datetime
import logging

from celery import shared_task
from django.utils import timezone

logger = logging.getLogger(__name__)


def _date(value):
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


@shared_task(acks_late=True)
def rollup_province_day(province_id, day):
    """Rebuild one (province, day) rollup; enqueued after commit by every accepted or corrected report."""
    from reports.rollups import rollup_rebuild

    return rollup_rebuild(province_id=province_id, day=_date(day), only_if_requested=True)


@shared_task(acks_late=True)
def rollup_catch_up():
    """Rebuild the (province, day) pairs whose job was never run (broker down at submission time)."""
    from reports.rollups import rollup_catch_up as catch_up

    return catch_up()


@shared_task(acks_late=True)
def rollup_recent(days=2):
    """Rebuild today and the previous days, so days nobody has reported yet still get rows (and missing
    lists) and late counts are final after the due time."""
    from reports.rollups import rollup_rebuild_range

    today = timezone.localdate()
    rollup_rebuild_range(start=today - datetime.timedelta(days=days - 1), end=today)


@shared_task(acks_late=True)
def rollup_range(start, end):
    """Full rebuild of a period (also `manage.py rollup --from --to`)."""
    from reports.rollups import rollup_rebuild_range

    rollup_rebuild_range(start=_date(start), end=_date(end))


@shared_task(acks_late=True)
def rollup_verify_window(days=7):
    """Nightly: recompute the last `days` days, record an alarm where stored rollups disagree, repair."""
    from reports.rollups import rollup_verify

    today = timezone.localdate()
    alarms = rollup_verify(start=today - datetime.timedelta(days=days), end=today - datetime.timedelta(days=1))
    return len(alarms)


@shared_task(acks_late=True)
def task_snapshot(day=None):
    """Rebuild the task snapshots of a day (today by default); enqueued after task updates and hourly."""
    from reports.snapshots import snapshot_build

    return snapshot_build(_date(day) if day else timezone.localdate())
