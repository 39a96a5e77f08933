"""The Celery app. Configuration comes from Django settings (CELERY_*); the beat schedule lives here.

Without REDIS_URL, CELERY_TASK_ALWAYS_EAGER runs every job in-process, so the same code paths serve the
embedded mode and the deployment with a worker.
"""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plan02.settings")

app = Celery("plan02")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Job modules are named jobs.py: an app is called "tasks", so "tasks.py" would be confusing.
app.autodiscover_tasks(related_name="jobs")

# The one place where periodic work is scheduled (times are Asia/Ho_Chi_Minh, CELERY_TIMEZONE).
app.conf.beat_schedule = {
    # Rollups whose job was lost (broker down when the report was accepted).
    "rollup-catch-up": {"task": "dashboards.jobs.rollup_catch_up", "schedule": crontab(minute="*/5")},
    # Rows for days nobody has reported yet; yesterday's final state just after the 08:00 due time.
    "rollup-recent": {"task": "dashboards.jobs.rollup_recent", "schedule": crontab(minute=5)},
    # Nightly: rebuild the last week, compare with what is stored, alarm on any disagreement.
    "rollup-verify": {"task": "dashboards.jobs.rollup_verify_window", "schedule": crontab(minute=30, hour=2)},
    # Task snapshots of today for the phase-deadline dashboards (also requested after task updates), and the
    # final snapshot of each day once it has ended (the as-of views and meetings read it).
    "task-snapshot": {"task": "dashboards.jobs.task_snapshot", "schedule": crontab(minute=15)},
    # The steering committee's weekly pack (PDF), Monday morning; sent once per ISO week (dashboards.packs).
    "weekly-pack": {"task": "dashboards.jobs.weekly_pack", "schedule": crontab(minute=30, hour=7, day_of_week=1)},
    # Webhooks (integrations): new events fanned out to the endpoints, due deliveries handed to workers.
    "webhooks": {"task": "integrations.jobs.webhooks_run", "schedule": 15.0},
    # The changes feed keeps 90 days of events (PLAN02_EVENTS_RETENTION_DAYS).
    "events-purge": {"task": "integrations.jobs.events_purge", "schedule": crontab(minute=40, hour=2)},
    # The operations desk: incidents for reports asking for support, breaches escalated, auto-closing.
    "incidents-check": {"task": "support.jobs.incidents_check", "schedule": crontab(minute="*/5")},
    # Data quality: every locality's bands rebuilt from its history (reports.quality), before the morning's
    # reports arrive.
    "quality-bands": {"task": "reports.jobs.quality_bands_refresh", "schedule": crontab(minute=30, hour=1)},
    "task-snapshot-yesterday": {
        "task": "dashboards.jobs.task_snapshot_yesterday",
        "schedule": crontab(minute=5, hour=0),
    },
}


@app.on_after_configure.connect
def _schedule_from_settings(sender, source, **kwargs):
    """Entries whose hour is a Django setting: read once the app is configured (from those settings), not at
    import, when plan02.settings may still be loading."""
    from django.conf import settings

    source.beat_schedule.update(
        {
            # Early warning: every rule once a day, before office hours.
            "alerts-daily": {
                "task": "alerts.jobs.alerts_run",
                "schedule": crontab(minute=0, hour=settings.ALERTS_DAILY_HOUR),
            },
            # The missing-report ladder, just after yesterday's reports became due.
            "alerts-missing-reports": {
                "task": "alerts.jobs.alerts_run",
                "schedule": crontab(minute=5, hour=settings.REPORT_DUE_HOUR),
                "kwargs": {"rules": ["missing_report_1", "missing_report_3", "missing_report_7"]},
            },
            # Digests whose sending failed are retried (each is sent at most once:
            # alerts.services.delivery.digests_send).
            "alerts-digests-retry": {"task": "alerts.jobs.digests_send", "schedule": crontab(minute="*/15")},
        }
    )
