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
| subtask_blocked, followup_blocked | item + blocking agency | 0 / 7 | the day the block began | the agency's users / |
|   |   |   |   | its head |
| subtask_blocked_province, followup_… | item + blocking province | 0 / 7 | the day the block began | the |
|   |   |   |   | province's officers / its head |
| subtask_blocked_vendor, followup_… | item + blocking vendor | 0 | the day the block began | the vendor's contacts |
| subtask_blocked_system, followup_… | item + blocking system | 0 | the day the block began | the central support |
|   |   |   |   | team |

The blocked rules tell each party as the assignments' do (alerts.rules, DESIGN.md §8): keyed by the party and
the day the block began (alerts.selectors.block_since, from the item's history), so a later update still blocked
by the same party raises nothing new.

Each (rule, item, threshold, day) is raised once by the alerts' unique constraint; when the item is completed
(or, for a blocked rule, no longer waits on that party) the condition ends and the alert closes (at once through
tasks.signals.work_items_changed, and at the latest at the next run). The thresholds are the assignments'
(ALERTS_DEADLINE_*, ALERTS_BLOCKED_ESCALATION_DAYS). An evaluation of a past moment replays each item's status
and blocker from its append-only history.
"""

import abc
import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from django.db.models import Case, CharField, F, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from alerts.facts import Thresholds
from alerts.rules import Blocked, BlockedByProvince, BlockedBySystem, BlockedByVendor
from alerts.selectors import block_since
from alerts.specs import AlertRule, Audience, Condition, Evaluation, SubjectKind
from tasks.models import BLOCKER_FIELDS, AssignmentStatus, SubTask, SubTaskUpdate

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
    # What it waits on at that moment (tasks.models.BLOCKER_FIELDS), and since when (the local day the block
    # began, from its history).
    blocked_by_id: int | None = None
    blocked_by_province_id: str | None = None
    blocked_by_vendor_id: int | None = None
    blocked_by_system: str = ""
    blocked_since: datetime.date | None = None

    @property
    def open(self) -> bool:
        return self.status != AssignmentStatus.COMPLETED

    @property
    def party(self) -> tuple[str, Any] | None:
        """(kind, id or code) of what it waits on while blocked, else None."""
        if self.status != AssignmentStatus.BLOCKED:
            return None
        for kind, value in (
            ("agency", self.blocked_by_id),
            ("province", self.blocked_by_province_id),
            ("vendor", self.blocked_by_vendor_id),
            ("system", self.blocked_by_system),
        ):
            if value:
                return kind, value
        return None


def item_key(kind: str, pk: int) -> str:
    return f"{kind}:{pk}"


def blocked_key(kind: str, pk: int, party: tuple[str, Any]) -> str:
    """The subject key of a blocked alert: the item and the party ("subtask:41:province:79")."""
    return f"{item_key(kind, pk)}:{party[0]}:{party[1]}"


def item_id(alert: Any, kind: str) -> int | None:
    prefix, _sep, rest = (alert.subject_key or "").partition(":")
    pk = rest.partition(":")[0]  # a blocked alert's key goes on with the party
    return int(pk) if prefix == kind and pk.isascii() and pk.isdigit() else None


# The columns state_at() annotates, in ItemState's order after the owner's.
STATE_COLUMNS = ("b_now", "bp_now", "bv_now", "bs_now", "since_now")


def state_at(queryset: Any, history_model: Any, before: datetime.datetime | None) -> Any:
    """Annotate `status_now` and the blocker (STATE_COLUMNS): the item's, or those it had at `before` (its
    latest history row before it; not started and unblocked when there is none), with the moment the block
    began (alerts.selectors.block_since). One query for every item."""
    not_started = Value(AssignmentStatus.NOT_STARTED.value)
    if before is None:
        queryset = queryset.annotate(
            status_now=Coalesce("status", not_started),
            b_now=F("blocked_by"),
            bp_now=F("blocked_by_province"),
            bv_now=F("blocked_by_vendor"),
            bs_now=F("blocked_by_system"),
        )
    else:
        item_field = history_model.ITEM_FIELD
        latest = history_model.objects.filter(**{item_field: OuterRef("pk")}, created_at__lt=before).order_by(
            "-version"
        )

        def last(field: str) -> Subquery:
            return Subquery(latest.values(field)[:1])

        queryset = queryset.annotate(
            status_now=Coalesce(last("new_status"), not_started),
            b_now=last("blocked_by"),
            bp_now=last("blocked_by_province"),
            bv_now=last("blocked_by_vendor"),
            bs_now=Coalesce(last("blocked_by_system"), Value(""), output_field=CharField()),
        )
    since = block_since(
        history_model=history_model, before=before, outer=dict(zip(BLOCKER_FIELDS, STATE_COLUMNS[:4], strict=True))
    )
    blocked = Value(AssignmentStatus.BLOCKED.value)
    return queryset.annotate(since_now=Case(When(status_now=blocked, then=since), default=None))


def item_state(pk: int, deadline: datetime.date, status: str, *owner: Any, state: tuple) -> ItemState:
    """An ItemState from a row: its owner's columns (commune, province, agency[, person]) and STATE_COLUMNS."""
    b, bp, bv, bs, since = state
    return ItemState(
        pk,
        deadline,
        status,
        *owner,
        blocked_by_id=b,
        blocked_by_province_id=bp,
        blocked_by_vendor_id=bv,
        blocked_by_system=bs or "",
        blocked_since=timezone.localtime(since).date() if since is not None else None,
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

    @abc.abstractmethod
    def parties(self, ids: list[int]) -> dict[int, tuple[str, Any] | None]:
        """What each of `ids` waits on now ((kind, id or code), or None): one query."""


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


AGENCY_USERS = Audience("users", "agency")
AGENCY_HEAD = Audience("head", "agency")
PROVINCE_USERS = Audience("users", "province")
PROVINCE_HEAD = Audience("head", "province")
VENDOR_CONTACTS = Audience("contacts", "vendor")
SUPPORT_USERS = Audience("users", "support")


class ItemBlocked(ItemRule):
    """Blocked by a party of one `kind` (an agency, a province, a vendor or a system): the party is told as for an
    assignment (alerts.rules: Blocked, BlockedByOther) — at once, and its head after the escalation days where
    the rule has an escalation. The alert names the party as its agency, province or vendor, so the party sees
    it; it is keyed by the party and the day the block began."""

    kind: ClassVar[str]

    def check(self, item: ItemState, *, today: datetime.date, thresholds: Thresholds) -> Iterator[Condition]:
        party = item.party
        if party is None or party[0] != self.kind:
            return
        since = item.blocked_since or today
        yield self.blocked_condition(item, 0, since, party)
        if self.escalation is not None and (today - since).days >= thresholds.blocked_escalation:
            yield self.blocked_condition(item, thresholds.blocked_escalation, since, party)

    def blocked_condition(self, item: ItemState, threshold: int, since: datetime.date, party: tuple) -> Condition:
        kind, value = party
        return Condition(
            self.code,
            blocked_key(self.subject.code, item.pk, party),
            threshold,
            since,
            kind=self.subject.code,
            since=since,
            commune_id=item.commune_id,
            province_id=value if kind == "province" else item.province_id,
            agency_id=value if kind == "agency" else item.agency_id,
            vendor_id=value if kind == "vendor" else None,
        )

    def title(self, *, threshold: int, subject: str, day: datetime.date, since: datetime.date) -> str:
        # The assignments' words for the same party (one set of messages to translate).
        return BLOCKED_TITLES[self.kind].title(threshold=threshold, subject=subject, day=day, since=since)


BLOCKED_TITLES: dict[str, AlertRule] = {
    "agency": Blocked(),
    "province": BlockedByProvince(),
    "vendor": BlockedByVendor(),
    "system": BlockedBySystem(),
}


def current_parties(queryset: Any) -> dict[int, tuple[str, Any] | None]:
    """What each item of `queryset` waits on now (ItemState.party), in one query."""
    rows = queryset.values_list(
        "pk", "status", "blocked_by", "blocked_by_province", "blocked_by_vendor", "blocked_by_system"
    ).order_by()
    return {
        pk: ItemState(
            pk,
            datetime.date.min,
            status,
            None,
            None,
            None,
            blocked_by_id=b,
            blocked_by_province_id=bp,
            blocked_by_vendor_id=bv,
            blocked_by_system=bs or "",
        ).party
        for pk, status, b, bp, bv, bs in rows
    }


# --- sub-tasks of local plans --------------------------------------------------------------------------------


class SubTaskSubject(ItemSubject):
    code = "subtask"
    label = _("sub-task")
    url_name = "tasks:subtask"

    def states(self, evaluation: Evaluation) -> list[ItemState]:
        """The owner: the commune (its province too, for the province's lists), or for a department's sub-task
        the plan's province or agency."""
        rows = state_at(SubTask.objects.all(), SubTaskUpdate, evaluation.before).values_list(
            "pk",
            "deadline",
            "status_now",
            "commune_id",
            "commune__province_id",
            "plan__province_id",
            "plan__agency_id",
            *STATE_COLUMNS,
        )
        return [
            item_state(pk, deadline, status, commune, commune_province or plan_province, agency, state=tuple(state))
            for pk, deadline, status, commune, commune_province, plan_province, agency, *state in rows.order_by()
        ]

    def completed(self, ids: list[int]) -> list[int]:
        return list(SubTask.objects.filter(pk__in=ids, status=AssignmentStatus.COMPLETED).values_list("pk", flat=True))

    def parties(self, ids: list[int]) -> dict[int, tuple[str, Any] | None]:
        return current_parties(SubTask.objects.filter(pk__in=ids))


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


class SubTaskBlocked(ItemBlocked):
    code = "subtask_blocked"
    label = _("sub-task blocked by an agency")
    subject = SUBTASK
    kind = "agency"
    audiences = (AGENCY_USERS,)
    escalation = (AGENCY_HEAD,)


class SubTaskBlockedByProvince(ItemBlocked):
    code = "subtask_blocked_province"
    label = _("sub-task blocked by a province")
    subject = SUBTASK
    kind = "province"
    audiences = (PROVINCE_USERS,)
    escalation = (PROVINCE_HEAD,)


class SubTaskBlockedByVendor(ItemBlocked):
    code = "subtask_blocked_vendor"
    label = _("sub-task blocked by a vendor")
    subject = SUBTASK
    kind = "vendor"
    audiences = (VENDOR_CONTACTS,)


class SubTaskBlockedBySystem(ItemBlocked):
    code = "subtask_blocked_system"
    label = _("sub-task blocked by a system")
    subject = SUBTASK
    kind = "system"
    audiences = (SUPPORT_USERS,)


RULES: tuple[AlertRule, ...] = (
    SubTaskDeadlineEarly(),
    SubTaskDeadlineLast(),
    SubTaskOverdue(),
    SubTaskBlocked(),
    SubTaskBlockedByProvince(),
    SubTaskBlockedByVendor(),
    SubTaskBlockedBySystem(),
)
