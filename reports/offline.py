"""The daily-report form offline (DESIGN.md §12): the service worker's script and its versioned cache.

The worker's source is a static file (static/js/report-sw.js); `reports.views.report_service_worker` serves it
at /reports/submit/sw.js, next to the form, so that its scope is the form's address (/reports/submit/) by the
browser's default rule (a script's scope is its own folder) and needs no `Service-Worker-Allowed` header. The
view puts the configuration in it: the cache's version, the static files the form needs (their URLs as the
page writes them, hashed by the manifest storage when it is on), the form's address and the report API's.

The version is a digest of the worker's own source and of every file it caches: a new CSS or script gives a
new cache name, and the worker deletes the caches of earlier versions when it activates.
"""

import hashlib
import json
from functools import cache

from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.urls import reverse

SERVICE_WORKER = "js/report-sw.js"
QUEUE_SCRIPT = "js/report-queue.js"
# What the form's page loads (templates/base.html and reports/report_form.html), cached when the worker installs.
ASSETS = ("css/plan02.css", "js/plan02.js", "django_htmx/htmx-2.min.js", QUEUE_SCRIPT, "js/report-offline.js")
CACHE_PREFIX = "plan02-report-form-"
CONFIG_MARKER = "/*PLAN02_CONFIG*/"


def _source(path: str) -> bytes:
    found = finders.find(path)
    if not found:
        raise FileNotFoundError(f"static file {path} is missing")
    with open(found, "rb") as handle:
        return handle.read()


@cache
def cache_version() -> str:
    """A digest of the worker and of the files it caches (12 hex digits): it changes when any of them does."""
    digest = hashlib.sha256()
    for path in (SERVICE_WORKER, *ASSETS):
        digest.update(path.encode())
        digest.update(_source(path))
    return digest.hexdigest()[:12]


def service_worker_script() -> str:
    config = {
        "version": cache_version(),
        "cache": CACHE_PREFIX + cache_version(),
        "prefix": CACHE_PREFIX,
        "assets": [static(path) for path in ASSETS],
        "queue": static(QUEUE_SCRIPT),
        "page": reverse("reports:submit"),
        "api": reverse("daily-report-list"),
    }
    source = _source(SERVICE_WORKER).decode()
    head, marker, tail = source.partition(CONFIG_MARKER)
    if not marker:
        raise ValueError(f"{SERVICE_WORKER} has no {CONFIG_MARKER}")
    # The default object that follows the marker (for a reader of the static file) is replaced.
    _default, _sep, rest = tail.partition(";")
    return f"{head}{marker} {json.dumps(config)};{rest}"
