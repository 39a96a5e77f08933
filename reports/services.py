"""Writes of daily reports, lock exceptions and API clients (DESIGN.md §5).

Each service runs in one transaction, writes its own history (ReportRevision for every accepted version,
the first included) and records the (province, day) it touched in the outbox (reports.outbox), whose new
requests are announced after commit for the dashboards to rebuild; a down broker never loses a report.

The single POST is a batch of one: both go through `daily_report_submit_batch`, whose cost is a fixed
number of statements whatever the batch size (one locality lookup, at most one lock-exception lookup,
one INSERT … ON CONFLICT DO NOTHING RETURNING, at most one read of the rows that already existed, one
INSERT of the revisions, one upsert of the rollup requests).
"""

import contextlib
import datetime
import functools
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import events
from core.dates import DATE_MESSAGE, INVALID_DATE, parse_date_or_none
from core.db import bound_cursor
from core.models import Event
from core.text import echo
from localities.models import locality_kind
from reports import formspec, jobs, quality, validation
from reports.auth import hash_key, keys_changed
from reports.completeness import due_at, is_late, lock_date
from reports.figures import INTEGER_FIELDS, TEXT_FIELDS
from reports.models import (
    ApiClient,
    DailyReport,
    LockException,
    QualityBand,
    QualityWarning,
    ReportApproval,
    ReportRevision,
)
from reports.outbox import REQUEST_UPSERT_SQL, announce_after_commit, request_rollups
from tasks.roles import Role, Scope
from tasks.scoping import scope_for_user

# Outcomes of one submitted report (the batch's per-item `status`) and of a correction.
CREATED = "created"
UNCHANGED = "unchanged"
CONFLICT = "conflict"
INVALID = "invalid"
FORBIDDEN = "forbidden"
LOCKED = "locked"
CORRECTED = "corrected"
NOT_FOUND = "not_found"
# A correction of a report the province has approved: refused until the approval is withdrawn (§11).
APPROVED = "approved"
SUBMIT_STATUSES = [CREATED, UNCHANGED, CONFLICT, INVALID, FORBIDDEN, LOCKED]

# Events of the changes feed and the webhooks (DESIGN.md §14), written in the submission's own statement or
# transaction. Payload: locality, date, receipt, revision, late (and, for a correction, the previous receipt
# and the reason).
REPORT_ACCEPTED = events.declare("report.accepted", gettext_lazy("A daily report was accepted (its first version)."))
REPORT_CORRECTED = events.declare("report.corrected", gettext_lazy("A daily report was corrected (a new revision)."))

Key = tuple[str, str]  # (locality code, ISO date) of a report

# The report's columns of content (everything but locality and date): the series of the default form's
# indicators, in its order. A report of another version stores its indicators by their series (reports.formspec):
# a series of the default form in its column, any other in `extra`.
CONTENT_FIELDS = [i.code for i in formspec.default_spec().indicators]
_COLUMN_SERIES = frozenset(CONTENT_FIELDS)
_EMPTY = {
    formspec.INTEGER: 0,
    formspec.CHOICES: [],
    formspec.CHOICE: "",
    formspec.TEXT: "",
    formspec.YES_NO: False,
}


def storage_of(spec: formspec.FormSpec, data: Mapping[str, Any]) -> dict[str, Any]:
    """The columns that store a validated report's content (`data`, by indicator code) of version `spec`:
    the content columns, `extra` (None for the default form) and `form_version_id`. A series of the default form
    that the version does not have (dropped) is stored empty (0, [], "", false): the version, not the column,
    says which indicators a report has."""
    if formspec.is_default(spec):
        return {**{name: data[name] for name in CONTENT_FIELDS}, "extra": None, "form_version_id": spec.version_id}
    default = formspec.default_spec().by_series
    row: dict[str, Any] = {}
    for series in CONTENT_FIELDS:
        indicator = spec.by_series.get(series)
        value = data.get(indicator.code) if indicator is not None else None
        row[series] = _EMPTY[default[series].type] if value is None else value
    row["extra"] = {i.series: data.get(i.code) for i in spec.indicators if i.series not in _COLUMN_SERIES}
    row["form_version_id"] = spec.version_id
    return row


def content_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored report's content by the indicator codes of its version (the reverse of storage_of)."""
    spec = formspec.spec_for_version(row.get("form_version_id"))
    if formspec.is_default(spec):
        return {name: row[name] for name in CONTENT_FIELDS}
    extra = row.get("extra") or {}
    return {i.code: row[i.series] if i.series in _COLUMN_SERIES else extra.get(i.series) for i in spec.indicators}


class BatchTooLarge(ValueError):
    pass


@dataclass
class Outcome:
    """What happened to one report. `receipt` is the stored report's receipt (created, unchanged, conflict,
    corrected); `errors` the field errors (invalid); `diff` {field: {stored, submitted}} (conflict)."""

    status: str
    locality: str | None = None
    date: str | None = None
    receipt: str | None = None
    revision: int | None = None
    late: bool | None = None
    warnings: list = field(default_factory=list)
    errors: dict | None = None
    diff: dict | None = None
    previous_receipt: str | None = None


# --- rules ------------------------------------------------------------------------------------------------


def scope_of(*, client: ApiClient | None = None, user: Any = None) -> Scope:
    if client is not None:
        return client.as_scope()
    if user is not None:
        return scope_for_user(user)
    raise ValueError("a report is sent by an API client or by a user")


def may_submit(scope: Scope, *, province_id: str, commune_id: str | None = None) -> bool:
    """May the scope submit or correct this locality's report? A province (officer or key) for itself and its
    communes, a commune for itself; and the national admin for any locality (DESIGN.md §3 gives the admin
    the whole country and, unlike steering and inspectors, does not make it read-only), which is also what
    lets one request carry a national day. Steering, inspectors and agencies submit nothing."""
    if scope.is_admin and not scope.is_api_client:
        return True
    return scope.may_act_for_locality(province_id=province_id, commune_id=commune_id)


def may_grant_exceptions(scope: Scope, *, province_id: str) -> bool:
    """Lock exceptions are granted by a province officer for its province and communes, or the admin."""
    if scope.is_api_client:
        return False
    return scope.is_admin or (scope.role == Role.PROVINCE_OFFICER and scope.province_id == province_id)


def _lock_exceptions(keys: set[Key]) -> set[Key]:
    """The (locality, iso date) pairs among `keys` that have a lock exception, in one query."""
    if not keys:
        return set()
    rows = LockException.objects.filter(locality__in={k[0] for k in keys}, date__in={k[1] for k in keys}).values_list(
        "locality", "date"
    )
    return {(locality, day.isoformat()) for locality, day in rows} & set(keys)


def _warnings(
    data: dict[str, Any],
    *,
    late: bool,
    day: datetime.date,
    exception_used: bool,
    spec: formspec.FormSpec | None = None,
) -> list[validation.ErrorItem]:
    warnings = []
    if late:
        due = timezone.localtime(due_at(day)).strftime("%Y-%m-%d %H:%M")
        warnings.append(
            validation.error(
                "late", _("Received after the due time (%(due)s); accepted and flagged late.") % {"due": due}
            )
        )
    if exception_used:
        warnings.append(
            validation.error(
                "lock_exception", _("Accepted past the lock window under an exception granted by the province.")
            )
        )
    spec = spec or formspec.default_spec()
    totals = [rate.value(data) for rate in spec.rates if rate.denominator is None]
    if totals and not any(totals):
        warnings.append(
            validation.error("no_dossiers", _("No dossier was received or resolved that day: is that right?"))
        )
    return warnings


def _diff(stored: Mapping[str, Any], submitted: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    content = content_of(stored)
    return {
        name: {"stored": _echoed(content.get(name)), "submitted": _echoed(submitted.get(name))}
        for name in submitted
        if name not in ("locality", "date") and content.get(name) != submitted.get(name)
    }


def _echoed(value: Any) -> Any:
    """A text of a diff, as long as an answer may echo it (core.text); figures and lists as they are."""
    return echo(value) if isinstance(value, str) else value


# --- set-based SQL ----------------------------------------------------------------------------------------
# The ORM's bulk_create cannot say which rows an ON CONFLICT DO NOTHING really inserted, and it splits a
# batch into many statements on SQLite. These two statements take the whole batch as one JSON parameter and
# answer with the inserted rows, on PostgreSQL and on SQLite (3.35+). Only column names (code constants)
# are interpolated; values are always parameters.

_REPORT_JSON_COLUMNS = [
    "locality",
    "province_id",
    "commune_id",
    "slot",
    "date",
    *INTEGER_FIELDS,
    "outage_systems",
    *TEXT_FIELDS,
    "support_needed",
    "receipt",
    "payload_hash",
    "late",
    "form_version_id",
    "extra",
]
_REPORT_SHARED_COLUMNS = ["revision", "received_at", "updated_at", "submitted_by_id", "client_id"]
_REVISION_JSON_COLUMNS = ["report_id", "payload", "payload_hash", "receipt"]
_REVISION_SHARED_COLUMNS = ["number", "reason", "created_at", "author_id", "client_id"]
_PG_TYPES = {
    "date": "date",
    "outage_systems": "jsonb",
    "payload": "jsonb",
    "extra": "jsonb",
    "dropped": "jsonb",
    "renamed": "jsonb",
    "form_version_id": "bigint",
    "support_needed": "boolean",
    "late": "boolean",
    "report_id": "bigint",
    "slot": "smallint",
    **dict.fromkeys(INTEGER_FIELDS, "integer"),
}


def _insert_sql(
    table: str,
    json_columns: list[str],
    shared_columns: list[str],
    *,
    conflict: list[str] | None = None,
    returning: list[str] | None = None,
) -> str:
    q = connection.ops.quote_name
    columns = ", ".join(q(c) for c in [*json_columns, *shared_columns])
    shared = ", ".join(["%s"] * len(shared_columns))
    if connection.vendor == "postgresql":
        record = ", ".join(f"{q(c)} {_PG_TYPES.get(c, 'text')}" for c in json_columns)
        values = ", ".join(f"x.{q(c)}" for c in json_columns)
        source = f"jsonb_to_recordset(%s::jsonb) AS x({record})"
    else:
        values = ", ".join(f"json_extract(value, '$.{c}')" for c in json_columns)
        # WHERE true: SQLite needs it to tell an upsert's ON CONFLICT from a join's ON.
        source = "json_each(%s) WHERE true"
    sql = f"INSERT INTO {q(table)} ({columns}) SELECT {values}, {shared} FROM {source}"  # noqa: S608
    if conflict:
        sql += f" ON CONFLICT ({', '.join(q(c) for c in conflict)}) DO NOTHING"
    if returning:
        sql += f" RETURNING {', '.join(q(c) for c in returning)}"
    return sql


def _insert_reports(
    rows: list[dict[str, Any]], *, now: datetime.datetime, user_id: int | None, client_id: int | None
) -> dict[Key, int]:
    """Insert new reports; returns {(locality, iso date): id} of the rows this statement inserted."""
    sql = _insert_sql(
        DailyReport._meta.db_table,
        _REPORT_JSON_COLUMNS,
        _REPORT_SHARED_COLUMNS,
        conflict=["locality", "date"],
        returning=["id", "locality", "date"],
    )
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(sql, [1, stamp, stamp, user_id, client_id, json.dumps(rows, ensure_ascii=False)])
        return {(locality, str(day)): pk for pk, locality, day in cursor.fetchall()}


@functools.cache
def _insert_new_reports_sql() -> str:
    """PostgreSQL's one statement of _insert_new_reports (built once per process)."""
    q = connection.ops.quote_name
    source = [*_REPORT_JSON_COLUMNS, "payload", "dropped", "renamed"]
    record = ", ".join(f"{q(c)} {_PG_TYPES.get(c, 'text')}" for c in source)
    report_columns = ", ".join(q(c) for c in [*_REPORT_JSON_COLUMNS, *_REPORT_SHARED_COLUMNS])
    values = ", ".join(f"x.{q(c)}" for c in _REPORT_JSON_COLUMNS)
    revision_columns = ", ".join(q(c) for c in [*_REVISION_JSON_COLUMNS, *_REVISION_SHARED_COLUMNS])
    event_columns = ", ".join(q(c) for c in events.COLUMNS)
    return f"""
WITH x AS (SELECT * FROM jsonb_to_recordset(%s::jsonb) AS x({record})),
ins AS (
    INSERT INTO {q(DailyReport._meta.db_table)} ({report_columns})
    SELECT {values}, 1, %s::timestamptz, %s::timestamptz, %s::bigint, %s::bigint FROM x
    ON CONFLICT ("locality", "date") DO NOTHING
    RETURNING "id", "locality", "date", "province_id", "commune_id", "payload_hash", "receipt", "late"
),
rev AS (
    INSERT INTO {q(ReportRevision._meta.db_table)} ({revision_columns})
    SELECT ins."id", x."payload", ins."payload_hash", ins."receipt", 1, '', %s::timestamptz, %s::bigint, %s::bigint
    FROM ins JOIN x ON x."locality" = ins."locality" AND x."date" = ins."date"
),
ev AS (
    INSERT INTO {q(Event._meta.db_table)} ({event_columns})
    SELECT %s, %s::timestamptz, 'daily_report', ins."id"::text,
        jsonb_build_object('locality', ins."locality", 'date', ins."date", 'receipt', ins."receipt", 'revision', 1,
            'late', ins."late"),
        ins."province_id", COALESCE(ins."commune_id", ''), '', %s
    FROM ins
),
warn AS (
    INSERT INTO {q(QualityWarning._meta.db_table)} ("report_id", "locality", "province_id", "commune_id", "date",
        "code", "indicator", "value", "expected_low", "expected_high", "median", "effect", "state", "explanation",
        "follow_up", "created_at")
    SELECT ins."id", ins."locality", ins."province_id", ins."commune_id", ins."date", '{quality.OUTLIER}',
        COALESCE(x."renamed" ->> v.indicator, v.indicator), v.value, b.low, b.high, b.median,
        abs(v.value - b.median), 'open', '', false, %s::timestamptz
    FROM ins JOIN x ON x."locality" = ins."locality" AND x."date" = ins."date"
    {quality.report_unpivot_sql("x")}
    JOIN {q(QualityBand._meta.db_table)} b ON b."locality" = ins."locality" AND b."indicator" = v.indicator
    WHERE {quality.outlier_sql()} AND NOT jsonb_exists(COALESCE(x."dropped", '[]'::jsonb), v.indicator)
    RETURNING "locality", "date", "indicator", "value", "expected_low", "expected_high"
),
req AS (
    {REQUEST_UPSERT_SQL.format(source="SELECT DISTINCT province_id, date, %s::timestamptz FROM ins ORDER BY 1, 2")}
)
SELECT "id", "locality", "date", NULL::boolean, NULL::text, NULL::bigint, NULL::float8, NULL::float8 FROM ins
UNION ALL SELECT NULL, province_id, date, inserted, NULL, NULL, NULL, NULL FROM req
UNION ALL SELECT NULL, "locality", "date", NULL, "indicator", "value", "expected_low", "expected_high" FROM warn
"""  # noqa: S608 - only column and table names (code constants) are interpolated


def actor_of(*, user: Any = None, client: ApiClient | None = None) -> str:
    """Who sent a report, as events name them: the username, or the API key's prefix (`p02_…`)."""
    if user is not None:
        return user.get_username()
    return client.key_prefix if client is not None else ""


def _insert_new_reports(
    rows: list[dict[str, Any]], *, now: datetime.datetime, user_id: int | None, client_id: int | None, actor: str
) -> tuple[dict[Key, int], dict[Key, list[dict[str, Any]]]]:
    """Insert new reports and their revision 1 (the row's `payload`); returns ({(locality, iso date): id} of
    the reports this call really inserted, {key: their outlier `warnings` entries}). On PostgreSQL one
    statement (data-modifying CTEs) also requests the rollups of the inserted reports' (province, day), writes
    their `report.accepted` events and checks their figures against the stored quality bands, storing the
    warnings (reports.quality): one round trip per submission instead of five."""
    outliers: dict[Key, list[dict[str, Any]]] = {}
    if connection.vendor != "postgresql":
        inserted = _insert_reports(rows, now=now, user_id=user_id, client_id=client_id)
        if not inserted:
            return inserted, outliers
        by_key = {(r["locality"], r["date"]): r for r in rows}
        bands = quality.bands_for({key[0] for key in inserted})
        found = {
            key: quality.outliers(by_key[key], bands[key[0]], skip=by_key[key]["dropped"], names=by_key[key]["renamed"])
            for key in inserted
            if key[0] in bands
        }
        quality.warnings_record({inserted[key]: (by_key[key], out) for key, out in found.items() if out}, now=now)
        for key, out in found.items():
            if out:
                outliers[key] = [
                    quality.warning_body(indicator=name, value=value, low=band.low, high=band.high)
                    for name, value, band in out
                ]
        events.emit_many(
            REPORT_ACCEPTED,
            [
                {
                    "subject": "daily_report",
                    "subject_id": pk,
                    "payload": _event_payload(by_key[key], revision=1),
                    "province": by_key[key]["province_id"],
                    "commune": by_key[key]["commune_id"],
                    "actor": actor,
                }
                for key, pk in sorted(inserted.items())
            ],
        )
        _insert_revisions(
            [
                {
                    "report_id": pk,
                    "payload": by_key[key]["payload"],
                    "payload_hash": by_key[key]["payload_hash"],
                    "receipt": by_key[key]["receipt"],
                }
                for key, pk in sorted(inserted.items())
            ],
            number=1,
            reason="",
            now=now,
            user_id=user_id,
            client_id=client_id,
        )
        return inserted, outliers
    sql = _insert_new_reports_sql()
    stamp = connection.ops.adapt_datetimefield_value(now)
    params = [json.dumps(rows, ensure_ascii=False), stamp, stamp, user_id, client_id, stamp, user_id, client_id]
    params += [REPORT_ACCEPTED.code, stamp, actor, stamp, stamp]
    inserted, new_requests = {}, []
    hits: dict[Key, list[tuple[str, int, float, float]]] = {}
    # Parameters bound on the server: the rows' JSON is not quoted into the SQL text, and the single POST's
    # statement, the same every time, is prepared by psycopg after its first runs on a connection.
    with bound_cursor() as cursor:
        cursor.execute(sql, params)
        for pk, code, day, request_is_new, indicator, value, low, high in cursor.fetchall():
            if indicator is not None:
                hits.setdefault((code, str(day)), []).append((indicator, value, low, high))
            elif pk is not None:
                inserted[(code, str(day))] = pk
            elif request_is_new:
                new_requests.append((code, day))
    # The same rule as reports.outbox.request_rollups: only a new request gets a job; a pending one has it.
    announce_after_commit(new_requests)
    back = {(r["locality"], r["date"]): {code: series for series, code in r["renamed"].items()} for r in rows}
    for key, entries in hits.items():
        names = back.get(key)
        entries.sort(key=lambda hit: quality.figure_order(hit[0], names))
        outliers[key] = [quality.warning_body(indicator=n, value=v, low=lo, high=hi) for n, v, lo, hi in entries]
    return inserted, outliers


def _event_payload(row: Mapping[str, Any], *, revision: int, **more: Any) -> dict[str, Any]:
    """The payload of a report's events (the PostgreSQL statement above builds the same in SQL)."""
    return {
        "locality": row["locality"],
        "date": str(row["date"]),
        "receipt": row["receipt"],
        "revision": revision,
        "late": row["late"],
        **more,
    }


def _insert_revisions(
    rows: list[dict[str, Any]],
    *,
    number: int,
    reason: str,
    now: datetime.datetime,
    user_id: int | None,
    client_id: int | None,
) -> None:
    sql = _insert_sql(ReportRevision._meta.db_table, _REVISION_JSON_COLUMNS, _REVISION_SHARED_COLUMNS)
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(sql, [number, reason, stamp, user_id, client_id, json.dumps(rows, ensure_ascii=False)])


# --- submission -------------------------------------------------------------------------------------------


def daily_report_submit(*, payload: Any, client: ApiClient | None = None, user: Any = None) -> Outcome:
    """Submit one report. Returns an Outcome: created, unchanged, conflict, invalid, forbidden or locked."""
    return daily_report_submit_batch(payloads=[payload], client=client, user=user)[0]


def daily_report_submit_batch(
    *, payloads: list[Any], client: ApiClient | None = None, user: Any = None
) -> list[Outcome]:
    """Submit up to REPORT_BATCH_MAX reports; one Outcome per item, in order. One bad item never rejects the
    others. Raises BatchTooLarge above the limit."""
    if len(payloads) > settings.REPORT_BATCH_MAX:
        raise BatchTooLarge(len(payloads))
    scope = scope_of(client=client, user=user)
    user_id = user.pk if user is not None else None
    client_id = client.pk if client is not None else None
    now = timezone.now()
    today = timezone.localdate(now)
    first_unlocked = lock_date(today)

    validated = validation.validate_reports(payloads, today=today)
    outcomes: list[Any] = [None] * len(validated)  # every item gets its Outcome below
    accepted: list[tuple[int, validation.Validated, Key, str]] = []
    for index, item in enumerate(validated):
        if not item.ok:
            # Echo the locality and date as sent (when they are text) so a client can match the answer.
            raw = payloads[index] if isinstance(payloads[index], dict) else {}
            outcomes[index] = Outcome(
                INVALID,
                locality=echo(raw["locality"]) if isinstance(raw.get("locality"), str) else None,
                date=echo(raw["date"]) if isinstance(raw.get("date"), str) else None,
                errors=item.errors,
            )
        elif not may_submit(scope, province_id=item.valid_province_id, commune_id=item.commune_id):
            outcomes[index] = Outcome(FORBIDDEN, locality=item.locality, date=item.data["date"])
        else:
            accepted.append((index, item, (item.valid_locality, item.data["date"]), item.digest()))
    if not accepted:
        return outcomes

    old_keys = {key for _i, item, key, _d in accepted if item.valid_day < first_unlocked}
    excepted = _lock_exceptions(old_keys)
    locked = old_keys - excepted

    # The first item of each (locality, date) is the one inserted; later duplicates in the batch are
    # answered against what is stored after it. Rows go in sorted by key, so that two batches touching the
    # same reports take their unique-index locks in the same order and cannot deadlock.
    first_of: dict[Key, int] = {}
    for index, _item, key, _digest in accepted:
        first_of.setdefault(key, index)
    rows: dict[Key, dict[str, Any]] = {}
    contents: dict[Key, dict[str, Any]] = {}
    for index, item, key, digest in accepted:
        if key in locked or first_of[key] != index:
            continue
        contents[key] = item.data
        rows[key] = {
            "locality": item.data["locality"],
            "date": item.data["date"],
            **storage_of(item.spec, item.data),
            "province_id": item.province_id,
            "commune_id": item.commune_id,
            "slot": item.slot,
            "receipt": validation.receipt_for(digest),
            "payload_hash": digest,
            "late": is_late(item.valid_day, now),
            # The series its version does not have: stored as 0, never judged against a band.
            "dropped": quality.dropped_series(item.spec.version_id),
            # Its renamed indicators ({series: code}): a warning names the figure as the version does.
            "renamed": quality.renamed_series(item.spec.version_id),
        }

    # On PostgreSQL the submission's writes are one statement (reports, revisions, rollup requests, events),
    # atomic by itself: no transaction around it, which saves two round trips (BEGIN, COMMIT) on the hot path.
    # SQLite takes three statements, in one transaction.
    # A report that breaks a warning rule of its version also writes its warnings to the quality queue: a second
    # statement, so then PostgreSQL too takes a transaction (the default form has no warning rule).
    rule_warnings = {key: item for _i, item, key, _d in accepted if item.warnings and key in rows}
    atomic = connection.vendor != "postgresql" or rule_warnings
    with transaction.atomic() if atomic else contextlib.nullcontext():
        inserted, outliers = (
            _insert_new_reports(
                [{**rows[k], "payload": contents[k]} for k in sorted(rows)],
                now=now,
                user_id=user_id,
                client_id=client_id,
                actor=actor_of(user=user, client=client),
            )
            if rows
            else ({}, {})
        )
        missing = {key for _i, _item, key, _d in accepted if key not in inserted}
        stored = _existing(missing) if missing else {}
        for key in inserted:
            stored[key] = {**rows[key], "revision": 1}
        if inserted and connection.vendor != "postgresql":  # PostgreSQL: requested in the insert statement
            request_rollups({(rows[key]["province_id"], validated[first_of[key]].valid_day) for key in inserted})
        if rule_warnings:
            quality.rule_warnings_record(
                {
                    inserted[key]: (rows[key], item.spec, item.data, item.warnings)
                    for key, item in rule_warnings.items()
                    if key in inserted
                },
                now=now,
            )

    for index, item, key, digest in accepted:
        current: Any = stored.get(key)
        base: dict[str, Any] = {"locality": key[0], "date": key[1]}
        if key in inserted and first_of[key] == index:
            outcomes[index] = Outcome(
                CREATED,
                **base,
                receipt=current["receipt"],
                revision=1,
                late=current["late"],
                warnings=_warnings(
                    item.data, late=current["late"], day=item.valid_day, exception_used=key in excepted, spec=item.spec
                )
                + item.warnings
                + outliers.get(key, []),
            )
        elif current is not None and current["payload_hash"] == digest:
            outcomes[index] = Outcome(
                UNCHANGED, **base, receipt=current["receipt"], revision=current["revision"], late=current["late"]
            )
        elif key in locked:
            outcomes[index] = Outcome(LOCKED, **base)
        elif current is None:
            # ON CONFLICT skipped the row, so it exists and is committed; reaching here is a bug, not a race.
            raise RuntimeError(f"report {key} neither inserted nor found")
        else:
            outcomes[index] = Outcome(
                CONFLICT,
                **base,
                receipt=current["receipt"],
                revision=current["revision"],
                late=current["late"],
                diff=_diff(current, item.data),
            )
    return outcomes


def _existing(keys: set[Key]) -> dict[Key, dict[str, Any]]:
    """The stored reports of these (locality, iso date) keys, as dicts, in one query."""
    rows = DailyReport.objects.filter(locality__in={k[0] for k in keys}, date__in={k[1] for k in keys}).values(
        "locality", "date", "receipt", "payload_hash", "revision", "late", *CONTENT_FIELDS, "form_version_id", "extra"
    )
    found = {}
    for row in rows:
        key = (row["locality"], row["date"].isoformat())
        if key in keys:
            found[key] = row
    return found


# --- correction -------------------------------------------------------------------------------------------


def daily_report_correct(
    *,
    locality: str,
    date: str | datetime.date,
    payload: Any,
    reason: Any,
    client: ApiClient | None = None,
    user: Any = None,
) -> Outcome:
    """Replace a stored report's content, with a reason. Returns an Outcome: corrected (new receipt),
    unchanged (same content, nothing written), invalid, forbidden, not_found or locked."""
    scope = scope_of(client=client, user=user)
    day = parse_date_or_none(date)
    found = validation.lookup_localities([locality]) if isinstance(locality, str) else {}
    if day is None or locality not in found:
        return Outcome(NOT_FOUND, locality=str(locality), date=str(date))
    province_id, commune_id, _slot = found[locality]
    base: dict[str, Any] = {"locality": locality, "date": day.isoformat()}
    if not may_submit(scope, province_id=province_id, commune_id=commune_id):
        return Outcome(FORBIDDEN, **base)
    if not DailyReport.objects.filter(locality=locality, date=day).exists():
        return Outcome(NOT_FOUND, **base)
    exception_used = False
    if day < lock_date(timezone.localdate()):
        if not LockException.objects.filter(locality=locality, date=day).exists():
            return Outcome(LOCKED, **base)
        exception_used = True

    if not isinstance(payload, dict):
        item = validation.validate_report(payload)
    else:
        mismatched = {
            name: payload[name] for name in ("locality", "date") if name in payload and payload[name] != base[name]
        }
        item = validation.validate_report({**payload, **base})
        for name in mismatched:
            item.errors.pop(name, None)
            item.add(
                name,
                validation.MISMATCH,
                _("Must be %(value)s, as in the address, or be left out.") % {"value": echo(base[name])},
            )
    clean_reason, reason_errors = validation.validate_reason(reason)
    if reason_errors:
        item.errors["reason"] = reason_errors
    if not item.ok:
        return Outcome(INVALID, **base, errors=item.errors)

    digest = item.digest()
    now = timezone.now()
    with transaction.atomic():
        # The row lock serialises two corrections of one report, so revision numbers never collide.
        report = DailyReport.objects.select_for_update().get(locality=locality, date=day)
        if report.payload_hash == digest:
            return Outcome(UNCHANGED, **base, receipt=report.receipt, revision=report.revision, late=report.late)
        # Under the report's row lock, which an approval takes too (reports.approvals): no approval slips in
        # between this check and the correction.
        if ReportApproval.objects.active().filter(report=report).exists():
            return Outcome(APPROVED, **base, receipt=report.receipt, revision=report.revision, late=report.late)
        previous = report.receipt
        # The version of the report's day: the one it was stored with (a version never takes effect over a day
        # that has reports), so the correction keeps it.
        for name, value in storage_of(item.spec, item.data).items():
            setattr(report, name, value)
        report.receipt = validation.receipt_for(digest)
        report.payload_hash = digest
        report.revision += 1
        report.updated_at = now
        report.save(
            update_fields=[
                *CONTENT_FIELDS,
                "extra",
                "form_version_id",
                "receipt",
                "payload_hash",
                "revision",
                "updated_at",
            ]
        )
        ReportRevision.objects.create(
            report=report,
            number=report.revision,
            payload=item.data,
            payload_hash=digest,
            receipt=report.receipt,
            reason=clean_reason,
            created_at=now,
            author=user,
            client=client,
        )
        request_rollups([(report.province_id, day)])
        events.emit(
            REPORT_CORRECTED,
            subject="daily_report",
            subject_id=report.pk,
            payload=_event_payload(
                {"locality": locality, "date": day, "receipt": report.receipt, "late": report.late},
                revision=report.revision,
                previous_receipt=previous,
                reason=clean_reason,
            ),
            province=report.province_id,
            commune=report.commune_id or "",
            actor=actor_of(user=user, client=client),
        )
        # Checked against the bands before they learn the corrected figures; then the locality's are rebuilt.
        outliers = quality.warnings_recheck(report=report, user=user, now=now)
        # The warning rules of the report's version (item.spec: the version of its day, which is the one the
        # report was stored with), judged again: closed when they hold, opened when newly broken.
        quality.rule_warnings_recheck(
            report=report, spec=item.spec, values=item.data, found=item.warnings, user=user, now=now
        )
        jobs.bands_refresh_after_commit(locality)
    return Outcome(
        CORRECTED,
        **base,
        receipt=report.receipt,
        revision=report.revision,
        late=report.late,
        previous_receipt=previous,
        warnings=_warnings(item.data, late=False, day=day, exception_used=exception_used, spec=item.spec)
        + item.warnings
        + outliers,
    )


# --- lock exceptions --------------------------------------------------------------------------------------


def lock_exception_grant(*, locality: str, date: str | datetime.date, user: Any, reason: str = "") -> LockException:
    """Let `locality` submit or correct its report of `date` past the lock window. Idempotent: granting it
    again keeps the first grant. Raises PermissionDenied or ValidationError."""
    scope = scope_for_user(user)
    found = validation.lookup_localities([locality]) if isinstance(locality, str) else {}
    if locality not in found:
        raise ValidationError(_("Unknown locality code."), code=validation.UNKNOWN_LOCALITY)
    province_id, _commune_id, _slot = found[locality]
    if not may_grant_exceptions(scope, province_id=province_id):
        raise PermissionDenied(_("You may not grant exceptions for this locality."))
    day = parse_date_or_none(date)
    if day is None:
        raise ValidationError(DATE_MESSAGE, code=INVALID_DATE)
    if day < validation.first_date():
        raise ValidationError(
            _("Must not be before %(first)s.") % {"first": validation.first_date().isoformat()},
            code=validation.DATE_TOO_EARLY,
        )
    if day > timezone.localdate():
        raise ValidationError(_("No report can exist for this date."), code=validation.DATE_IN_FUTURE)
    with transaction.atomic():
        exception, _created = LockException.objects.get_or_create(
            locality=locality, date=day, defaults={"reason": (reason or "").strip(), "granted_by": user}
        )
    return exception


# --- API clients ------------------------------------------------------------------------------------------

KEY_START = "p02_"
NAME_MAX = 200  # ApiClient.name


def may_manage_key(scope: Scope, *, province_id: str, commune_id: str | None) -> bool:
    """Keys are issued and revoked by the national admin, or by a province officer for its communes. A
    national key (no locality: both empty) only by the admin."""
    if scope.is_api_client:
        return False
    if scope.is_admin:
        return True
    return scope.role == Role.PROVINCE_OFFICER and commune_id is not None and province_id == scope.province_id


def api_client_issue(
    *, name: str, locality: str = "", kind: str = ApiClient.Kind.LOCALITY, created_by: Any = None
) -> tuple[ApiClient, str]:
    """Create an API client for one commune or province (or, of kind `national`, for none: it reads
    everything) and return (client, key). The key is shown once: only its SHA-256 and its first characters
    are stored. `created_by=None` is the command line."""
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("Give the key a name (the system or clerk that uses it)."), code="required")
    if len(name) > NAME_MAX:
        raise ValidationError(_("The name is too long."), code=validation.TOO_LONG)
    if kind not in ApiClient.Kind.values:
        raise ValidationError(_("Unknown kind of key: “%(kind)s”.") % {"kind": kind}, code="invalid_choice")
    province_id: str | None
    commune_id: str | None
    if kind == ApiClient.Kind.NATIONAL:
        if locality:
            raise ValidationError(_("A national key belongs to no locality: leave the locality empty."), code="invalid")
        province_id = commune_id = None
        if created_by is not None and not may_manage_key(scope_for_user(created_by), province_id="", commune_id=None):
            raise PermissionDenied(_("Only the national admin issues national keys."))
    else:
        found = validation.lookup_localities([locality]) if isinstance(locality, str) else {}
        if locality not in found:
            raise ValidationError(_("Unknown locality code."), code=validation.UNKNOWN_LOCALITY)
        province_id, commune_id, _slot = found[locality]
        if created_by is not None and not may_manage_key(
            scope_for_user(created_by), province_id=province_id, commune_id=commune_id
        ):
            raise PermissionDenied(_("You may not issue keys for this locality."))
        if locality_kind(locality) != "province":
            province_id = None
    key = KEY_START + secrets.token_urlsafe(32)
    client = ApiClient.objects.create(
        name=name,
        kind=kind,
        province_id=province_id,
        commune_id=commune_id,
        key_prefix=key[:12],
        key_hash=hash_key(key),
        created_by=created_by,
    )  # its save renews the keys' generation (reports.auth)
    return client, key


def api_client_revoke(*, client: ApiClient, revoked_by: Any = None) -> bool:
    """Revoke a key; its next request is refused with 401. Returns False if it was already revoked."""
    if revoked_by is not None:
        province_id = client.province_id or (client.commune.province_id if client.commune else "")
        if not may_manage_key(scope_for_user(revoked_by), province_id=province_id, commune_id=client.commune_id):
            raise PermissionDenied(_("You may not revoke this key."))
    now = timezone.now()
    with transaction.atomic():
        # Compare-and-set: two revocations of one key record the first.
        done = ApiClient.objects.filter(pk=client.pk, revoked_at__isnull=True).update(
            revoked_at=now, revoked_by=revoked_by
        )
        if done:
            # In the same transaction: every process, whichever one revoked, drops its copy of the keys before
            # the key's next request (reports.auth).
            keys_changed()
    if done:
        client.revoked_at, client.revoked_by = now, revoked_by
    return bool(done)
