"""The plan's targets as data: loading them, measuring them as of a day, and entering measured values.

A computed target is a ratio of figures of the daily reports (MEASURES), summed from the rollups over its
period ending on the day; a missing denominator (nobody reported anything it counts) is a missing value,
never 0. An entered target takes the latest value its responsible agency entered, with evidence, before
the day ended. Per-province values for targets of each province; the national value for every target.
"""

import datetime
import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import events
from core.dates import end_of_day, parse_date
from core.validators import validate_web_link
from dashboards.models import NationDayRollup, ProvinceDayRollup, Target, TargetValue
from localities.models import Province
from reports import formspec
from reports.figures import INTEGER_FIELDS, ratio
from tasks.models import Agency
from tasks.roles import Scope

# An event of the changes feed and the webhooks (DESIGN.md §14), in the entry's transaction; scoped to the
# responsible agency and, for a province's value, to that province.
TARGET_VALUE_ENTERED = events.declare(
    "target.value_entered", gettext_lazy("A measured value of a target was entered by its responsible agency.")
)

TARGETS_FILE = Path(settings.BASE_DIR) / "fixtures" / "targets.json"
FIRST_REPORT_DAY = datetime.date(2025, 7, 1)


@dataclass(frozen=True)
class Measure:
    """A ratio of sums of figures: numerator / denominator."""

    numerator: tuple[str, ...]
    denominator: tuple[str, ...]


def _sum_of_figures(text: str, *, measure: str) -> tuple[str, ...]:
    """The figures of `a + b + …` (formspec's grammar, sums of figures of the default form's columns only)."""
    expression = formspec.parse_expression(text)
    if " + ".join(expression.names) != " ".join(expression.text.split()) or not set(expression.names) <= set(
        INTEGER_FIELDS
    ):
        raise ValueError(f"{TARGETS_FILE.name}: measure {measure}: {text!r} is no sum of the report's figures")
    return expression.names


def _load_measures(path: Path = TARGETS_FILE) -> dict[str, Measure]:
    """The computed targets' ratios, from fixtures/targets.json's `measures` (no figure is named in code)."""
    data = json.loads(Path(path).read_text(encoding="utf-8")).get("measures", {})
    return {
        code: Measure(
            _sum_of_figures(item["numerator"], measure=code), _sum_of_figures(item["denominator"], measure=code)
        )
        for code, item in data.items()
        if not code.startswith("_")
    }


MEASURES = _load_measures()


@functools.cache
def chart_targets(path: Path = TARGETS_FILE) -> dict[tuple[frozenset[str], frozenset[str]], float]:
    """{(numerator's series, denominator's series): value to reach} of the computed "at least" targets of the
    fixture: the line a dashboard's chart of the same rate draws (dashboards.formview.rate_target)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    found = {}
    for item in data.get("targets", []):
        measure = MEASURES.get(item.get("measure") or "")
        if measure is not None and item.get("comparison") == "at_least":
            found[(frozenset(measure.numerator), frozenset(measure.denominator))] = float(item["target_value"])
    return found


def period_start(target: Target, day: datetime.date) -> datetime.date:
    if target.period == Target.Period.DAY:
        return day
    if target.period == Target.Period.LAST_30_DAYS:
        return day - datetime.timedelta(days=29)
    return FIRST_REPORT_DAY


# --- loading ------------------------------------------------------------------------------------------------


@transaction.atomic
def targets_load(*, path: Path = TARGETS_FILE) -> int:
    """Create the targets of fixtures/targets.json that are missing (keyed on code); existing ones are kept
    as they are, since their wording and values are editable in the admin. Returns the number created."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    agencies = {a.code: a for a in Agency.objects.all()}
    created = 0
    for order, item in enumerate(data["targets"]):
        item = dict(item)
        if item.get("measure") and item["measure"] not in MEASURES:
            raise ValueError(f"{path.name}: target {item['code']}: unknown measure {item['measure']!r}")
        values = {
            **{k: v for k, v in item.items() if k not in {"agency", "deadline", "code"}},
            "deadline": parse_date(item["deadline"]),
            "agency": agencies[item["agency"]] if item.get("agency") else None,
            "order": order,
        }
        _target, was_created = Target.objects.get_or_create(code=item["code"], defaults=values)
        created += was_created
    return created


# --- measuring ----------------------------------------------------------------------------------------------


def _sums(
    queryset: QuerySet, targets: list[Target], day: datetime.date, *, by_province: bool
) -> dict[Any, dict[str, Any]]:
    """Sums of every figure the computed targets need, over each one's period, in one query."""
    aggregates = {}
    for target in targets:
        measure = MEASURES[target.measure]
        span = Q(date__range=(period_start(target, day), day))
        for field in {*measure.numerator, *measure.denominator}:
            aggregates[f"{target.code}__{field}"] = Sum(field, filter=span)
    if not aggregates:
        return {}
    if by_province:
        rows = queryset.values("province_id").annotate(**aggregates).order_by()
        return {row["province_id"]: row for row in rows}
    return {None: queryset.aggregate(**aggregates)}


def _ratio(target: Target, sums: dict[str, Any] | None) -> float | None:
    if not sums:
        return None
    measure = MEASURES[target.measure]
    numerator = sum(sums.get(f"{target.code}__{f}") or 0 for f in measure.numerator)
    denominator = sum(sums.get(f"{target.code}__{f}") or 0 for f in measure.denominator)
    return ratio(numerator, denominator)


def _entered(targets: list[Target], day: datetime.date) -> dict[tuple[int, str | None], TargetValue]:
    """The latest value of each (target, province or None) measured by `day` and entered before it ended."""
    rows = TargetValue.objects.filter(
        target__in=targets, measured_on__lte=day, entered_at__lt=end_of_day(day)
    ).order_by("target_id", "province_id", "measured_on", "entered_at", "id")
    latest: dict[tuple[int, str | None], TargetValue] = {}
    for row in rows:
        latest[(row.target_id, row.province_id)] = row  # ordered: the last one wins
    return latest


def target_values(day: datetime.date) -> list[dict[str, Any]]:
    """Every target as of the end of `day`: its national value (None when not measured), whether it is met,
    and for targets of each province every province's value. Five queries whatever the history."""
    targets = list(Target.objects.select_related("agency"))
    computed = [t for t in targets if t.method == Target.Method.COMPUTED]
    window = Q(date__range=(FIRST_REPORT_DAY, day))
    nation = _sums(NationDayRollup.objects.filter(window), computed, day, by_province=False)
    provincial = [t for t in computed if t.level == Target.Level.PROVINCE]
    by_province = _sums(ProvinceDayRollup.objects.filter(window), provincial, day, by_province=True)
    entered = _entered([t for t in targets if t.method == Target.Method.ENTERED], day)
    provinces = list(Province.objects.values_list("code", "name"))
    result = []
    for target in targets:
        if target.method == Target.Method.COMPUTED:
            value = _ratio(target, nation.get(None))
            evidence = None
            per_province = {code: _ratio(target, by_province.get(code)) for code, _n in provinces}
        else:
            row = entered.get((target.pk, None))
            value, evidence = (row.value, row) if row else (None, None)
            per_province = {
                code: (entered[(target.pk, code)].value if (target.pk, code) in entered else None)
                for code, _n in provinces
            }
        result.append(
            {
                "target": target,
                "value": value,
                "met": target.is_met(value),
                "entry": evidence,
                "provinces": [
                    {"province": code, "name": name, "value": v, "met": target.is_met(v)}
                    for code, name in provinces
                    for v in [per_province[code]]
                ]
                if target.level == Target.Level.PROVINCE
                else [],
            }
        )
    return result


def target_json(item: dict[str, Any], *, day: datetime.date, as_of: datetime.datetime) -> dict[str, Any]:
    """A target in the API (DESIGN.md §9): {"code", "target", "value", "met", "provinces", "as_of"}."""
    target = item["target"]
    return {
        "code": target.code,
        "title": target.title,
        "unit": target.unit,
        "target": target.target_value,
        "comparison": target.comparison,
        "deadline": target.deadline.isoformat(),
        "level": target.level,
        "method": target.method,
        "period": target.period or None,
        "date": day.isoformat(),
        "value": item["value"],
        "met": item["met"],
        "provinces": [{"province": p["province"], "value": p["value"], "met": p["met"]} for p in item["provinces"]],
        "as_of": timezone.localtime(as_of).isoformat(),
    }


# --- entering ---------------------------------------------------------------------------------------------------


def may_enter(scope: Scope, target: Target) -> bool:
    """An entered target's values come from its responsible agency's officers (or the national admin)."""
    if target.method != Target.Method.ENTERED or scope.is_api_client:
        return False
    return scope.is_admin or (scope.is_agency and scope.agency_id == target.agency_id)


def target_value_enter(
    *,
    target: Target,
    actor: Any,
    scope: Scope,
    value: Any,
    measured_on: Any,
    evidence_url: str = "",
    note: str = "",
    province: str | None = None,
) -> TargetValue:
    """Record a measured value of an entered target, with its evidence. Raises PermissionDenied, or
    ValidationError naming each bad field."""
    if not may_enter(scope, target):
        raise PermissionDenied(_("Only the responsible agency enters this target's values."))
    errors: dict[str, list[ValidationError]] = {}

    def add(field: str, message: str, code: str) -> None:
        errors.setdefault(field, []).append(ValidationError(message, code=code))

    number = None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        add("value", _("Give the measured value as a number."), "invalid")
    else:
        try:
            number = float(value)
        except ValueError:
            add("value", _("Give the measured value as a number."), "invalid")
        else:
            if not (number == number and abs(number) < 1e12):  # NaN, infinities, absurd sizes
                add("value", _("Give the measured value as a number."), "invalid")
            elif number < 0:
                add("value", _("Must be 0 or more."), "negative")
    day = None
    try:
        day = parse_date(measured_on)
    except ValueError as exc:
        add("measured_on", str(exc), "invalid_date")
    else:
        if day > timezone.localdate():
            add("measured_on", _("The measurement date cannot be in the future."), "future")
    evidence_url = (evidence_url or "").strip()
    if not evidence_url:
        add("evidence_url", _("Give the link to the evidence of this value."), "required")
    else:
        try:
            validate_web_link(evidence_url)
        except ValidationError as exc:
            errors.setdefault("evidence_url", []).append(exc)
    if province and target.level != Target.Level.PROVINCE:
        add("province", _("This target has a national value only."), "invalid")
    elif province and not Province.objects.filter(code=province).exists():
        add("province", _("Unknown province code."), "unknown_locality")
    if len(note or "") > 2000:
        add("note", _("At most %(max)s characters.") % {"max": 2000}, "max_length")
    if errors or number is None or day is None:
        raise ValidationError(errors)
    with transaction.atomic():
        entered = TargetValue.objects.create(
            target=target,
            province_id=province or None,
            value=number,
            measured_on=day,
            evidence_url=evidence_url,
            note=(note or "").strip(),
            entered_by=actor,
            entered_at=timezone.now(),
        )
        events.emit(
            TARGET_VALUE_ENTERED,
            subject="target_value",
            subject_id=entered.pk,
            payload={
                "target": target.code,
                "value": number,
                "measured_on": day.isoformat(),
                "province": province or None,
                "evidence_url": evidence_url,
            },
            province=province or "",
            agency=target.agency.code if target.agency is not None else "",
            actor=actor.get_username(),
        )
    return entered
