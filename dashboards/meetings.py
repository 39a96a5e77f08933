"""Meetings of the steering committee: the state as of a day, frozen under a title (meeting_create), and the
changes between two meetings (meeting_changes).

The pack stores what was shown — numbers, codes, names and the forecasts' reasons in both languages — and
is never recomputed: a report corrected or an assignment updated afterwards changes the next meeting, not
this one. Everything in it is "as of the end of the day": the assignments' states replayed from history,
the task snapshot of that day, the rollups of that day, the targets as of that day.
"""

import datetime
from collections.abc import Callable, Collection
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import events
from core.dates import BadDay, end_of_day, view_day
from dashboards import forecasts, formview
from dashboards import selectors as dashboard_selectors
from dashboards.models import Meeting, NationDayRollup, ProvinceDayRollup, TaskSnapshot
from dashboards.rollups import communes_by_slot, missing_localities
from dashboards.snapshots import as_of_ensure
from dashboards.targets import target_json, target_values
from localities.models import Commune, Province
from reports import formspec
from reports.completeness import Completeness
from reports.models import ReportApproval
from tasks.models import Agency, Assignment, AssignmentStatus, Level, StatusUpdate, Task, Vendor
from tasks.roles import Scope
from tasks.selectors import demo_catalogue

# An event of the changes feed and the webhooks (DESIGN.md §14), in the freezing's transaction. A meeting is
# the whole country's: only read-all readers (steering, inspectors, the admin, national keys) see it.
MEETING_FROZEN = events.declare("meeting.frozen", gettext_lazy("A steering meeting's pack was frozen."))

# 2: the tasks carry their level, and the pack lists the units done (units_done).
# 3: the report form in force on the day and the nation's figures and rates in its terms (form, figures).
CONTENT_VERSION = 3
LANGUAGES = ("vi", "en")
TITLE_MAX = 200


def _both(build: Callable[[], Any]) -> dict[str, Any]:
    """{"vi": …, "en": …}: `build()` evaluated in each language (translated names and reasons)."""
    result = {}
    for language in LANGUAGES:
        with translation.override(language):
            result[language] = build()
    return result


def _forecast(f: dict[str, Any]) -> dict[str, Any]:
    return {"date": f["date"].isoformat() if f["date"] else None, "risk": f["risk"], "reason": f["reason"]}


def _counts(snapshot: TaskSnapshot | None) -> dict[str, int]:
    return {k: getattr(snapshot, k) if snapshot else 0 for k in dashboard_selectors.STATUS_KEYS}


def _phases(day: datetime.date) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The phases with their breakdowns, and every task with its status and forecast, as of `day`; the
    forecasts' reasons in both languages."""
    by_language = _both(lambda: dashboard_selectors.phases(day))
    vi, en = by_language["vi"], by_language["en"]
    phases, tasks = [], []
    for p_vi, p_en in zip(vi["phases"], en["phases"], strict=True):
        phase = p_vi["phase"]

        def reason(fv: dict[str, Any], fe: dict[str, Any]) -> dict[str, Any]:
            return {**_forecast(fv), "reason": {"vi": fv["reason"], "en": fe["reason"]}}

        phases.append(
            {
                "code": phase.code,
                "name": {"vi": phase.name_vi, "en": phase.name_en or phase.name_vi},
                "deadline": phase.deadline.isoformat(),
                "days_left": p_vi["days_left"],
                "tasks": p_vi["tasks"],
                "done": p_vi["snapshot"].done if p_vi["snapshot"] else 0,
                "total": p_vi["snapshot"].tasks if p_vi["snapshot"] else 0,
                "forecast": reason(p_vi["forecast"], p_en["forecast"]),
                "groups": [
                    {
                        "key": s.key,
                        "name": str(g) if g else s.key,
                        "counts": _counts(s),
                        "done": s.done,
                        "tasks": s.tasks,
                    }
                    for g, s in p_vi["groups"]
                ],
                "agencies": [
                    {
                        "code": a.code if a else s.key,
                        "name": {"vi": a.name_vi if a else s.key, "en": (a.name_en if a else "") or s.key},
                        "counts": _counts(s),
                        "forecast": reason(fv, fe),
                    }
                    for (a, s, fv), (_a, _s, fe) in zip(p_vi["agencies"], p_en["agencies"], strict=True)
                ],
                "provinces": [
                    {
                        "code": s.key.split(":")[1],
                        "name": pr.name if pr else s.key,
                        "counts": _counts(s),
                        "done": s.done,
                        "tasks": s.tasks,
                    }
                    for pr, s in p_vi["provinces"]
                ],
            }
        )
        for (task, snap, fv), (_t, _s, fe) in zip(p_vi["task_rows"], p_en["task_rows"], strict=True):
            tasks.append(
                {
                    "code": task.code,
                    "title": {"vi": task.title_vi, "en": task.title_en or task.title_vi},
                    "phase": phase.code,
                    "lead_agency": task.lead_agency.code,
                    "deadline": task.deadline.isoformat(),
                    "status": snap.status if snap else "",
                    "assignments": snap.assignments if snap else 0,
                    "green": snap.green if snap else 0,
                    "overdue": snap.overdue if snap else 0,
                    "level": task.level,
                    "official": task.is_official,
                    "forecast": reason(fv, fe),
                }
            )
    return phases, tasks


def _targets(day: datetime.date) -> list[dict[str, Any]]:
    now = timezone.now()
    items = _both(lambda: [target_json(item, day=day, as_of=now) for item in target_values(day)])
    return [
        {**vi, "title": {"vi": vi["title"], "en": en["title"]}} for vi, en in zip(items["vi"], items["en"], strict=True)
    ]


def _ranking(day: datetime.date) -> list[dict[str, Any]]:
    ranked = dashboard_selectors.rank(dashboard_selectors.provinces(day), lambda i: i["green_share"])
    return [
        {
            "rank": i["rank"],
            "province": i["province"].code,
            "name": i["province"].name,
            "green_share": i["green_share"],
            "completeness_share": i["completeness_share"],
            "received": i["figures"]["completeness"]["received"],
            "expected": i["figures"]["completeness"]["expected"],
        }
        for i in ranked
    ]


def _figures(day: datetime.date) -> dict[str, Any]:
    """The nation's figures of the day in the form version in force on it (dashboards.formview): which version,
    each summed indicator and each total and rate with its labels in both languages (one query)."""
    spec = formspec.spec_for_day(day)
    series = formview.series_of(NationDayRollup.objects.filter(date=day).first())
    values = formview.derived(spec, series)
    labels = _both(lambda: [i.label for i in spec.summed] + [formview.label_of(r) for r in spec.rates])
    n = len(spec.summed)
    return {
        "form": {
            "code": spec.code,
            "version": spec.number,
            "status": spec.status,
            "effective_from": spec.effective_from.isoformat(),
        },
        "figures": [
            {"code": i.code, "label": {lang: labels[lang][k] for lang in LANGUAGES}, "value": series.get(i.series, 0)}
            for k, i in enumerate(spec.summed)
        ],
        "rates": [
            {
                "code": r.code,
                "label": {lang: labels[lang][n + k] for lang in LANGUAGES},
                "percent": r.denominator is not None,
                "value": values[r.code],
            }
            for k, r in enumerate(spec.rates)
        ],
    }


def _blocked(day: datetime.date) -> list[dict[str, Any]]:
    """The assignments blocked at the end of `day`: by whom, since when (the update that blocked them)."""
    cutoff = end_of_day(day)
    became_blocked = (
        StatusUpdate.objects.filter(
            assignment=OuterRef("pk"), created_at__lt=cutoff, new_status=AssignmentStatus.BLOCKED
        )
        .exclude(old_status=AssignmentStatus.BLOCKED)
        .order_by("-version")
        .values("created_at")[:1]
    )
    rows = (
        Assignment.objects.as_of(day)
        .filter(status_at=AssignmentStatus.BLOCKED)
        .annotate(
            since=Subquery(became_blocked),
            vendor_code=Subquery(Vendor.objects.filter(pk=OuterRef("blocked_by_vendor_at")).values("code")[:1]),
        )
        .select_related("task", "agency", "province", "commune")
        .order_by("task__code", "province_id", "commune_id", "agency__code")
    )
    agencies = dict(Agency.objects.values_list("pk", "code"))
    result = []
    for a in rows:
        since = timezone.localtime(a.since).date() if a.since else None
        unit = a.agency or a.commune or a.province
        blocker_kind, blocker_code = next(
            (
                (kind, code)
                for kind, code in (
                    ("agency", agencies.get(a.blocked_by_at)),
                    ("province", a.blocked_by_province_at),
                    ("vendor", a.vendor_code),
                    ("system", a.blocked_by_system_at or None),
                )
                if code
            ),
            (None, None),
        )
        result.append(
            {
                "assignment": a.pk,
                "task": a.task.code,
                "level": a.level,
                "unit": a.agency.code if a.agency_id else (a.commune_id or a.province_id),
                "unit_name": unit.name if unit else "",
                "province": a.province_id,
                # Who or what it waited on: an agency's, a province's or a vendor's code, or a system's.
                "blocked_by": blocker_code,
                "blocker_kind": blocker_kind,
                "reason": a.blocked_reason_at,
                "since": since.isoformat() if since else None,
                "days": (day - since).days if since else None,
            }
        )
    return result


def _units_done(day: datetime.date) -> list[dict[str, Any]]:
    """The agencies' and provinces' own parts (central and province assignments) completed at the end of `day`,
    replayed from the append-only history: a head answers for its part, not only for whole tasks."""
    rows = (
        Assignment.objects.as_of(day)
        .filter(level__in=(Level.CENTRAL, Level.PROVINCE), status_at=AssignmentStatus.COMPLETED)
        .values_list("task__code", "level", "agency__code", "province_id", "completed_on_at")
        .order_by("task__code", "level", "agency__code", "province_id")
    )
    return [
        {
            "task": task,
            "level": level,
            "unit": agency if level == Level.CENTRAL else province,
            "completed_on": completed_on.isoformat() if completed_on else None,
        }
        for task, level, agency, province, completed_on in rows
    ]


def _not_reporting(day: datetime.date) -> dict[str, Any]:
    nation = NationDayRollup.objects.filter(date=day).first()
    rows = list(ProvinceDayRollup.objects.filter(date=day))
    missing = missing_localities(rows, communes_by_slot())
    names = dict(Commune.objects.filter(code__in=[c for p, c in missing if c != p]).values_list("code", "name"))
    provinces = dict(Province.objects.values_list("code", "name"))
    by_province: dict[str, dict[str, Any]] = {}
    for province_id, code in missing:
        block = by_province.setdefault(
            province_id,
            {
                "province": province_id,
                "name": provinces.get(province_id, ""),
                "province_missing": False,
                "communes": [],
            },
        )
        if code == province_id:
            block["province_missing"] = True
        else:
            block["communes"].append({"code": code, "name": names.get(code, "")})
    completeness = Completeness.of_rollup(
        nation, expected_default=sum(1 + len(v) for v in communes_by_slot().values())
    ).as_dict()
    return {
        **completeness,
        "rollup": nation is not None,
        "provinces": sorted(
            ({**b, "missing": len(b["communes"]) + b["province_missing"]} for b in by_province.values()),
            key=lambda b: (-b["missing"], b["province"]),
        ),
    }


def _approvals(day: datetime.date) -> dict[str, Any]:
    """The province approvals in force when the pack was frozen (DESIGN.md §11): per province how many of the
    day's reports it had received and approved, and which report (locality → revision) each approval vouched
    for, so a later withdrawal does not change what the meeting saw."""
    received = dict(ProvinceDayRollup.objects.filter(date=day).values_list("province_id", "localities_received"))
    approved: dict[str, dict[str, int]] = {}
    for province_id, locality, revision in (
        ReportApproval.objects.active().filter(date=day).values_list("province_id", "locality", "revision")
    ):
        approved.setdefault(province_id, {})[locality] = revision
    names = dict(Province.objects.values_list("code", "name"))
    return {
        "received": sum(received.values()),
        "approved": sum(len(v) for v in approved.values()),
        "provinces": [
            {
                "province": code,
                "name": name,
                "received": received.get(code, 0),
                "approved": len(approved.get(code, {})),
                "reports": approved.get(code, {}),
            }
            for code, name in sorted(names.items())
        ],
    }


def meeting_content(day: datetime.date) -> dict[str, Any]:
    """The pack as of the end of `day` (what meeting_create freezes)."""
    as_of_ensure(day)
    phases, tasks = _phases(day)
    overdue = [t for t in tasks if t["status"] == "overdue"]
    return {
        "version": CONTENT_VERSION,
        "date": day.isoformat(),
        "catalogue": "demo" if demo_catalogue() else "official",
        "phases": phases,
        "tasks": tasks,
        "targets": _targets(day),
        "ranking": _ranking(day),
        "overdue": overdue,
        "blocked": _blocked(day),
        "units_done": _units_done(day),
        "not_reporting": _not_reporting(day),
        "approvals": _approvals(day),
        **_figures(day),
    }


def may_create(scope: Scope) -> bool:
    """Steering members and the national admin freeze meetings; inspectors read them."""
    return not scope.is_api_client and scope.role in ("steering", "admin")


def meeting_create(*, scope: Scope, actor: Any, title: Any, date: Any) -> Meeting:
    """Freeze the state as of `date` under `title`. Raises PermissionDenied, or ValidationError naming each
    bad field (a title missing or too long; a date that is not a date, before the plan, or in the future)."""
    if not may_create(scope):
        raise PermissionDenied(_("Only steering committee members and the national admin create meetings."))
    errors: dict[str, list[ValidationError]] = {}
    clean_title = title.strip() if isinstance(title, str) else ""
    if not clean_title:
        errors["title"] = [ValidationError(_("Give the meeting a title."), code="required")]
    elif len(clean_title) > TITLE_MAX:
        errors["title"] = [ValidationError(_("At most %(max)s characters.") % {"max": TITLE_MAX}, code="max_length")]
    elif "\x00" in clean_title:  # a form body of the API (JSON and the pages' forms are refused before)
        message = _("Contains a NUL character (\\u0000), which text may not contain.")
        errors["title"] = [ValidationError(message, code="invalid_text")]
    day = None
    if not isinstance(date, str) or not date:
        errors["date"] = [ValidationError(_("Give the day the meeting looks at (YYYY-MM-DD)."), code="required")]
    else:
        try:
            day = view_day(date)
        except BadDay as exc:
            errors["date"] = [ValidationError(str(exc), code=exc.code)]
    if errors or day is None:
        raise ValidationError(errors)
    content = meeting_content(day)
    with transaction.atomic():
        meeting = Meeting.objects.create(
            title=clean_title, date=day, content=content, created_by=actor, created_at=timezone.now()
        )
        events.emit(
            MEETING_FROZEN,
            subject="meeting",
            subject_id=meeting.pk,
            payload={"title": meeting.title, "date": day.isoformat()},
            actor=actor.get_username(),
        )
    return meeting


# --- comparing two meetings ---------------------------------------------------------------------------------


def _forecasts(content: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for phase in content["phases"]:
        found[("phase", phase["code"])] = phase["forecast"]
        for agency in phase["agencies"]:
            found[("agency", f"{phase['code']}:{agency['code']}")] = agency["forecast"]
    for task in content["tasks"]:
        found[("task", task["code"])] = task["forecast"]
    return found


def _pack_units_done(content: dict[str, Any]) -> list[dict[str, Any]]:
    """The units done of a pack; a pack frozen before version 2 did not keep them, and they are replayed from the
    append-only history as of its day (the same answer: the history before a day never changes)."""
    if "units_done" in content:
        units: list[dict[str, Any]] = content["units_done"]
        return units
    return _units_done(datetime.date.fromisoformat(content["date"]))


def _green_shares(content: dict[str, Any], commune_tasks: set[str]) -> dict[str, float]:
    """The share of green communes of each commune-level task in a pack: green / assignments, since only
    communes carry such a task out (a pack before version 2 has no level: the task's level today tells)."""
    shares: dict[str, float] = {}
    for t in content["tasks"]:
        level = t.get("level", "commune" if t["code"] in commune_tasks else "")
        if level == Level.COMMUNE and t.get("assignments"):
            shares[t["code"]] = round(t["green"] / t["assignments"], 4)
    return shares


def pack_view(content: dict[str, Any], task_codes: Collection[str] | None) -> dict[str, Any]:
    """A frozen pack as a working group's view shows it (tasks.working_groups.task_codes; None: every group):
    its task lists — the tasks, the overdue ones, the blocked assignments and the units' parts done — keep the
    group's tasks only. The pack itself is not changed."""
    if task_codes is None:
        return content
    view = {
        **content,
        "tasks": [t for t in content.get("tasks", []) if t["code"] in task_codes],
        "overdue": [t for t in content.get("overdue", []) if t["code"] in task_codes],
        "blocked": [b for b in content.get("blocked", []) if b["task"] in task_codes],
    }
    if "units_done" in content:
        view["units_done"] = [u for u in content["units_done"] if u["task"] in task_codes]
    return view


def meeting_changes(*, meeting: Meeting, since: Meeting, task_codes: Collection[str] | None = None) -> dict[str, Any]:
    """What changed from the `since` meeting to this one (DESIGN.md §9): tasks completed, newly overdue,
    assignments newly blocked or unblocked, forecasts that slipped, targets that moved, provinces that moved
    in the ranking, the agencies' and provinces' own parts completed, and the commune-level tasks whose share
    of green communes moved. Read from the two frozen packs (older packs: see _pack_units_done). With
    `task_codes` (a working group's view), the lists of tasks, assignments and task forecasts keep those tasks
    only; the phases', agencies', targets' and provinces' changes stay whole."""
    before, after = pack_view(since.content, task_codes), pack_view(meeting.content, task_codes)
    tasks_before = {t["code"]: t for t in before["tasks"]}
    done = {"completed_on_time", "completed_late"}

    def task_item(task: dict[str, Any]) -> dict[str, Any]:
        return {"task": task["code"], "title": task["title"], "status": task["status"]}

    completed = [
        task_item(t)
        for t in after["tasks"]
        if t["status"] in done and tasks_before.get(t["code"], {}).get("status") not in done
    ]
    overdue_before = {t["code"] for t in before["overdue"]}
    tasks_after = {t["code"]: t for t in after["tasks"]}
    newly_overdue = [
        task_item(tasks_after.get(t["code"], t)) for t in after["overdue"] if t["code"] not in overdue_before
    ]
    blocked_before = {b["assignment"]: b for b in before["blocked"]}
    blocked_after = {b["assignment"]: b for b in after["blocked"]}
    newly_blocked = [b for pk, b in blocked_after.items() if pk not in blocked_before]
    unblocked = [b for pk, b in blocked_before.items() if pk not in blocked_after]
    forecasts_before = _forecasts(before)
    slipped = [
        {"kind": kind, "code": code, "before": forecasts_before[(kind, code)], "after": f}
        for (kind, code), f in _forecasts(after).items()
        if (kind, code) in forecasts_before and forecasts.slipped(forecasts_before[(kind, code)], f)
    ]
    targets_before = {t["code"]: t for t in before["targets"]}
    targets = [
        {"code": t["code"], "before": targets_before[t["code"]]["value"], "after": t["value"]}
        for t in after["targets"]
        if t["code"] in targets_before and targets_before[t["code"]]["value"] != t["value"]
    ]
    ranks_before = {r["province"]: r["rank"] for r in before["ranking"]}
    provinces = [
        {
            "province": r["province"],
            "name": r["name"],
            "rank_before": ranks_before[r["province"]],
            "rank_after": r["rank"],
        }
        for r in after["ranking"]
        if r["province"] in ranks_before and ranks_before[r["province"]] != r["rank"]
    ]
    done_before = {(u["task"], u["unit"]) for u in _pack_units_done(before)}
    units_completed = [
        {"task": u["task"], "unit": u["unit"], "level": u["level"], "completed_on": u["completed_on"]}
        for u in _pack_units_done(after)
        if (u["task"], u["unit"]) not in done_before and (task_codes is None or u["task"] in task_codes)
    ]
    commune_tasks = set(Task.objects.filter(level=Level.COMMUNE).values_list("code", flat=True))
    shares_before = _green_shares(before, commune_tasks)
    green_share = [
        {"task": code, "before": shares_before.get(code), "after": share}
        for code, share in sorted(_green_shares(after, commune_tasks).items())
        if shares_before.get(code) != share
    ]
    return {
        "meeting": meeting.pk,
        "since": since.pk,
        "date": after["date"],
        "since_date": before["date"],
        "completed": completed,
        "newly_overdue": newly_overdue,
        "newly_blocked": newly_blocked,
        "unblocked": unblocked,
        "forecast_slipped": slipped,
        "targets": targets,
        "provinces": sorted(provinces, key=lambda p: p["rank_after"]),
        "units_completed": units_completed,
        "green_share": green_share,
    }
