"""The operations desk's alert rules (alerts.specs): the alerts' machinery — exactly once by a unique
constraint, the bell, the e-mail digest, closing by itself when the condition ends — tells people about
incidents.

| rule | threshold | condition | who is told |
|---|---|---|---|
| incident_open | 0 | an incident not yet acknowledged | the province's officers (its desk) |
| incident_breach | 1 | not acknowledged by `acknowledge_by` | the central support team and the province's officers |
| incident_breach | 2 | not resolved by `resolve_by` | the central support team and the province's officers |
| incident_resolved | 0 | resolved, waiting for the reporter's confirmation | the commune's clerks |

The rules read the incidents as they are now (an incident keeps no per-day state to replay), so a run
`--as-of` an earlier day sees today's incidents. The breach rule's first raise is also what escalates the
incident (support.services.incidents_escalate_breached), so escalation happens once.
"""

import datetime
from collections.abc import Iterator
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alerts.specs import AlertRule, Audience, Condition, Evaluation, SubjectKind
from support.models import ACTIVE_STATES, Incident, State

OPEN = "incident_open"
BREACH = "incident_breach"
RESOLVED = "incident_resolved"
# The thresholds of the breach rule: which time was missed.
ACKNOWLEDGE_LATE, RESOLVE_LATE = 1, 2


def incident_id(alert: Any) -> int | None:
    kind, _sep, pk = (alert.subject_key or "").partition(":")
    return int(pk) if kind == "incident" and pk.isdigit() else None


class IncidentSubject(SubjectKind):
    code = "incident"
    label = _("incident")
    joins = ()

    def describe(self, alert: Any) -> dict[str, Any]:
        pk = incident_id(alert)
        locality = alert.commune_id or alert.province_id or ""
        return {"kind": self.code, "id": pk, "code": f"#{pk}", "label": f"#{pk} · {locality}"}

    def url(self, alert: Any) -> str:
        pk = incident_id(alert)
        return reverse("support:incident", args=[pk]) if pk else reverse("support:board")


INCIDENT = IncidentSubject()


def _condition(rule: str, threshold: int, row: tuple) -> Condition:
    pk, created_at, province_id, commune_id = row[:4]
    day = timezone.localtime(created_at).date()
    return Condition(
        rule,
        f"incident:{pk}",
        threshold,
        day,
        kind=INCIDENT.code,
        since=day,
        province_id=province_id,
        commune_id=commune_id,
    )


def _rows(evaluation: Evaluation) -> list[tuple]:
    """Every incident not closed, read once per run for the three rules."""
    return evaluation.shared(
        "support.incidents",
        lambda: list(
            Incident.objects.exclude(state=State.CLOSED)
            .values_list("pk", "created_at", "province_id", "commune_id", "state", "acknowledge_by", "resolve_by")
            .order_by()
        ),
    )


class IncidentOpen(AlertRule):
    """A new incident, until its province's desk acknowledges it."""

    code = OPEN
    label = _("incident reported")
    subject = INCIDENT
    audiences = (Audience("users", "province"),)

    def detect(self, evaluation: Evaluation) -> Iterator[Condition]:
        for row in _rows(evaluation):
            if row[4] == State.OPEN:
                yield _condition(self.code, 0, row)

    def title(self, *, threshold: int, subject: str, day: datetime.date, since: datetime.date) -> str:
        return gettext("New incident to acknowledge: %(subject)s") % {"subject": subject}


class IncidentBreach(AlertRule):
    """An incident past its time to acknowledge (1) or to resolve (2): escalated to the central support team
    once; the alert closes when the incident is acknowledged (1) or resolved (2)."""

    code = BREACH
    label = _("incident past its time")
    subject = INCIDENT
    audiences = (Audience("users", "support"), Audience("users", "province"))
    escalation = audiences

    def detect(self, evaluation: Evaluation) -> Iterator[Condition]:
        now = evaluation.moment
        for row in _rows(evaluation):
            state, acknowledge_by, resolve_by = row[4:7]
            if state == State.OPEN and acknowledge_by < now:
                yield _condition(self.code, ACKNOWLEDGE_LATE, row)
            if state in ACTIVE_STATES and resolve_by < now:
                yield _condition(self.code, RESOLVE_LATE, row)

    def title(self, *, threshold: int, subject: str, day: datetime.date, since: datetime.date) -> str:
        if threshold == RESOLVE_LATE:
            return gettext("Incident not resolved in time, escalated: %(subject)s") % {"subject": subject}
        return gettext("Incident not acknowledged in time, escalated: %(subject)s") % {"subject": subject}


class IncidentResolved(AlertRule):
    """A resolved incident, until the reporter confirms (closes) or reopens it."""

    code = RESOLVED
    label = _("incident resolved")
    subject = INCIDENT
    audiences = (Audience("users", "commune"),)

    def detect(self, evaluation: Evaluation) -> Iterator[Condition]:
        for row in _rows(evaluation):
            if row[4] == State.RESOLVED and row[3]:
                yield _condition(self.code, 0, row)

    def title(self, *, threshold: int, subject: str, day: datetime.date, since: datetime.date) -> str:
        return gettext("Incident resolved, to confirm: %(subject)s") % {"subject": subject}


RULES: tuple[AlertRule, ...] = (IncidentOpen(), IncidentBreach(), IncidentResolved())
CODES = [rule.code for rule in RULES]
