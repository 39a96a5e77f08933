"""Celery jobs of the early warning. They take dates and rule names, never model instances.

Idempotent first: a run raises only what is not raised yet (the unique constraint `alert_once_uniq`) and
tells people only about what it raised itself, so a retry, a duplicate delivery (acks_late) or two workers
at once raise and send nothing twice. Same retry policy as the dashboards' jobs.
"""

from celery import shared_task

from alerts.services import delivery, runs
from core.dates import parse_date
from dashboards.jobs import RETRY


@shared_task(**RETRY)
def alerts_run(as_of: str | None = None, rules: list[str] | None = None) -> dict[str, int]:
    """Evaluate the rules (daily: all of them; after the due hour: the missing reports), then send the
    digests of the run."""
    result = runs.alerts_run(as_of=parse_date(as_of) if as_of else None, rules=rules, trigger="beat")
    digests_send.delay()
    return {"run": result.run.pk, "raised": result.raised, "closed": result.closed, "digests": result.digests}


@shared_task(**RETRY)
def digests_send() -> dict[str, int]:
    """Send every pending digest (those of the last run, and earlier failures), each at most once."""
    result = delivery.digests_send()
    return {"sent": result.sent, "failed": result.failed}
