"""Celery jobs. They take codes and ISO dates, never model instances, and are idempotent."""

import datetime

from celery import shared_task


@shared_task(acks_late=True)
def rollup_province_day(province_id, day):
    from reports.rollups import rollup_rebuild

    rollup_rebuild(province_id=province_id, day=datetime.date.fromisoformat(day))
