"""How an alert reads: its subject, its one-line title in the active language, and where it leads in the
portal — each asked of the alert's rule and subject kind (alerts.specs). Expects alerts read with
alerts.selectors.alert_joins() (no query here)."""

from typing import Any

from django.urls import reverse

from alerts import specs
from alerts.models import Alert


def subject(alert: Alert) -> dict[str, Any]:
    """{"kind", "id", "code", "label"}: an assignment (id, task code), a commune (its code), a report (id, its
    locality's code), or what the subject kind of another app says."""
    kind = specs.subject_kind(alert.subject_kind)
    if kind is None:  # a kind no installed app registers any more
        return {"kind": alert.subject_kind, "id": None, "code": "", "label": alert.subject_key}
    return kind.describe(alert)


def alert_title(alert: Alert) -> str:
    try:
        rule = specs.rule(alert.rule)
    except KeyError:  # a rule no installed app registers any more
        return f"{alert.rule}: {subject(alert)['label']}"
    return rule.title(threshold=alert.threshold, subject=subject(alert)["label"], day=alert.day, since=alert.since)


def alert_url(alert: Alert) -> str:
    """The page that shows the alert's subject: the assignment, the commune's history, the support request."""
    kind = specs.subject_kind(alert.subject_kind)
    return kind.url(alert) if kind is not None else reverse("alerts:list")
