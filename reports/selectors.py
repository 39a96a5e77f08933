"""Reads of daily reports, always through the caller's scope (tasks.scoping)."""

from django.db.models import Prefetch
from django.utils import timezone

from localities.models import Commune, Province
from reports.models import DailyReport, ReportRevision
from reports.services import due_at
from tasks.models import Role
from tasks.scoping import localities_q


def reports_visible(scope, queryset=None):
    """The reports the scope may see: all for read-all roles, a province's and its communes', a commune's."""
    qs = DailyReport.objects.all() if queryset is None else queryset
    return qs.filter(localities_q(scope))


def report_detail_queryset(scope):
    """Reports with their revisions (and each revision's author and client) in one more query."""
    revisions = ReportRevision.objects.select_related("author", "client").order_by("number")
    return reports_visible(scope).prefetch_related(Prefetch("revisions", queryset=revisions))


def _localities_in_scope(scope, province_id=None):
    """(provinces, communes, whether the provinces' own reports are in scope) as querysets."""
    if scope.reads_all:
        provinces, communes, own = Province.objects.all(), Commune.objects.all(), True
    elif scope.role == Role.PROVINCE_OFFICER:
        provinces = Province.objects.filter(code=scope.province_id)
        communes = Commune.objects.filter(province_id=scope.province_id)
        own = True
    elif scope.role == Role.COMMUNE_CLERK:
        provinces = Province.objects.filter(code=scope.commune_province_id)
        communes = Commune.objects.filter(code=scope.commune_id)
        own = False
    else:
        provinces, communes, own = Province.objects.none(), Commune.objects.none(), False
    if province_id:
        provinces = provinces.filter(code=province_id)
        communes = communes.filter(province_id=province_id)
    return provinces, communes, own


def report_completeness(*, scope, day, province_id=None):
    """Who reported for `day`, by province: expected (the province's communes, plus 1 for the province's own
    report), received, on time, late, missing, the missing communes and whether the province itself
    reported; and the totals over the provinces shown. Three queries whatever the scope.

    Only what the scope may see is counted: a province officer sees its province, a commune clerk its own
    commune (expected 1), steering, inspectors and the admin the whole country.
    """
    provinces, communes, own = _localities_in_scope(scope, province_id)
    blocks = {}
    for code, name in provinces.order_by("code").values_list("code", "name"):
        blocks[code] = {
            "province": code,
            "name": name,
            "expected": 1 if own else 0,
            "received": 0,
            "on_time": 0,
            "late": 0,
            "missing": 0,
            "province_reported": False if own else None,
            "missing_communes": [],
        }
    commune_rows = list(communes.order_by("code").values_list("code", "name", "province_id"))
    reports = reports_visible(scope).filter(date=day)
    if province_id:
        reports = reports.filter(province_id=province_id)
    received = {}
    for locality, province, commune, late in reports.values_list("locality", "province_id", "commune_id", "late"):
        block = blocks.get(province)
        if block is None:
            continue
        received[locality] = late
        block["received"] += 1
        block["late" if late else "on_time"] += 1
        if commune is None:
            block["province_reported"] = True
    for code, name, province in commune_rows:
        block = blocks.get(province)
        if block is None:
            continue
        block["expected"] += 1
        if code not in received:
            block["missing_communes"].append({"code": code, "name": name})
    totals = dict.fromkeys(["expected", "received", "on_time", "late", "missing"], 0)
    for block in blocks.values():
        block["missing"] = block["expected"] - block["received"]
        for name in totals:
            totals[name] += block[name]
    return {
        "date": day.isoformat(),
        "due_at": timezone.localtime(due_at(day)).isoformat(),
        "as_of": timezone.localtime().isoformat(),
        "totals": totals,
        "provinces": list(blocks.values()),
    }


def province_day_status(*, scope, province_id, day):
    """For the province page: the province itself and each of its communes, with its report of `day` (or
    None) and whether a lock exception exists. Three queries."""
    from reports.models import LockException

    communes = list(Commune.objects.filter(province_id=province_id).order_by("code").values_list("code", "name"))
    province = Province.objects.filter(code=province_id).values_list("code", "name").first()
    reports = {
        r.locality: r
        for r in reports_visible(scope)
        .filter(province_id=province_id, date=day)
        .only("locality", "date", "late", "receipt", "revision", "received_at", "province_id", "commune_id")
    }
    exceptions = set(
        LockException.objects.filter(date=day, locality__in=[province_id, *[c for c, _n in communes]]).values_list(
            "locality", flat=True
        )
    )
    rows = [(province[0], province[1], True)] if province else []
    rows += [(code, name, False) for code, name in communes]
    return [
        {
            "code": code,
            "name": name,
            "is_province": is_province,
            "report": reports.get(code),
            "exception": code in exceptions,
        }
        for code, name, is_province in rows
    ]
