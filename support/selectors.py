"""Reads of the operations desk: the scoped incident list (one query a page with its joins), an incident's
thread, the teams with their load, and the live board's counts (a fixed number of queries)."""

import datetime
import re
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from localities.models import Province
from support.models import ACTIVE_STATES, Incident, IncidentCategory, IncidentEvent, Severity, Team, breached_q
from tasks.roles import Scope


def incident_list(*, scope: Scope) -> QuerySet:
    """The incidents the scope may see, newest first, with what a line needs."""
    return (
        Incident.objects.visible_to(scope)
        .select_related("category", "province", "commune", "reported_by", "team", "assignee")
        .order_by("-created_at", "-id")
    )


def incident_detail(*, scope: Scope) -> QuerySet:
    """As the list, plus the thread, the files and the vendors told (three more queries)."""
    return incident_list(scope=scope).prefetch_related(
        Prefetch(
            "events", queryset=IncidentEvent.objects.select_related("actor", "team", "assignee").order_by("at", "id")
        ),
        "attachments",
        "vendor_notices",
    )


def team_list(*, scope: Scope) -> QuerySet:
    """The teams the scope may see, with their members, skills and load (active incidents held)."""
    return (
        Team.objects.visible_to(scope)
        .select_related("province")
        .prefetch_related("members", "skills")
        .annotate(load=Count("incidents", filter=Q(incidents__state__in=ACTIVE_STATES)))
        .order_by("province_id", "name")
    )


def board(*, scope: Scope, province: Province | None = None, now: datetime.datetime | None = None) -> dict[str, Any]:
    """The live board (DESIGN.md §12): open incidents by severity, those past their times, counts by category,
    system and province, and this week's trend by category. Four queries."""
    now = now or timezone.now()
    incidents = Incident.objects.visible_to(scope)
    if province is not None:
        incidents = incidents.filter(province=province)
    active = incidents.filter(state__in=ACTIVE_STATES)
    by_severity = dict(active.values_list("severity").annotate(n=Count("pk")).order_by())
    breached = active.filter(breached_q(now))
    per_province = {
        code: (n, late)
        for code, n, late in active.values_list("province_id")
        .annotate(n=Count("pk"), late=Count("pk", filter=breached_q(now)))
        .values_list("province_id", "n", "late")
        .order_by()
    }
    names = dict(Province.objects.filter(pk__in=list(per_province)).values_list("pk", "name"))
    by_category = dict(active.values_list("category_id").annotate(n=Count("pk")).order_by())
    week = now - datetime.timedelta(days=7)
    trend = dict(incidents.filter(created_at__gte=week).values_list("category_id").annotate(n=Count("pk")).order_by())
    by_system = dict(active.exclude(system="").values_list("system").annotate(n=Count("pk")).order_by())
    return {
        "open": {severity: by_severity.get(severity, 0) for severity in Severity.values},
        "breached": breached.count(),
        "by_category": {code: by_category[code] for code in _category_order() if code in by_category},
        "by_system": by_system,
        "by_province": [
            {"province": code, "name": names.get(code, ""), "open": n, "breached": late}
            for code, (n, late) in sorted(per_province.items(), key=lambda item: (-item[1][1], -item[1][0], item[0]))
        ],
        "this_week": {code: trend[code] for code in _category_order() if code in trend},
        "as_of": timezone.localtime(now).isoformat(),
    }


def _category_order() -> list[str]:
    return list(IncidentCategory.objects.values_list("pk", flat=True))


def board_incidents(
    *, scope: Scope, province: Province | None = None, now: datetime.datetime | None = None, limit: int = 50
) -> list[Incident]:
    """The active incidents for the wall: those past their times first, then by severity, oldest first."""
    now = now or timezone.now()
    rows = incident_list(scope=scope).filter(state__in=ACTIVE_STATES)
    if province is not None:
        rows = rows.filter(province=province)
    order = {Severity.BLOCKING: 0, Severity.DEGRADED: 1, Severity.QUESTION: 2}
    found = list(rows.order_by("created_at")[:500])
    found.sort(key=lambda i: (not i.is_breached(now), order.get(i.severity, 3), i.created_at))
    return found[:limit]


def whom_to_call(*, scope: Scope) -> dict[str, Any]:
    """For a province's or a commune's users: the province's desk (its officers), the accountable heads and
    focal points of the province (and of the commune), and the systems' vendors (national, and the province's
    own). Three queries; empty for the other roles."""
    from alerts.models import Contact
    from tasks.models import Membership

    province = scope.province_id or scope.commune_province_id
    if not province or scope.is_api_client:
        return {"desk": [], "contacts": [], "vendors": []}
    desk = list(
        Membership.objects.filter(role="province_officer", province_id=province, user__is_active=True)
        .select_related("user")
        .order_by("user__username")
    )
    contacts = list(
        Contact.objects.filter(Q(province_id=province) | Q(commune_id=scope.commune_id or "-"))
        .select_related("province", "commune")
        .order_by("commune_id", "role", "name")
    )
    # The systems' owners or vendors: the province's own deployments' and the national ones (in the same query).
    vendors = list(
        Contact.objects.filter(role=Contact.Role.VENDOR, commune__isnull=True)
        .filter(Q(province__isnull=True) | Q(province_id=province))
        .order_by("system", "province_id", "name")
    )
    units = [c for c in contacts if c.role != Contact.Role.VENDOR]
    return {"desk": [m.user for m in desk], "contacts": units, "vendors": vendors}


# --- a province's communes ranked (§12: the province's tools) ---------------------------------------------------

RANK_KEYS = ("reporting", "fully_online", "on_time", "green")
# The ranking's keys that are rates of the report form (their codes in reports/fixtures/default_form.json, the
# ranking's public fields): computed from the expressions of the version in force, never from figure names.
_RATE_KEYS = ("fully_online", "on_time")
RANK_DAYS = (7, 30, 90)


class RankingRefused(Exception):
    """`code`: "forbidden" (403: not a role that ranks communes), "not_found" (404: another province's, or no
    such province), "invalid" (400: `field` names the bad parameter, `message` says what it takes)."""

    def __init__(self, code: str, field: str = "", message: str = "") -> None:
        super().__init__(message or code)
        self.code, self.field, self.message = code, field, message


def ranking_parameters(*, scope: Scope, province: str, days: str, sort: str) -> tuple[Province | None, int, str]:
    """The page's and the API's query, checked once: (province or None — a read-all role yet to pick one —,
    days, sort). A province officer ranks its own province; the read-all roles any; others are refused."""
    from django.utils.translation import gettext as _

    code = province or ""
    if scope.is_api_client:  # a key sends reports; it reads no page of the desk
        raise RankingRefused("forbidden")
    if scope.is_province:
        code = code or scope.province_id or ""
        if code != scope.province_id:
            raise RankingRefused("not_found")
    elif not scope.reads_all:
        raise RankingRefused("forbidden")
    found = Province.objects.filter(pk=code).first() if code else None
    if code and found is None:
        raise RankingRefused("not_found")
    text = days or "30"
    period = int(text) if re.fullmatch(r"[0-9]{1,3}", text) else 0
    if period not in RANK_DAYS:
        raise RankingRefused("invalid", "days", _("One of %(choices)s.") % {"choices": ", ".join(map(str, RANK_DAYS))})
    order = sort or RANK_KEYS[0]
    if order not in RANK_KEYS:
        raise RankingRefused("invalid", "sort", _("One of %(choices)s.") % {"choices": ", ".join(RANK_KEYS)})
    return found, period, order


def _share(part: int | None, whole: int | None) -> float | None:
    return (part or 0) / whole if whole else None


def commune_ranking(*, province: Province, end: datetime.date, days: int, sort: str) -> list[dict[str, Any]]:
    """The province's communes over the `days` days ending `end`, ranked best first by `sort` (RANK_KEYS; None
    last): reporting on time (days with a report received before its due time / days), the fully-online share
    and the on-time share of dossiers resolved (§5's rates, over the period's sums), and the commune-level tasks
    green (completed / assigned, today). Three queries whatever the number of communes."""
    from django.db.models import Sum

    from localities.models import Commune
    from reports import formspec
    from reports.models import DailyReport
    from reports.selectors import stored_expression
    from tasks.models import Assignment

    start = end - datetime.timedelta(days=days - 1)
    communes = list(Commune.objects.filter(province=province).order_by("code").values_list("code", "name"))
    # The shares are the rates of the form version in force on the last day, each a sum of its numerator over a
    # sum of its denominator across the period (a kept indicator reads its series, whatever its name in a day's
    # version); a rate the version lacks is None for every commune.
    spec = formspec.spec_for_day(end)
    rates = {r.code: r for r in spec.rates if r.denominator is not None and r.code in _RATE_KEYS}
    sums = {}
    for code, rate in rates.items():
        assert rate.denominator is not None
        sums[f"rate_{code}_top"] = Sum(stored_expression(spec, rate.numerator))
        sums[f"rate_{code}_bottom"] = Sum(stored_expression(spec, rate.denominator))
    reports = {
        row["locality"]: row
        for row in DailyReport.objects.filter(province_id=province.pk, commune__isnull=False, date__range=(start, end))
        .values("locality")
        .annotate(on_time=Count("pk", filter=Q(late=False)), **sums)
        .order_by()
    }
    tasks = {
        row["commune_id"]: row
        for row in Assignment.objects.filter(commune__province=province)
        .values("commune_id")
        .annotate(total=Count("pk"), green=Count("pk", filter=Q(status="completed")))
        .order_by()
    }
    rows = []
    for code, name in communes:
        report = reports.get(code, {})
        task = tasks.get(code, {})
        rows.append(
            {
                "commune": code,
                "name": name,
                "days": days,
                "reported_on_time": report.get("on_time", 0),
                "reporting": _share(report.get("on_time", 0), days),
                **{c: _share(report.get(f"rate_{c}_top"), report.get(f"rate_{c}_bottom")) for c in _RATE_KEYS},
                "tasks": task.get("total", 0),
                "tasks_green": task.get("green", 0),
                "green": _share(task.get("green", 0), task.get("total", 0)),
            }
        )
    key = sort if sort in RANK_KEYS else RANK_KEYS[0]
    # Best first, None last, then by code: a stable order for equal figures.
    rows.sort(key=lambda r: (r[key] is None, -(r[key] or 0), r["commune"]))
    return [{**row, "rank": n} for n, row in enumerate(rows, start=1)]
