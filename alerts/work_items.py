"""Early warning for the workflow items that carry their own deadline besides assignments (DESIGN.md §8, §13):
the sub-tasks of local plans (this module registers their rules) and the follow-up items of inspections (the
inspections app registers its own with the same classes). One spec per rule, as for assignments:

| rule | subject | threshold | day | who is told |
|---|---|---|---|---|
| subtask_deadline_7d, _1d | sub-task | 7 / 1 | the deadline | its owner's users: the commune's clerks, or the |
|   |   |   |   | plan's province or agency officers for a department's |
| subtask_overdue | sub-task | 0 | the deadline | its owner's users and head |
| followup_deadline_7d, _1d | follow-up item | 7 / 1 | the deadline | the inspected unit's users |
| followup_overdue | follow-up item | 0 | the deadline | the inspected unit's users and head, and the inspector |

Each (rule, item, threshold, deadline) is raised once by the alerts' unique constraint; when the item is
completed the condition ends and the alert closes (at once through tasks.signals.work_items_changed, and at the
latest at the next run). The deadline thresholds are the assignments' (ALERTS_DEADLINE_*). An evaluation of a
past moment replays each item's status from its append-only history.
"""

import abc
import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from alerts.facts import Thresholds
from alerts.specs import AlertRule, Audience, Condition, Evaluation, SubjectKind
from tasks.models import AssignmentStatus, SubTask, SubTaskUpdate

OWNER_USERS = Audience("users", "unit")
OWNER_HEAD = Audience("head", "unit")
INSPECTOR = Audience("users", "person")


@dataclass(frozen=True)
class ItemState:
    """What the rules need of one item at the evaluated moment."""

    pk: int
    deadline: datetime.date
    status: str
    commune_id: str | None
    province_id: str | None
    agency_id: int | None
    # A person told besides the unit (the inspector of a follow-up item).
    person_id: int | None = None

    @property
    def open(self) -> bool:
        return self.status != AssignmentStatus.COMPLETED


def item_key(kind: str, pk: int) -> str:
    return f"{kind}:{pk}"


def item_id(alert: Any, kind: str) -> int | None:
    prefix, _sep, pk = (alert.subject_key or "").partition(":")
    return int(pk) if prefix == kind and pk.isdigit() else None


def status_at(queryset: Any, history_model: Any, item_field: str, before: datetime.datetime | None) -> Any:
    """Annotate `status_now`: the item's status, or the one it had at `before` (its latest history row before
    it; not started when there is none)."""
    if before is None:
        return queryset.annotate(status_now=Coalesce("status", Value(AssignmentStatus.NOT_STARTED.value)))
    latest = history_model.objects.filter(**{item_field: OuterRef("pk")}, created_at__lt=before).order_by("-version")
    return queryset.annotate(
        status_now=Coalesce(Subquery(latest.values("new_status")[:1]), Value(AssignmentStatus.NOT_STARTED.value))
    )


class ItemSubject(SubjectKind):
    """An item named by its subject key ("subtask:41"): described without a join, like an incident."""

    url_name: ClassVar[str]
    joins = ("agency",)

    def describe(self, alert: Any) -> dict[str, Any]:
        pk = item_id(alert, self.code)
        unit = alert.commune_id or alert.province_id or (alert.agency.code if alert.agency_id else "")
        return {"kind": self.code, "id": pk, "code": f"#{pk}", "label": f"{self.label} #{pk} · {unit}"}

    def url(self, alert: Any) -> str:
        pk = item_id(alert, self.code)
        return reverse(self.url_name, args=[pk]) if pk else ""

    @abc.abstractmethod
    def states(self, evaluation: Evaluation) -> list[ItemState]:
        """Every item with its status at the evaluated moment (one query)."""

    @abc.abstractmethod
    def completed(self, ids: list[int]) -> list[int]:
        """Those of `ids` completed now (one query)."""


class ItemRule(AlertRule):
    """A rule over the open items of one subject kind (read once per evaluation for all its rules)."""

    subject: ClassVar[ItemSubject]

    def detect(self, evaluation: Evaluation) -> Iterator[Condition]:
        thresholds = evaluation.shared("alerts.thresholds", Thresholds.from_settings)
        items = evaluation.shared(f"alerts.items.{self.subject.code}", lambda: self.subject.states(evaluation))
        for item in items:
            if item.open:
                yield from self.check(item, today=evaluation.today, thresholds=thresholds)

    @abc.abstractmethod
    def check(self, item: ItemState, *, today: datetime.date, thresholds: Thresholds) -> Iterator[Condition]: ...

    def condition(self, item: ItemState, threshold: int, since: datetime.date) -> Condition:
        return Condition(
            self.code,
            item_key(self.subject.code, item.pk),
            threshold,
            item.deadline,
            kind=self.subject.code,
            since=since,
            commune_id=item.commune_id,
            province_id=item.province_id,
            agency_id=item.agency_id,
            person_id=item.person_id,
        )


def _day(value: datetime.date) -> str:
    return date_format(value, "SHORT_DATE_FORMAT")


class ItemDeadline(ItemRule):
    """`days` before the deadline of an item not yet overdue: its owner's users are told."""

    audiences = (OWNER_USERS,)
    early: ClassVar[bool]

    def check(self, item: ItemState, *, today: datetime.date, thresholds: Thresholds) -> Iterator[Condition]:
        days = thresholds.deadline_early if self.early else thresholds.deadline_last
        if 0 <= (item.deadline - today).days <= days:
            yield self.condition(item, days, item.deadline - datetime.timedelta(days=days))

    def title(self, *, threshold: int, subject: str, day: datetime.date, since: datetime.date) -> str:
        params = {"subject": subject, "days": threshold, "day": _day(day)}
        if threshold == 0:
            return gettext("Due today: %(subject)s") % params
        return (
            ngettext(
                "Due within %(days)s day (by %(day)s): %(subject)s",
                "Due within %(days)s days (by %(day)s): %(subject)s",
                threshold,
            )
            % params
        )


class ItemOverdue(ItemRule):
    """Past the deadline, not completed: its owner's users and head are told once, keyed by the deadline."""

    audiences = (OWNER_USERS, OWNER_HEAD)

    def check(self, item: ItemState, *, today: datetime.date, thresholds: Thresholds) -> Iterator[Condition]:
        if today > item.deadline:
            yield self.condition(item, 0, item.deadline + datetime.timedelta(days=1))

    def title(self, *, threshold: int, subject: str, day: datetime.date, since: datetime.date) -> str:
        return gettext("Overdue since %(since)s: %(subject)s") % {"subject": subject, "since": _day(since)}


# --- sub-tasks of local plans --------------------------------------------------------------------------------


class SubTaskSubject(ItemSubject):
    code = "subtask"
    label = _("sub-task")
    url_name = "tasks:subtask"

    def states(self, evaluation: Evaluation) -> list[ItemState]:
        """The owner: the commune (its province too, for the province's lists), or for a department's sub-task
        the plan's province or agency."""
        rows = status_at(SubTask.objects.all(), SubTaskUpdate, "subtask", evaluation.before).values_list(
            "pk", "deadline", "status_now", "commune_id", "commune__province_id", "plan__province_id", "plan__agency_id"
        )
        return [
            ItemState(pk, deadline, status, commune, commune_province or plan_province, agency)
            for pk, deadline, status, commune, commune_province, plan_province, agency in rows.order_by()
        ]

    def completed(self, ids: list[int]) -> list[int]:
        return list(SubTask.objects.filter(pk__in=ids, status=AssignmentStatus.COMPLETED).values_list("pk", flat=True))


SUBTASK = SubTaskSubject()


class SubTaskDeadlineEarly(ItemDeadline):
    code = "subtask_deadline_7d"
    label = _("sub-task deadline approaching: early warning")
    subject = SUBTASK
    early = True


class SubTaskDeadlineLast(ItemDeadline):
    code = "subtask_deadline_1d"
    label = _("sub-task deadline approaching: last warning")
    subject = SUBTASK
    early = False


class SubTaskOverdue(ItemOverdue):
    code = "subtask_overdue"
    label = _("sub-task overdue")
    subject = SUBTASK


RULES: tuple[AlertRule, ...] = (SubTaskDeadlineEarly(), SubTaskDeadlineLast(), SubTaskOverdue())
