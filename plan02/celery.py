"""The Celery app. Configuration comes from Django settings (CELERY_*); the beat schedule lives here.

Without REDIS_URL, CELERY_TASK_ALWAYS_EAGER runs every job in-process, so the same code paths serve the
embedded mode and the deployment with a worker.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plan02.settings")

app = Celery("plan02")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Job modules are named jobs.py: an app is called "tasks", so "tasks.py" would be confusing.
app.autodiscover_tasks(related_name="jobs")

# The one place where periodic work is scheduled (times are Asia/Ho_Chi_Minh, CELERY_TIMEZONE).
app.conf.beat_schedule = {}
