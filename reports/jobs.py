"""Celery jobs of intake. They take codes and ISO dates, never model instances."""

from celery import shared_task
from django.db import InterfaceError, OperationalError, transaction

from core.dates import parse_date
from reports import quality

RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 5,
    "acks_late": True,
}


@shared_task(**RETRY)
def quality_bands_refresh(locality: str | None = None, as_of: str | None = None) -> int:
    """Rebuild the data-quality bands: every locality's (nightly, plan02.celery) or one (after its correction).
    Idempotent: delete and re-insert in one transaction, serialised by an advisory lock (reports.quality)."""
    return quality.bands_refresh(locality=locality, as_of=parse_date(as_of) if as_of else None)


def bands_refresh_after_commit(locality: str) -> None:
    """Rebuild one locality's bands once the correction that changed its figures is committed (on the worker;
    in-process without Redis)."""
    transaction.on_commit(lambda: quality_bands_refresh.delay(locality=locality))
