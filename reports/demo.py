"""Realistic demo daily reports for every commune and province, for `manage.py seed_demo`.

Distributions follow DOMAIN.md's public figures: about 26 dossiers a day per commune service centre on a
weekday (4.3 M nationwide in the first 50 days), an online share rising from ~72% to ~83% over the first year,
resolution mostly early or on time with ~1% late, about 3% of reports missing and 4% late on a given day,
occasional outages and difficulties. Deterministic for a given seed.

PostgreSQL gets the rows through COPY; SQLite through executemany. Revisions (revision 1 of each report) are
derived from the inserted rows with one INSERT … SELECT.
"""

import datetime
import json
import math
import random
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction

from localities.models import Commune, Province
from reports import formspec
from reports.figures import CHOICES_FIELD, INTEGER_FIELDS, OUTAGE_SYSTEM_CODES, TEXT_FIELDS, YES_NO_FIELDS
from reports.receipts import payload_hash, receipt_for
from reports.services import CONTENT_FIELDS, storage_of
from tasks.demo import demo_data_check, demo_history_actor

TZ = ZoneInfo(settings.TIME_ZONE)
PLAN_START = datetime.date(2025, 7, 1)
DIFFICULTIES = [
    "Đường truyền Internet chập chờn, hệ thống giải quyết TTHC chậm vào buổi sáng.",
    "Chưa đồng bộ dữ liệu hộ tịch với Cơ sở dữ liệu quốc gia về dân cư.",
    "Thiếu máy scan để số hóa hồ sơ tại bộ phận một cửa.",
    "Một số công chức chưa được cấp chữ ký số.",
    "Người dân cao tuổi gặp khó khăn khi nộp hồ sơ trực tuyến.",
]
PROPOSALS = [
    "Đề nghị tỉnh hỗ trợ nâng cấp đường truyền.",
    "Đề nghị bổ sung thiết bị số hóa.",
    "Đề nghị tập huấn thêm cho công chức một cửa.",
]
REPORT_COLUMNS = [
    *INTEGER_FIELDS,
    "form_version_id",
    "extra",
    "locality",
    "province_id",
    "commune_id",
    "slot",
    "date",
    CHOICES_FIELD,
    *TEXT_FIELDS,
    *YES_NO_FIELDS,
    "receipt",
    "payload_hash",
    "revision",
    "late",
    "received_at",
    "updated_at",
]


class Unit:
    """A reporting locality with its stable traits (size, staff, reliability)."""

    __slots__ = (
        "code",
        "commune_id",
        "lateness",
        "province_id",
        "reliability",
        "scale",
        "signature_share",
        "slot",
        "staff",
    )

    def __init__(self, rng, code, province_id, commune_id, slot, scale):
        self.code, self.province_id, self.commune_id, self.slot = code, province_id, commune_id, slot
        self.scale = scale * rng.lognormvariate(0, 0.55)
        self.staff = max(3, int(rng.gauss(9 if commune_id else 30, 3 if commune_id else 8)))
        self.signature_share = rng.uniform(0.7, 1.0)
        self.reliability = rng.choice((0.995, 0.99, 0.98, 0.97, 0.93))
        self.lateness = rng.choice((0.01, 0.02, 0.04, 0.06, 0.12))


def units(rng):
    result = [Unit(rng, p, p, None, None, 4.0) for p in Province.objects.values_list("code", flat=True)]
    communes = Commune.objects.values_list("code", "province_id", "slot")
    result += [Unit(rng, c, p, c, slot, 1.0) for c, p, slot in communes]
    return result


def _n(rng, mean):
    """A non-negative count around `mean` (normal approximation of a Poisson)."""
    if mean <= 0:
        return 0
    return max(0, int(rng.gauss(mean, math.sqrt(mean)) + 0.5))


def _default_series(rng, unit, day):
    """One day's values of the default form's series (the report's storage, DESIGN.md §5), satisfying its
    rules: the realistic profile of the demo. A version of the form reads them through its indicators' series
    (a renamed indicator gets its series' value; report_payload)."""
    weekday = day.weekday()
    activity = (1.0, 1.0, 1.0, 1.0, 0.95, 0.35, 0.08)[weekday]
    age = min(1.0, max(0, (day - PLAN_START).days) / 365)
    online_share = min(0.97, max(0.3, rng.gauss(0.72 + 0.11 * age, 0.06)))
    total = _n(rng, 26 * unit.scale * activity)
    online = min(total, int(total * online_share + 0.5))
    postal = min(total - online, _n(rng, total * 0.01))
    direct = total - online - postal
    fully_online = min(online, int(online * rng.uniform(0.82, 0.97) + 0.5))
    resolved = _n(rng, total * 0.96)
    late = _n(rng, resolved * 0.01)
    early = int((resolved - late) * rng.uniform(0.25, 0.4))
    on_time = resolved - late - early
    staff_present = unit.staff - (_n(rng, 0.6) if weekday < 5 else _n(rng, unit.staff * 0.7))
    documents = _n(rng, 12 * unit.scale * activity)
    outage = rng.random() < 0.04
    trouble = rng.random() < 0.03
    figures = {
        "received_online": online,
        "received_direct": direct,
        "received_postal": postal,
        "received_fully_online": fully_online,
        "resolved_early": early,
        "resolved_on_time": on_time,
        "resolved_late": late,
        "returned": _n(rng, total * 0.01),
        "pending_within_deadline": _n(rng, total * 2.2),
        "pending_overdue": _n(rng, total * 0.006),
        "online_payments": _n(rng, online * 0.4),
        "digitized_dossiers": min(total, _n(rng, total * 0.9)),
        "e_results_issued": min(resolved, _n(rng, resolved * 0.7)),
        "staff_assigned": unit.staff,
        "staff_present": max(0, staff_present),
        "staff_with_digital_signature": int(unit.staff * min(1.0, unit.signature_share + age * 0.2)),
        "documents_issued": documents,
        "documents_e_signed": min(documents, int(documents * rng.uniform(0.85, 1.0))),
        "outage_minutes": rng.randint(10, 240) if outage else 0,
    }
    return {
        **figures,
        "outage_systems": sorted(rng.sample(OUTAGE_SYSTEM_CODES, rng.randint(1, 2))) if outage else [],
        "difficulties": rng.choice(DIFFICULTIES) if trouble else "",
        "proposals": rng.choice(PROPOSALS) if trouble and rng.random() < 0.6 else "",
        "support_needed": trouble and rng.random() < 0.5,
    }


def _generic(rng, unit, day, indicator):
    """A value of an indicator the default form does not have (a later version's own), from its type and
    bounds: a count of the size of a fifth of the unit's dossiers (a stock: twice them), a rare yes, a choice."""
    if indicator.type == formspec.INTEGER:
        activity = (1.0, 1.0, 1.0, 1.0, 0.95, 0.35, 0.08)[day.weekday()]
        mean = 26 * unit.scale * (2.0 if indicator.aggregation == formspec.STOCK else 0.2 * activity)
        low = indicator.minimum or 0
        high = indicator.maximum if indicator.maximum is not None else formspec.INTEGER_MAX
        return min(high, max(low, _n(rng, mean)))
    if indicator.type == formspec.YES_NO:
        return rng.random() < 0.05
    codes = list(indicator.choice_codes)
    if indicator.type == formspec.CHOICE:
        return rng.choice(codes) if codes and (indicator.required or rng.random() < 0.1) else ""
    if indicator.type == formspec.CHOICES:
        return sorted(rng.sample(codes, 1)) if codes and (indicator.required or rng.random() < 0.05) else []
    return "—" if indicator.required else ""


def _holds(rule, values):
    left, right = rule.left.value(values), rule.right.value(values)
    if left is None or right is None:
        return True
    return {"<=": left <= right, ">=": left >= right, "=": left == right}[rule.op]


def report_payload(rng, unit, day, spec=None):
    """One day's report of one unit in the form version in force on `day` (or `spec`): each indicator whose
    series the default form has takes the demo profile's value of that series (_default_series); another one a
    value from its type and bounds, set to its minimum when it breaks one of the version's comparisons that
    refuse. For the default form, the figures of DESIGN.md §5, as they always were."""
    spec = spec or formspec.spec_for_day(day)
    base = _default_series(rng, unit, day)
    payload = {"locality": unit.code, "date": day.isoformat()}
    generated = []
    for indicator in spec.indicators:
        if indicator.series in base:
            payload[indicator.code] = base[indicator.series]
        else:
            payload[indicator.code] = _generic(rng, unit, day, indicator)
            generated.append(indicator)
    if generated:
        for rule in spec.rules:
            if rule.kind == formspec.COMPARE and rule.severity == formspec.ERROR and not _holds(rule, payload):
                for indicator in generated:
                    if indicator.code in rule.names and indicator.type == formspec.INTEGER:
                        payload[indicator.code] = indicator.minimum or 0
    return payload


def received_at(rng, unit, day):
    """When the report arrived, and whether it was late (after the due hour of the next day)."""
    due = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(settings.REPORT_DUE_HOUR), TZ)
    if rng.random() < unit.lateness:
        return due + datetime.timedelta(minutes=rng.randint(5, 36 * 60)), True
    return due - datetime.timedelta(minutes=rng.randint(30, 16 * 60)), False


def generate_day(rng, all_units, day, payloads=None):
    """Rows (tuples in REPORT_COLUMNS order) for one day, stored as the service stores a report of the day's
    form version (reports.services.storage_of); some units do not report. A day under a version other than
    the default form also gives each report's payload to `payloads` ({(locality, date): payload}): its
    revision is written from it (the default form's revisions are derived from the columns in SQL)."""
    rows = []
    spec = formspec.spec_for_day(day)
    default = formspec.is_default(spec)
    for unit in all_units:
        if rng.random() > unit.reliability:
            continue
        payload = report_payload(rng, unit, day, spec)
        digest = payload_hash(payload)
        at, late = received_at(rng, unit, day)
        stored = storage_of(spec, payload)
        if not default and payloads is not None:
            payloads[(unit.code, day)] = payload
        rows.append(
            (
                *(stored[f] for f in INTEGER_FIELDS),
                None if default else spec.version_id,
                None if default else json.dumps(stored["extra"]),
                unit.code,
                unit.province_id,
                unit.commune_id,
                unit.slot,
                day,
                json.dumps(stored[CHOICES_FIELD]),
                *(stored[f] for f in TEXT_FIELDS),
                *(stored[f] for f in YES_NO_FIELDS),
                receipt_for(digest),
                digest,
                1,
                late,
                at,
                at,
            )
        )
    return rows


def _copy_text(value):
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return str(value)


def _write_postgres(rows):
    columns = ", ".join(REPORT_COLUMNS)
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY reports_dailyreport ({columns}) FROM STDIN") as copy:
            buffer = []
            for row in rows:
                buffer.append("\t".join(_copy_text(v) for v in row))
                if len(buffer) >= 5000:
                    copy.write("\n".join(buffer) + "\n")
                    buffer = []
            if buffer:
                copy.write("\n".join(buffer) + "\n")


def _write_sqlite(rows):
    columns = ", ".join(REPORT_COLUMNS)
    marks = ", ".join(["%s"] * len(REPORT_COLUMNS))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO reports_dailyreport ({columns}) VALUES ({marks})", rows)  # noqa: S608


def _revision_sql():
    """Revision 1 of the default form's reports of the days, derived from their columns."""
    keys = ["locality", "date", *CONTENT_FIELDS]
    if connection.vendor == "postgresql":
        pairs = ", ".join(f"'{k}', to_char(date, 'YYYY-MM-DD')" if k == "date" else f"'{k}', {k}" for k in keys)
        payload = f"jsonb_build_object({pairs})"
    else:
        parts = []
        for k in keys:
            if k == CHOICES_FIELD:
                parts.append(f"'{k}', json({k})")
            elif k in YES_NO_FIELDS:
                parts.append(f"'{k}', json(CASE WHEN {k} THEN 'true' ELSE 'false' END)")
            else:
                parts.append(f"'{k}', {k}")
        payload = f"json_object({', '.join(parts)})"
    return f"""
INSERT INTO reports_reportrevision (report_id, number, payload, payload_hash, receipt, reason, created_at)
SELECT id, 1, {payload}, payload_hash, receipt, '', received_at
FROM reports_dailyreport WHERE date BETWEEN %s AND %s AND extra IS NULL
"""  # noqa: S608 - only code constants are interpolated


def _write_revisions(payloads):
    """Revision 1 of the reports of a later form version, from the payloads they were generated from."""
    from reports.models import DailyReport, ReportRevision

    if not payloads:
        return
    days = sorted({day for _code, day in payloads})
    reports = DailyReport.objects.filter(date__in=days, extra__isnull=False).values_list(
        "pk", "locality", "date", "payload_hash", "receipt", "received_at"
    )
    ReportRevision.objects.bulk_create(
        [
            ReportRevision(
                report_id=pk,
                number=1,
                payload=payloads[(code, day)],
                payload_hash=digest,
                receipt=receipt,
                created_at=at,
            )
            for pk, code, day, digest, receipt, at in reports
            if (code, day) in payloads
        ],
        batch_size=2000,
    )


def seed_reports(*, start, end, seed=2025, progress=None):
    """Insert demo reports for every day from start to end (inclusive); returns the number of reports.
    The caller makes sure the period is empty. Refused unless demo data is allowed (tasks.demo)."""
    demo_data_check()
    rng = random.Random(seed)
    all_units = units(rng)
    write = _write_postgres if connection.vendor == "postgresql" else _write_sqlite
    total = 0
    day = start
    chunk = 7
    while day <= end:
        last = min(end, day + datetime.timedelta(days=chunk - 1))
        rows = []
        payloads: dict = {}
        current = day
        while current <= last:
            day_rng = random.Random(f"{seed}-{current.isoformat()}")  # a day's data does not depend on the window
            rows.extend(generate_day(day_rng, all_units, current, payloads))
            current += datetime.timedelta(days=1)
        with transaction.atomic():
            write(rows)
            with connection.cursor() as cursor:
                cursor.execute(_revision_sql(), [day, last])
            _write_revisions(payloads)
        total += len(rows)
        if progress:
            progress((last - day).days + 1)
        day = last + datetime.timedelta(days=1)
    return total


# --- data quality and approvals (DESIGN.md §11) ---------------------------------------------------------------

QUALITY_DAYS = 3  # the last days checked against bands computed before them: their warnings are the queue
APPROVED_DAYS = range(QUALITY_DAYS, QUALITY_DAYS + 5)  # older days approved in the demo provinces
APPROVING_PROVINCES = ("01", "79", "48", "04")
WARNINGS_PER_PROVINCE_DAY = 4
EXPLANATIONS = [
    "Ngày hội việc làm của phường, số hồ sơ tăng đột biến.",
    "Hệ thống một cửa bị gián đoạn buổi sáng, hồ sơ dồn sang buổi chiều.",
    "Nhập nhầm số liệu hôm trước, đã đối chiếu lại sổ theo dõi.",
    "Đợt cấp đổi giấy tờ theo kế hoạch của tỉnh.",
]


def seed_quality(*, end, seed=2025):
    """The demo's quality queue and approvals: bands as of the day before the last QUALITY_DAYS days; the
    warnings those days raise against them, the biggest few per province and day (half of Hà Nội's older ones
    explained by its clerks, one confirmed by the province, some flagged for follow-up, the rest waiting); the
    older days of a few provinces approved (all reports without an open warning); and the bands rebuilt as of
    `end`. Returns (warnings, approvals); nothing is done when warnings or approvals already exist. Call
    before the rollups are built (they count the approvals)."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q
    from django.utils import timezone

    from reports import quality
    from reports.models import DailyReport, QualityWarning, ReportApproval

    demo_data_check()
    if QualityWarning.objects.exists() or ReportApproval.objects.exists():
        return 0, 0
    rng = random.Random(f"{seed}-quality")
    recent = [end - datetime.timedelta(days=i) for i in range(QUALITY_DAYS)]
    quality.bands_refresh(as_of=end - datetime.timedelta(days=QUALITY_DAYS))
    bands = quality.bands_for(DailyReport.objects.filter(date__in=recent).values_list("locality", flat=True).distinct())
    now = timezone.now()
    found = {}
    rows = DailyReport.objects.filter(date__in=recent).values(
        "pk", "locality", "province_id", "commune_id", "date", *INTEGER_FIELDS
    )
    for row in rows.iterator(chunk_size=2000):
        hits = quality.outliers(row, bands.get(row["locality"], {}))
        if hits:
            found[row["pk"]] = (row, hits)
    # A queue a person can read: each province's four biggest outliers of each day only (the figures are
    # random: a band of 3.5 MADs catches a figure or two in most reports).
    ranked = sorted(
        ((abs(value - band.median), pk, name) for pk, (row, hits) in found.items() for name, value, band in hits),
        reverse=True,
    )
    kept: dict[tuple[str, datetime.date], int] = {}
    keep = set()
    for _effect, pk, name in ranked:
        where = (found[pk][0]["province_id"], found[pk][0]["date"])
        if kept.get(where, 0) < WARNINGS_PER_PROVINCE_DAY:
            kept[where] = kept.get(where, 0) + 1
            keep.add((pk, name))
    found = {
        pk: (row, [hit for hit in hits if (pk, hit[0]) in keep])
        for pk, (row, hits) in found.items()
        if any((pk, hit[0]) in keep for hit in hits)
    }
    quality.warnings_record(found, now=now)

    User = get_user_model()
    officer = User.objects.filter(username="province").first()
    clerk = User.objects.filter(username="commune").first()
    actor = officer or demo_history_actor()
    # Hà Nội's (the demo officer's): every other one explained, the first of them confirmed; those of `end`
    # (yesterday) all wait.
    hanoi = list(QualityWarning.objects.filter(province_id="01", date__lt=end).order_by("pk"))
    for index, warning in enumerate(hanoi):
        if index % 2 == 0:
            warning.state = QualityWarning.State.EXPLAINED
            warning.explanation = rng.choice(EXPLANATIONS)
            warning.explained_by = clerk if warning.locality == "00004" else None
            warning.explained_at = now
            warning.follow_up = index % 4 == 0
            if index == 0:
                warning.state, warning.closed_by, warning.closed_at = QualityWarning.State.CONFIRMED, actor, now
            warning.save()

    days = [end - datetime.timedelta(days=i) for i in APPROVED_DAYS]
    waiting = set(QualityWarning.objects.filter(state=QualityWarning.State.OPEN).values_list("report_id", flat=True))
    reports = DailyReport.objects.filter(
        Q(date__in=days, province_id__in=APPROVING_PROVINCES)
        # Yesterday, half way: Hà Nội's officer has approved the even slots' reports so far.
        | Q(date=end, province_id="01", slot__isnull=False, slot__in=range(0, 1000, 2))
    ).values_list("pk", "locality", "province_id", "date", "revision")
    new = [
        ReportApproval(
            report_id=pk,
            locality=locality,
            province_id=province_id,
            date=day,
            revision=revision,
            approved_by=actor,
            approved_at=now,
        )
        for pk, locality, province_id, day, revision in reports
        if pk not in waiting
    ]
    ReportApproval.objects.bulk_create(new, batch_size=2000)
    approvals = len(new)
    quality.bands_refresh(as_of=end)
    return QualityWarning.objects.count(), approvals
