"""Logging helpers: the request id carried by every log line, and what is not mailed to the admins.

The id of the current request (or of the running Celery job) lives in a context variable, set by
core.middleware.RequestIdMiddleware and by the Celery signals below; RequestIdFilter copies it into each
record, so the format can say %(request_id)s. Outside a request or job it is "-".
"""

import contextvars
import logging

from celery import signals
from django.core.signals import request_finished

request_id = contextvars.ContextVar("request_id", default="-")


def current_request_id() -> str | None:
    """The id of the current request or job, None outside both: django-auditlog stores it with each record
    change (AUDITLOG_CID_GETTER), so an entry of the audit trail leads to the request's log lines."""
    value = request_id.get()
    return None if value == "-" else value


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.request_id = request_id.get()
        return True


class SkipServiceUnavailable(logging.Filter):
    """Keep 503s out of the admins' mail: while the database is down every request answers one (they are
    still logged, and /healthz says so), and one mail per request would bury everything else."""

    def filter(self, record):
        return getattr(record, "status_code", None) != 503


def _request_finished(**kwargs):
    # After the response is sent (Django logs 4xx/5xx answers after the middleware has returned).
    request_id.set("-")


request_finished.connect(_request_finished, dispatch_uid="core.log.request_finished")

_job_tokens = {}


@signals.task_prerun.connect
def _job_started(task_id=None, **kwargs):
    _job_tokens[task_id] = request_id.set(task_id or "-")


@signals.task_postrun.connect
def _job_finished(task_id=None, **kwargs):
    token = _job_tokens.pop(task_id, None)
    if token is not None:
        request_id.reset(token)  # back to the request that ran the job in-process, if any
