"""The dashboards' XLSX exports: the sheets of each page, built from the same selector data as the page and
written by the project's one export writer (plan02.exports, which neutralises formula-like text)."""

from typing import Any

from django.utils.translation import gettext as _

from dashboards.selectors import STATUS_KEYS, coverage, tasks_total
from plan02.exports import Sheet
from reports.figures import FIGURE_LABELS, INTEGER_FIELDS, received_total
from tasks.status import DisplayStatus


def figure_rows(*columns: dict[str, int]) -> list[tuple]:
    """(label, value in each column) for every figure: the day, and the period when given."""
    return [(FIGURE_LABELS[f], *(column[f] for column in columns)) for f in INTEGER_FIELDS]


def national_sheets(data: dict[str, Any]) -> list[Sheet]:
    figures = data["figures"]
    return [
        Sheet(
            _("Totals"),
            [_("Figure"), _("Day"), _("Last 30 days")],
            figure_rows(figures["totals"], data["period"]["totals"]),
            [data["coverage"]],
        ),
        Sheet(_("Completeness"), [_("Measure"), _("Value")], list(figures["completeness"].items())),
        Sheet(
            _("Not reported"),
            [_("Province"), _("Missing"), _("Late")],
            [(m["province"].name, m["missing"], m["late"]) for m in data["missing_provinces"]],
        ),
    ]


def _labels() -> list[str]:
    return [DisplayStatus(key).label for key in STATUS_KEYS]


def _counts(snapshot) -> list[int]:
    return [getattr(snapshot, k) for k in STATUS_KEYS]


def phases_sheets(data: dict[str, Any], *, notes=()) -> list[Sheet]:
    labels = _labels()
    return [
        Sheet(
            _("Phases"),
            [_("Phase"), _("Deadline"), _("Days left"), *labels, _("Forecast"), _("Risk"), _("Reason")],
            [
                (
                    p["phase"].name,
                    p["deadline"],
                    p["days_left"],
                    *p["tasks"].values(),
                    p["forecast"]["date"],
                    p["forecast"]["risk"],
                    p["forecast"]["reason"],
                )
                for p in data["phases"]
            ],
            notes,
        ),
        Sheet(
            _("By group"),
            [_("Phase"), _("Group"), *labels, _("Done (weighted)"), _("Tasks")],
            [(p["phase"].name, str(g), *_counts(s), s.done, s.tasks) for p in data["phases"] for g, s in p["groups"]],
            notes,
        ),
        Sheet(
            _("By lead agency"),
            [_("Phase"), _("Agency"), *labels, _("Forecast"), _("Risk"), _("Reason")],
            [
                (p["phase"].name, str(a), *_counts(s), f["date"], f["risk"], f["reason"])
                for p in data["phases"]
                for a, s, f in p["agencies"]
            ],
            notes,
        ),
        Sheet(
            _("By province"),
            [_("Phase"), _("Province"), *labels, _("Done (weighted)"), _("Tasks")],
            [
                (p["phase"].name, province.name if province else s.key, *_counts(s), s.done, s.tasks)
                for p in data["phases"]
                for province, s in p["provinces"]
            ],
            notes,
        ),
        Sheet(
            _("Tasks"),
            [
                _("Phase"),
                _("Code"),
                _("Task"),
                _("Status"),
                _("Assignments"),
                _("Completed"),
                _("Forecast"),
                _("Risk"),
                _("Reason"),
            ],
            [
                (
                    p["phase"].name,
                    t.code,
                    t.title,
                    DisplayStatus(s.status).label if s and s.status else "",
                    s.assignments if s else None,
                    s.green if s else None,
                    f["date"],
                    f["risk"],
                    f["reason"],
                )
                for p in data["phases"]
                for t, s, f in p["task_rows"]
            ],
            notes,
        ),
    ]


def provinces_sheets(data: dict[str, Any], *, notes=()) -> list[Sheet]:
    return [
        Sheet(
            _("Provinces"),
            [
                _("Rank"),
                _("Code"),
                _("Province"),
                _("Communes green on commune-level tasks"),
                _("Reports received"),
                _("Expected"),
                _("Late"),
                _("Received"),
                _("Fully online"),
            ],
            [
                (
                    i["rank"],
                    i["province"].code,
                    i["province"].name,
                    i["green_share"],
                    i["figures"]["completeness"]["received"],
                    i["figures"]["completeness"]["expected"],
                    i["figures"]["completeness"]["late"],
                    received_total(i["figures"]["totals"]),
                    i["figures"]["rates"]["fully_online"],
                )
                for i in data["items"]
            ],
            [data["coverage"], *notes],
        )
    ]


def province_sheets(data: dict[str, Any], *, notes=()) -> list[Sheet]:
    return [
        Sheet(
            _("Totals"), [_("Figure"), _("Value")], figure_rows(data["figures"]["totals"]), [coverage(data["row"], 1)]
        ),
        Sheet(
            _("Not reported"),
            [_("Code"), _("Name")],
            data["missing"],
            [_("%(n)s not reported") % {"n": data["missing_count"]}],
        ),
        Sheet(
            _("Commune-level tasks"),
            [_("Task"), _("Communes"), _("Green")],
            [(t.code if t else s.key, s.assignments, s.green) for t, s in data["per_task"]],
            notes,
        ),
    ]


def agencies_sheets(data: dict[str, Any], *, notes=()) -> list[Sheet]:
    return [
        Sheet(
            _("Agencies"),
            [_("Rank"), _("Agency"), _("Tasks led"), *_labels()],
            [(n, str(a), tasks_total(s), *_counts(s)) for n, (a, s) in enumerate(data["rows"], start=1)],
            notes,
        )
    ]


def agency_sheets(data: dict[str, Any], *, notes=()) -> list[Sheet]:
    agency = data["agency"]
    return [
        Sheet(
            _("Tasks led"),
            [_("Code"), _("Task"), _("Phase"), _("Deadline"), _("Status"), _("Assignments"), _("Completed")],
            [
                (
                    t.code,
                    t.title,
                    t.phase.name,
                    t.deadline,
                    DisplayStatus(s.status).label if s and s.status else "",
                    s.assignments if s else None,
                    s.green if s else None,
                )
                for t, s in data["rows"]
            ],
            [agency.name, *notes],
        )
    ]
