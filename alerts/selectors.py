"""Reads of the early-warning app: the inputs of the rules (set-based, a fixed number of queries for the whole
country), who is told, and the lists of the pages and the API — each scoped by the caller's Scope through the
querysets' `visible_to` (alerts.models, tasks.models, reports.models) or `followed_by` (localities.models).

As of a past day D, the state is the one at the end of D (the midnight that ends it, Asia/Ho_Chi_Minh),
replayed from the append-only history as dashboards.snapshots does: an assignment's latest StatusUpdate
before that moment, the reports received before it, the support requests not yet closed then. For today it is
the current rows (the same thing, cheaper).
"""

import datetime
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone

from alerts import specs
from alerts.facts import AssignmentState, TaskFacts, Thresholds, latest_due_day, missing_streak
from alerts.models import Alert, Contact, Notification, Preference, SupportResolution
from localities.models import Commune, Province
from reports.models import DailyReport
from tasks.models import (
    BLOCKER_FIELDS,
    Agency,
    Assignment,
    AssignmentQuerySet,
    AssignmentStatus,
    Membership,
    StatusUpdate,
    Task,
)
from tasks.roles import Role, Scope

BLOCKED = AssignmentStatus.BLOCKED


def alert_joins() -> list[str]:
    """The joins every alert row needs to read as a line (alerts.display): its subject's (each registered subject
    kind names its own), its province and its agency."""
    return [*specs.subject_joins(), "province", "agency"]


def _local_date(value: datetime.datetime | None) -> datetime.date | None:
    return timezone.localtime(value).date() if value is not None else None


# --- the rules' inputs --------------------------------------------------------------------------------------


def blocker_key(fields: Mapping[str, Any] | None = None) -> Concat:
    """One text naming what a row waits on, whatever its kind: "agency id|province code|vendor id|system" with
    the empty ones blank. `fields` maps each blocker field (tasks.models.BLOCKER_FIELDS) to the expression that
    holds it (by default the row's own field), so a history row's key compares with an outer query's."""
    fields = fields or {name: F(name) for name in BLOCKER_FIELDS}
    parts: list[Any] = []
    for name in BLOCKER_FIELDS:
        if parts:
            parts.append(Value("|"))
        parts.append(Coalesce(Cast(fields[name], output_field=CharField()), Value(""), output_field=CharField()))
    return Concat(*parts, output_field=CharField())


def block_since(
    *,
    history_model: Any = StatusUpdate,
    before: datetime.datetime | None = None,
    outer: Mapping[str, str] | None = None,
) -> Subquery:
    """When the item's current block began, whatever blocks it (an agency, a province, a vendor or a system):
    the first history row of the unbroken run of rows that say "blocked by this same party" (a change of
    blocker, or any other status, starts a new run; a change of progress or reason while blocked by the same
    party does not). Rows from `before` on are ignored (as of a past day). `history_model` is the item's history
    (a WorkflowHistory: StatusUpdate, SubTaskUpdate, FollowUpUpdate); `outer` maps each blocker field to the
    outer query's name for it (by default the same names)."""
    item = history_model.ITEM_FIELD
    names = outer or {name: name for name in BLOCKER_FIELDS}
    current = blocker_key({name: OuterRef(OuterRef(names[name])) for name in BLOCKER_FIELDS})

    def history(pk: Any) -> QuerySet:
        rows = history_model.objects.filter(**{item: pk})
        return rows if before is None else rows.filter(created_at__lt=before)

    interrupted = (
        history(OuterRef(OuterRef("pk")))
        .annotate(key=blocker_key())
        .exclude(Q(new_status=BLOCKED) & Q(key=current))
        .order_by("-version")
        .values("version")[:1]
    )
    current_here = blocker_key({name: OuterRef(names[name]) for name in BLOCKER_FIELDS})
    first = (
        history(OuterRef("pk"))
        .annotate(key=blocker_key())
        .filter(new_status=BLOCKED, key=current_here, version__gt=Coalesce(Subquery(interrupted), 0))
        .order_by("version")
        .values("created_at")[:1]
    )
    return Subquery(first)


def assignment_states(
    *, before: datetime.datetime | None = None, assignment_ids: Collection[int] | None = None
) -> list[AssignmentState]:
    """Every assignment's state (or those of `assignment_ids`): now, or as of `before` (a past day's end)
    replayed from history. One query."""
    qs = Assignment.objects.all()
    if assignment_ids is not None:
        qs = qs.filter(pk__in=list(assignment_ids))
    if before is None:
        qs = qs.annotate(
            s=F("status"),
            p=F("progress"),
            c=F("completed_on"),
            b=F("blocked_by"),
            bp=F("blocked_by_province"),
            bv=F("blocked_by_vendor"),
            bs=F("blocked_by_system"),
            last=F("updated_at"),
        )
    else:
        latest = StatusUpdate.objects.filter(assignment=OuterRef("pk"), created_at__lt=before).order_by("-version")
        qs = qs.annotate(
            s=Coalesce(Subquery(latest.values("new_status")[:1]), Value(AssignmentStatus.NOT_STARTED.value)),
            p=Coalesce(Subquery(latest.values("new_progress")[:1]), Value(0)),
            c=Subquery(latest.values("completed_on")[:1]),
            b=Subquery(latest.values("blocked_by")[:1]),
            bp=Subquery(latest.values("blocked_by_province")[:1]),
            bv=Subquery(latest.values("blocked_by_vendor")[:1]),
            bs=Coalesce(Subquery(latest.values("blocked_by_system")[:1]), Value("")),
            last=Subquery(latest.values("created_at")[:1]),
        )
    since = block_since(before=before, outer=dict(zip(BLOCKER_FIELDS, ("b", "bp", "bv", "bs"), strict=True)))
    qs = qs.annotate(since=Case(When(s=BLOCKED, then=since), default=None))
    rows = qs.values_list(
        "pk",
        "task_id",
        "level",
        "agency_id",
        "province_id",
        "commune_id",
        "s",
        "p",
        "c",
        "b",
        "last",
        "since",
        "bp",
        "bv",
        "bs",
    ).order_by()
    return [
        AssignmentState(  # type: ignore[misc]
            *row[:10],
            last_update=_local_date(row[10]),
            blocked_since=_local_date(row[11]),
            blocked_by_province_id=row[12],
            blocked_by_vendor_id=row[13],
            blocked_by_system=row[14] or "",
        )
        for row in rows
    ]


def task_facts() -> dict[int, TaskFacts]:
    return {
        pk: TaskFacts(
            deadline=deadline, lead_agency_id=lead, opens_on=max(starts_on, _local_date(created) or starts_on)
        )
        for pk, deadline, lead, starts_on, created in Task.objects.values_list(
            "pk", "deadline", "lead_agency_id", "phase__starts_on", "created_at"
        ).order_by()
    }


def last_reports(
    *, reports_from: datetime.date, before: datetime.datetime | None = None, communes: QuerySet | None = None
) -> dict[str, datetime.date]:
    """{commune code: the latest day it has a report for} (received before `before` when given). One GROUP BY."""
    reports = DailyReport.objects.filter(commune__isnull=False, date__gte=reports_from)
    if before is not None:
        reports = reports.filter(received_at__lt=before)
    if communes is not None:
        reports = reports.filter(commune__in=communes)
    return dict(
        reports.values_list("commune_id").annotate(last=Max("date")).values_list("commune_id", "last").order_by()
    )


def open_support_requests(*, before: datetime.datetime | None = None) -> QuerySet:
    """Reports asking for support that no province officer had closed (at `before`)."""
    reports = DailyReport.objects.filter(support_needed=True)
    if before is None:
        return reports.filter(support_resolution__isnull=True)
    closed = SupportResolution.objects.filter(report=OuterRef("pk"), closed_at__lt=before)
    return reports.filter(received_at__lt=before).exclude(Exists(closed))


# --- who is told ----------------------------------------------------------------------------------------------


@dataclass
class Person:
    user_id: int | None
    contact_id: int | None
    email: str
    name: str
    language: str
    email_off: frozenset[str] = frozenset()


@dataclass
class Recipients:
    """Users by the unit they act for, and heads by unit, read in a fixed number of queries."""

    officers_by_agency: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    officers_by_province: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    clerks_by_commune: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    steering: list[int] = field(default_factory=list)
    support: list[int] = field(default_factory=list)
    users: dict[int, Person] = field(default_factory=dict)
    heads: dict[tuple[str, Any], Person] = field(default_factory=dict)
    # Every contact of a unit told through its contacts (a vendor).
    contacts: dict[tuple[str, Any], list[Person]] = field(default_factory=lambda: defaultdict(list))

    def unit_users(self, kind: str, code: Any) -> list[int]:
        if kind == "agency":
            return self.officers_by_agency.get(code, [])
        if kind == "province":
            return self.officers_by_province.get(code, [])
        if kind == "commune":
            return self.clerks_by_commune.get(code, [])
        if kind == "steering":
            return self.steering
        if kind == "support":
            return self.support
        if kind == "person":  # an active user with a membership (the inspector of a follow-up item)
            return [code] if code in self.users else []
        return []


def recipients() -> Recipients:
    """Active users with a unit role (and the steering committee), their e-mail and preferences, and the units'
    accountable heads. Three queries, whatever the number of alerts."""
    found = Recipients()
    preferences = {
        user_id: (language, frozenset(off or ()))
        for user_id, language, off in Preference.objects.values_list("user_id", "language", "email_off")
    }
    memberships = Membership.objects.filter(user__is_active=True).values_list(
        "user_id", "role", "agency_id", "province_id", "commune_id", "user__email", "user__username"
    )
    for user_id, role, agency_id, province_id, commune_id, email, username in memberships.order_by():
        language, off = preferences.get(user_id, ("vi", frozenset()))
        found.users[user_id] = Person(user_id, None, (email or "").strip().lower(), username, language, off)
        if role == Role.AGENCY_OFFICER:
            found.officers_by_agency[agency_id].append(user_id)
        elif role == Role.PROVINCE_OFFICER:
            found.officers_by_province[province_id].append(user_id)
        elif role == Role.COMMUNE_CLERK:
            found.clerks_by_commune[commune_id].append(user_id)
        elif role == Role.STEERING:
            found.steering.append(user_id)
        elif role == Role.SUPPORT:
            found.support.append(user_id)
    # The units' heads, and every contact of a vendor (a vendor is told through its contacts).
    heads = Contact.objects.filter(Q(role=Contact.Role.HEAD) | Q(vendor__isnull=False)).values_list(
        "pk", "agency_id", "province_id", "commune_id", "vendor_id", "email", "name", "language"
    )
    for pk, agency_id, province_id, commune_id, vendor_id, email, name, language in heads.order_by("pk"):
        person = Person(None, pk, email.strip().lower(), name, language)
        if vendor_id:
            found.contacts[("vendor", vendor_id)].append(person)
            continue
        unit = (
            ("agency", agency_id) if agency_id else ("commune", commune_id) if commune_id else ("province", province_id)
        )
        found.heads[unit] = person
    return found


# --- pages and API ----------------------------------------------------------------------------------------------


# Who was told, with what alerts.display.notified shows of them (a username, or their role and unit).
NOTIFIED_JOINS = ("user__membership__agency", "user__membership__province", "user__membership__commune")


def alert_list(*, scope: Scope) -> QuerySet:
    """The alerts the scope may see, open first, with the joins a line needs and who was told."""
    return (
        Alert.objects.visible_to(scope)
        .select_related(*alert_joins())
        .prefetch_related(Prefetch("notifications", queryset=Notification.objects.select_related(*NOTIFIED_JOINS)))
        .order_by(F("closed_at").desc(nulls_first=True), "-since", "-id")
    )


def notification_list(*, scope: Scope) -> QuerySet:
    """A person's own notifications, newest first, with what their lines need."""
    return (
        Notification.objects.visible_to(scope)
        .select_related("alert", *(f"alert__{join}" for join in alert_joins()))
        .order_by("-created_at", "-id")
    )


def unread_count(*, user: Any) -> int:
    """The bell: one COUNT on the partial index of unread notifications."""
    return Notification.objects.filter(user_id=user.pk, read_at__isnull=True).count()


def blocker_list(*, scope: Scope, queryset: AssignmentQuerySet | None = None) -> QuerySet:
    """The blocker register: blocked assignments the scope may see (an agency or a province sees those it
    blocks), who or what blocks whom — an agency, a province, a vendor or a system — and since when (the update
    that named the blocker, from the history, whatever its kind), oldest block first."""
    qs = (Assignment.objects.all() if queryset is None else queryset).visible_to(scope)
    return (
        qs.filter(status=BLOCKED)
        .filter(
            Q(blocked_by__isnull=False)
            | Q(blocked_by_province__isnull=False)
            | Q(blocked_by_vendor__isnull=False)
            | ~Q(blocked_by_system="")
        )
        .select_related(
            "task", "agency", "province", "commune", "blocked_by", "blocked_by_province", "blocked_by_vendor"
        )
        .annotate(blocked_since=Coalesce(block_since(), F("updated_at")))
        .order_by("blocked_since", "task__code", "pk")
    )


def support_request_list(*, scope: Scope) -> QuerySet:
    """Reports asking for support that the scope may see (a province its own and its communes', a commune its
    own), with their resolution if closed; open first, newest first."""
    return (
        DailyReport.objects.visible_to(scope)
        .filter(support_needed=True)
        .select_related("province", "commune", "support_resolution__closed_by")
        .annotate(is_open=Case(When(support_resolution__isnull=True, then=Value(True)), default=Value(False)))
        .order_by("-is_open", "-date", "locality")
    )


@dataclass(frozen=True)
class Streak:
    code: str
    name: str
    province_id: str
    province_name: str
    last_reported: datetime.date | None
    since: datetime.date
    days: int


def missing_streaks(
    *, scope: Scope, moment: datetime.datetime | None = None, province_id: str | None = None
) -> tuple[datetime.date, list[Streak]]:
    """(latest day due, the communes the scope follows whose current run of missed reports is ≥ 1 day,
    longest first). Computed from the reports themselves (the same rule as the run), so a report that just
    arrived ends its streak here at once. Three queries."""
    thresholds = Thresholds.from_settings()
    moment = moment or timezone.now()
    latest = latest_due_day(moment)
    communes = Commune.objects.followed_by(scope)
    if province_id:
        communes = communes.filter(province_id=province_id)
    last = last_reports(reports_from=thresholds.reports_from, communes=communes.values("code"))
    provinces = dict(Province.objects.values_list("code", "name"))
    found = []
    for code, name, province in communes.values_list("code", "name", "province_id").order_by():
        since, days = missing_streak(last.get(code), latest_due=latest, reports_from=thresholds.reports_from)
        if days:
            found.append(Streak(code, name, province, provinces.get(province, ""), last.get(code), since, days))
    found.sort(key=lambda s: (-s.days, s.province_id, s.code))
    return latest, found


def streak_summary(streaks: Iterable[Streak], ladder: tuple[int, int, int]) -> list[dict[str, Any]]:
    """Per province: how many of its communes are at each step of the ladder."""
    rows: dict[str, dict[str, Any]] = {}
    for streak in streaks:
        row = rows.setdefault(
            streak.province_id,
            {"province": streak.province_id, "name": streak.province_name, "steps": [0, 0, 0], "longest": 0},
        )
        for index, days in enumerate(ladder):
            row["steps"][index] += streak.days >= days
        row["longest"] = max(row["longest"], streak.days)
    return sorted(rows.values(), key=lambda r: (-r["steps"][0], r["province"]))


def units_without_head() -> dict[str, QuerySet]:
    """Agencies, provinces and communes with no accountable head among their contacts: a finding in itself."""
    heads = Contact.objects.heads()
    return {
        "agencies": Agency.objects.exclude(pk__in=heads.filter(agency__isnull=False).values("agency_id")),
        "provinces": Province.objects.exclude(pk__in=heads.filter(province__isnull=False).values("province_id")),
        "communes": Commune.objects.exclude(pk__in=heads.filter(commune__isnull=False).values("commune_id"))
        .select_related("province")
        .order_by("province_id", "code"),
    }


def open_counts(*, scope: Scope) -> dict[str, int]:
    """Open alerts by rule, for the list's header."""
    return dict(Alert.objects.visible_to(scope).open().values_list("rule").annotate(n=Count("pk")).order_by())
