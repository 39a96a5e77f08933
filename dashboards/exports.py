"""The dashboards' XLSX exports: the sheets of each page, built from the same selector data as the page and
written by the project's one export writer (core.exports, which neutralises formula-like text)."""

from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core.exports import Sheet
from dashboards.forecasts import KIND_LABELS, RISK_LABELS
from dashboards.selectors import STATUS_KEYS, tasks_total
from dashboards.templatetags.dashboard_tags import coverage_line
from tasks.selectors import DEMO_NOTE
from tasks.status import DisplayStatus


def data_suffix(data: str) -> str:
    """The export's file name says when its figures are the approved reports' only."""
    return "-approved" if data == "approved" else ""


def national_sheets(data: dict[str, Any]) -> list[Sheet]:
    figures = data["figures"]
    return [
        Sheet(
            _("Totals"),
            [_("Figure"), _("Day"), _("Last 30 days")],
            data["figure_rows"],
            [coverage_line(data["coverage"])],
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
                *data["measure_titles"],
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
                    *(m.value for m in i["measures"]),
                )
                for i in data["items"]
            ],
            [coverage_line(data["coverage"]), *notes],
        )
    ]


def province_sheets(data: dict[str, Any], *, notes=()) -> list[Sheet]:
    return [
        Sheet(
            _("Totals"),
            [_("Figure"), _("Value")],
            data["figure_rows"],
            [coverage_line(data["coverage"])],
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


# --- the steering pack ----------------------------------------------------------------------------------------


def _language() -> str:
    return "en" if (get_language() or "vi")[:2] == "en" else "vi"


def _text(value: Any) -> Any:
    """A frozen {"vi", "en"} text in the reader's language (or the value itself)."""
    return value.get(_language(), value.get("vi")) if isinstance(value, dict) else value


def targets_sheets(data: dict[str, Any]) -> list[Sheet]:
    rows = []
    for item in data["items"]:
        t = item["target"]
        rows.append(
            [
                t.code,
                t.title,
                t.unit,
                t.get_comparison_display(),
                t.target_value,
                t.deadline,
                t.get_method_display(),
                item["value"],
                _met(item["met"]),
            ]
        )
    provinces = [
        [item["target"].code, p["province"], p["name"], p["value"], _met(p["met"])]
        for item in data["items"]
        for p in item["provinces"]
    ]
    note = [_("As of the end of %(day)s; an empty value was not measured.") % {"day": data["day"]}]
    return [
        Sheet(
            _("Targets"),
            [
                _("Code"),
                _("Target"),
                _("Unit"),
                "",
                _("Value to reach"),
                _("Deadline"),
                _("Measured"),
                _("Value"),
                _("Met"),
            ],
            rows,
            note,
        ),
        Sheet(_("By province"), [_("Target"), _("Code"), _("Province"), _("Value"), _("Met")], provinces, note),
    ]


def _met(met: bool | None) -> str:
    return "" if met is None else (_("yes") if met else _("no"))


def view_note(working_group: Any) -> list[str]:
    """The note of an export of a working group's view (tasks.working_groups); none for every group's."""
    if working_group is None:
        return []
    return [
        _("Working group %(number)s's view (%(name)s): the lists keep the tasks of the task groups it follows.")
        % {"number": working_group.number, "name": working_group.name}
    ]


def meeting_sheets(meeting: Any, *, content: dict[str, Any] | None = None, working_group: Any = None) -> list[Sheet]:
    """The pack's sheets; `content` is the pack as a working group's view shows it (dashboards.meetings.pack_view)."""
    c = meeting.content if content is None else content
    notes = [f"{meeting.title} — {_('as of the end of %(day)s') % {'day': meeting.date}}", *view_note(working_group)]
    if c.get("catalogue") == "demo":
        notes.append(str(DEMO_NOTE))
    labels = _labels()
    return [
        Sheet(
            _("Phases"),
            [
                _("Phase"),
                _("Deadline"),
                _("Days left"),
                *labels,
                _("Done (weighted)"),
                _("Tasks"),
                _("Forecast"),
                _("Risk"),
                _("Reason"),
            ],
            [
                [
                    _text(p["name"]),
                    p["deadline"],
                    p["days_left"],
                    *[p["tasks"][k] for k in STATUS_KEYS],
                    p["done"],
                    p["total"],
                    p["forecast"]["date"],
                    p["forecast"]["risk"],
                    _text(p["forecast"]["reason"]),
                ]
                for p in c["phases"]
            ],
            notes,
        ),
        Sheet(
            _("Targets"),
            [_("Code"), _("Target"), _("Value to reach"), _("Value"), _("Met")],
            [[t["code"], _text(t["title"]), t["target"], t["value"], _met(t["met"])] for t in c["targets"]],
            notes,
        ),
        Sheet(
            _("Province ranking"),
            [
                _("Rank"),
                _("Code"),
                _("Province"),
                _("Communes green on commune-level tasks"),
                _("Reporting completeness"),
            ],
            [[r["rank"], r["province"], r["name"], r["green_share"], r["completeness_share"]] for r in c["ranking"]],
            notes,
        ),
        Sheet(
            _("Overdue tasks"),
            [
                _("Code"),
                _("Task"),
                _("Lead agency"),
                _("Deadline"),
                _("Overdue assignments"),
                _("Completed"),
                _("Assignments"),
            ],
            [
                [
                    t["code"],
                    _text(t["title"]),
                    t["lead_agency"],
                    t["deadline"],
                    t["overdue"],
                    t["green"],
                    t["assignments"],
                ]
                for t in c["overdue"]
            ],
            notes,
        ),
        Sheet(
            _("Blocked"),
            [
                _("Task"),
                _("Unit"),
                _("Name"),
                _("Province"),
                _("Blocked by"),
                _("Since"),
                _("Days waiting"),
                _("Reason"),
            ],
            [
                [
                    b["task"],
                    b["unit"],
                    b["unit_name"],
                    b["province"],
                    b["blocked_by"],
                    b["since"],
                    b["days"],
                    b["reason"],
                ]
                for b in c["blocked"]
            ],
            notes,
        ),
        Sheet(
            _("Not reporting"),
            [_("Province"), _("Name"), _("Missing"), _("Province's own report missing"), _("Communes")],
            [
                [
                    p["province"],
                    p["name"],
                    p["missing"],
                    _met(p["province_missing"]),
                    "; ".join(x["code"] for x in p["communes"]),
                ]
                for p in c["not_reporting"]["provinces"]
            ],
            notes,
        ),
        *(
            [
                Sheet(
                    _("Approved"),
                    [
                        _("Province"),
                        _("Name"),
                        _("Received"),
                        _("Approved"),
                        _("Reports approved (locality: revision)"),
                    ],
                    [
                        [
                            p["province"],
                            p["name"],
                            p["received"],
                            p["approved"],
                            "; ".join(f"{code}: {revision}" for code, revision in sorted(p["reports"].items())),
                        ]
                        for p in c["approvals"]["provinces"]
                    ],
                    notes,
                )
            ]
            if "approvals" in c  # packs frozen before the approvals were recorded
            else []
        ),
        *(
            [
                Sheet(
                    _("Figures"),
                    [_("Code"), _("Figure"), _("Value")],
                    [[f["code"], _text(f["label"]), f["value"]] for f in c["figures"]]
                    + [[r["code"], _text(r["label"]), r["value"]] for r in c["rates"]],
                    [*notes, _form_note(c["form"])],
                )
            ]
            if "figures" in c  # packs frozen before the form's figures were recorded
            else []
        ),
    ]


def _form_note(form: dict[str, Any]) -> str:
    return _("Report form %(code)s, version %(version)s (%(status)s), in force from %(day)s") % {
        "code": form["code"],
        "version": form["version"],
        "status": form["status"],
        "day": form["effective_from"],
    }


def _status_label(key: str) -> str:
    return str(DisplayStatus(key).label) if key in DisplayStatus.values else key


def changes_sheets(changes: dict[str, Any], *, meeting: Any, since: Any, working_group: Any = None) -> list[Sheet]:
    notes = [_("%(after)s compared with %(before)s") % {"after": meeting, "before": since}, *view_note(working_group)]

    def tasks(key: str) -> list[list[Any]]:
        return [[t["task"], _text(t["title"]), _status_label(t["status"])] for t in changes[key]]

    def blocked(key: str) -> list[list[Any]]:
        return [[b["task"], b["unit"], b["unit_name"], b["blocked_by"], b["since"]] for b in changes[key]]

    return [
        Sheet(_("Completed"), [_("Task"), _("Title"), _("Status")], tasks("completed"), notes),
        Sheet(_("Newly overdue"), [_("Task"), _("Title"), _("Status")], tasks("newly_overdue"), notes),
        Sheet(
            _("Newly blocked"),
            [_("Task"), _("Unit"), _("Name"), _("Blocked by"), _("Since")],
            blocked("newly_blocked"),
            notes,
        ),
        Sheet(
            _("Unblocked"), [_("Task"), _("Unit"), _("Name"), _("Blocked by"), _("Since")], blocked("unblocked"), notes
        ),
        Sheet(
            _("Forecasts slipped"),
            [_("Kind"), _("Code"), _("Before"), _("After")],
            [
                [
                    str(KIND_LABELS.get(f["kind"], f["kind"])),
                    f["code"],
                    f"{RISK_LABELS.get(f['before']['risk'], f['before']['risk'])} {f['before']['date'] or ''}",
                    f"{RISK_LABELS.get(f['after']['risk'], f['after']['risk'])} {f['after']['date'] or ''}",
                ]
                for f in changes["forecast_slipped"]
            ],
            notes,
        ),
        Sheet(
            _("Targets"),
            [_("Code"), _("Before"), _("After")],
            [[t["code"], t["before"], t["after"]] for t in changes["targets"]],
            notes,
        ),
        Sheet(
            _("Provinces"),
            [_("Province"), _("Name"), _("Rank before"), _("Rank after")],
            [[p["province"], p["name"], p["rank_before"], p["rank_after"]] for p in changes["provinces"]],
            notes,
        ),
        Sheet(
            _("Units completed"),
            [_("Task"), _("Level"), _("Unit"), _("Completed on")],
            [[u["task"], u["level"], u["unit"], u["completed_on"]] for u in changes["units_completed"]],
            notes,
        ),
        Sheet(
            _("Green communes"),
            [_("Task"), _("Before"), _("After")],
            [[g["task"], g["before"], g["after"]] for g in changes["green_share"]],
            notes,
        ),
    ]
