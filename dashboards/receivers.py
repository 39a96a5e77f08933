"""The dashboards' doors from below: intake and the task workflow announce changes with signals (they may
not import this app); here the jobs that follow are enqueued.

Only broker errors are caught: the change is committed and its request row stays pending, so the catch-up
rebuilds it. Anything else (a bug in a job running in-process in the embedded mode) propagates to the
signal's send_robust, which logs it with its traceback for the admins — never as "could not enqueue".
"""

import logging

from django.conf import settings
from django.dispatch import receiver
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from dashboards import jobs, snapshots
from reports.signals import rollups_requested
from tasks.signals import assignments_changed

logger = logging.getLogger(__name__)

BROKER_ERRORS = (BrokerError, RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError)


@receiver(rollups_requested, dispatch_uid="dashboards.enqueue_rollups")
def enqueue_rollups(sender, *, pairs, **kwargs):
    """One rebuild job per newly requested (province, day). The delay lets the reports that arrive meanwhile
    join this rebuild (their request is still pending); without a broker the job runs at once, in-process."""
    for index, (province_id, day) in enumerate(pairs):
        try:
            jobs.rollup_province_day.apply_async((province_id, day.isoformat()), countdown=settings.ROLLUP_DELAY)
        except BROKER_ERRORS:
            logger.warning(
                "broker unreachable: %d rollup job(s) not enqueued; their requests stay pending for the catch-up",
                len(pairs) - index,
                exc_info=True,
            )
            return


@receiver(assignments_changed, dispatch_uid="dashboards.request_snapshot")
def request_snapshot(sender, *, assignment_ids, **kwargs):
    """Today's task snapshots follow the change: one request, shared by the saves made while it is pending."""
    for day in snapshots.snapshot_request([timezone.localdate()]):
        try:
            jobs.task_snapshot.apply_async((day.isoformat(), True), countdown=settings.ROLLUP_DELAY)
        except BROKER_ERRORS:
            logger.warning("broker unreachable: task snapshot of %s left to the catch-up", day, exc_info=True)
