"""OpenAPI documentation of the report API (drf-spectacular): request and response shapes, rules, status
codes and examples, so that a client can be written from /api/schema/ alone.

These serializers only describe; the API validates with reports.validation. The figure fields are built from
reports.figures, the one source of truth.
"""

from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema_field
from rest_framework import serializers

from core.api import ErrorSerializer, FieldErrorSerializer
from reports import formspec, validation
from reports.figures import (
    FIGURE_MAX,
    INTEGER_FIELDS,
    INTEGER_MAX,
    LESS_OR_EQUAL,
    OUTAGE_MINUTES_MAX,
    OUTAGE_SYSTEM_CODES,
    TEXT_MAX,
)
from reports.services import CORRECTED, CREATED, SUBMIT_STATUSES, UNCHANGED

RULES = f"""
**Fields.** `locality` (a commune's 5-digit or a province's 2-digit code, as a string) and `date`
(`YYYY-MM-DD`), the {len(INTEGER_FIELDS)} integer figures of the day (all required: send 0 when there was
nothing), and the optional `outage_systems`, `difficulties`, `proposals`, `support_needed`.

**Rules** (each broken rule is reported under its field with a stable `code`):
- figures are JSON integers from 0 to {INTEGER_MAX:,} (`outage_minutes` 0 to {OUTAGE_MINUTES_MAX}); a
  string such as `"12"`, a boolean, a float or null is `wrong_type`; a missing figure is `required`;
  below 0 is `negative`, above the limit `too_large`;
- {"; ".join(f"`{small}` ≤ `{large}`" for small, large in LESS_OR_EQUAL)} (else `exceeds`);
- `date` not before {settings.REPORTS_FIRST_DATE} (`date_too_early`) and not after today in
  Asia/Ho_Chi_Minh (`date_in_future`); another format is `invalid_date`;
- `locality` must be a known code (`unknown_locality`) written as a string (`wrong_type`);
- `outage_systems`: a list of distinct values among {", ".join(f"`{c}`" for c in OUTAGE_SYSTEM_CODES)}
  (`unknown_value`, `duplicate_value`, `wrong_type`); absent or null means `[]`;
- `difficulties`, `proposals`: text of at most {TEXT_MAX:,} characters (`too_long`); absent or null means "";
- `support_needed`: a JSON boolean; `true` needs `difficulties` (`difficulties_required`);
- any other field is refused (`unknown_field`).

**Timeliness and locking.** A report for day D is late when received after
{settings.REPORT_DUE_HOUR:02d}:00 on D+1 (Asia/Ho_Chi_Minh): it is accepted and flagged `late`. Reports
for days more than {settings.REPORT_LOCK_DAYS} days before today are locked (`report_locked`) unless the
province has granted an exception for that locality and date.

**Receipts.** The receipt is derived from the content (locality, date and every field after
normalisation: absent optional fields filled in, `outage_systems` sorted, texts trimmed), so the same
content always gets the same receipt and an identical replay is answered 200 with it.
""".strip()


@extend_schema_field({"type": "string", "enum": SUBMIT_STATUSES})
class BatchStatusField(serializers.CharField):
    pass


@extend_schema_field({"type": "string", "enum": [CREATED, UNCHANGED, CORRECTED]})
class AcceptedStatusField(serializers.CharField):
    pass


def _report_fields(*, required_key):
    fields = {
        "locality": serializers.CharField(
            required=required_key,
            help_text='Locality code as a string: a commune ("00004") or a province ("01"). '
            "A commune key sends for its commune; a province key for the province and its communes.",
        ),
        "date": serializers.DateField(
            required=required_key,
            help_text=f"The day the figures are for, YYYY-MM-DD, from {settings.REPORTS_FIRST_DATE} to today "
            "(Asia/Ho_Chi_Minh).",
        ),
    }
    relations = {small: large for small, large in LESS_OR_EQUAL}
    for name in INTEGER_FIELDS:
        limit = FIGURE_MAX[name]
        text = f"Required integer, 0 to {limit:,}."
        if name in relations:
            text += f" At most `{relations[name]}`."
        if name.startswith("pending_"):
            text += " Stock at the end of the day."
        fields[name] = serializers.IntegerField(min_value=0, max_value=limit, help_text=text)
    fields["outage_systems"] = serializers.ListField(
        child=serializers.ChoiceField(choices=OUTAGE_SYSTEM_CODES),
        required=False,
        allow_null=True,
        help_text="Systems that were down during the day; distinct values. Absent or null means none.",
    )
    for name in ("difficulties", "proposals"):
        fields[name] = serializers.CharField(
            required=False,
            allow_blank=True,
            allow_null=True,
            max_length=TEXT_MAX,
            help_text=f"Free text, at most {TEXT_MAX:,} characters (trimmed).",
        )
    fields["support_needed"] = serializers.BooleanField(
        required=False, allow_null=True, help_text="true asks the province for help; needs `difficulties`."
    )
    return fields


DailyReportInputSerializer = type(
    "DailyReportInputSerializer",
    (serializers.Serializer,),
    {**_report_fields(required_key=True), "__doc__": "One daily report of a commune or a province."},
)

DailyReportCorrectionSerializer = type(
    "DailyReportCorrectionSerializer",
    (serializers.Serializer,),
    {
        **_report_fields(required_key=False),
        "reason": serializers.CharField(
            max_length=TEXT_MAX, help_text="Why the report is corrected (required, kept with the revision)."
        ),
        "__doc__": "The full corrected report (every figure again) and the reason. `locality` and `date` may be "
        "left out; if present they must match the address.",
    },
)


class DailyReportBatchInputSerializer(serializers.Serializer):
    """Up to REPORT_BATCH_MAX reports, each validated and answered on its own."""

    reports = serializers.ListField(
        child=DailyReportInputSerializer(), max_length=settings.REPORT_BATCH_MAX, help_text="The reports."
    )


class MessageSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable code.")
    message = serializers.CharField(help_text="Translated message (Accept-Language: vi or en).")


class AcceptedSerializer(serializers.Serializer):
    """A report accepted (201), replayed identically (200) or corrected (200)."""

    status = AcceptedStatusField()
    locality = serializers.CharField()
    date = serializers.DateField()
    receipt = serializers.CharField(help_text="Stable for the same content.")
    revision = serializers.IntegerField(help_text="1 for the first submission, +1 per correction.")
    late = serializers.BooleanField(help_text="Received after the due time of the day (decided at first receipt).")
    warnings = MessageSerializer(
        many=True, help_text="Not errors: `late`, `lock_exception`, `no_dossiers` (nothing received or resolved)."
    )
    url = serializers.CharField(help_text="The report's address.")
    previous_receipt = serializers.CharField(required=False, help_text="Corrections only: the replaced receipt.")


class ReportErrorSerializer(ErrorSerializer):
    """An error without field errors: 401, 403, 404, 409 report_locked, 413, 415, 429. `code` is e.g.
    `not_authenticated`, `authentication_failed`, `outside_scope`, `not_found`, `report_locked`,
    `request_too_large`, `unsupported_media_type`, `throttled`."""

    # Echoes of the request (its address or its body), as sent: null, or not a date at all, when that is what
    # was sent.
    locality = serializers.CharField(required=False, allow_null=True, help_text="As sent.")
    date = serializers.CharField(required=False, allow_null=True, help_text="As sent.")


@extend_schema_field({"type": "string", "enum": ["report_locked"]})
class LockedCodeField(serializers.CharField):
    pass


class ReportLockedSerializer(ReportErrorSerializer):
    """409 `report_locked`: the day is past the lock window and the province granted no exception."""

    code = LockedCodeField(help_text="`report_locked`")


class ValidationErrorSerializer(serializers.Serializer):
    """400: nothing was stored; every bad field is named."""

    code = serializers.CharField(help_text="`invalid`")
    detail = serializers.CharField()
    errors = serializers.DictField(
        child=FieldErrorSerializer(many=True),
        help_text="Field name → its errors. `non_field_errors` when the body is not an object. Codes: "
        + ", ".join(f"`{c}`" for c in validation.ERROR_CODES)
        + ".",
    )
    locality = serializers.CharField(required=False, allow_null=True, help_text="As sent (null if not text).")
    date = serializers.CharField(required=False, allow_null=True, help_text="As sent (null if not text).")


class DiffEntrySerializer(serializers.Serializer):
    stored = serializers.JSONField(help_text="The stored value.")
    submitted = serializers.JSONField(help_text="The value just sent.")


class ConflictSerializer(serializers.Serializer):
    """409 report_exists: another content is stored for this locality and date; correct it with PUT."""

    code = serializers.CharField(help_text="`report_exists`")
    detail = serializers.CharField()
    locality = serializers.CharField()
    date = serializers.DateField()
    receipt = serializers.CharField(help_text="The stored report's receipt.")
    revision = serializers.IntegerField()
    late = serializers.BooleanField()
    diff = serializers.DictField(child=DiffEntrySerializer(), help_text="Only the fields that differ.")


class BatchItemSerializer(serializers.Serializer):
    """One item's outcome. created / unchanged carry `receipt`; conflict `receipt` and `diff`; invalid
    `errors`; forbidden and locked `code` and `detail`."""

    index = serializers.IntegerField(help_text="Position in the request's `reports`, from 0.")
    status = BatchStatusField()
    locality = serializers.CharField(allow_null=True)
    date = serializers.CharField(allow_null=True)
    receipt = serializers.CharField(required=False)
    revision = serializers.IntegerField(required=False)
    late = serializers.BooleanField(required=False)
    warnings = MessageSerializer(many=True, required=False)
    url = serializers.CharField(required=False)
    code = serializers.CharField(
        required=False, help_text="`report_exists`, `invalid`, `outside_scope`, `report_locked`."
    )
    detail = serializers.CharField(required=False)
    errors = serializers.DictField(child=FieldErrorSerializer(many=True), required=False)
    diff = serializers.DictField(child=DiffEntrySerializer(), required=False)


class BatchSummarySerializer(serializers.Serializer):
    created = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    conflict = serializers.IntegerField()
    invalid = serializers.IntegerField()
    forbidden = serializers.IntegerField()
    locked = serializers.IntegerField()


class BatchResultSerializer(serializers.Serializer):
    results = BatchItemSerializer(many=True, help_text="One per item, in the request's order.")
    summary = BatchSummarySerializer(help_text="Count of items per status.")


class CountsSerializer(serializers.Serializer):
    expected = serializers.IntegerField()
    received = serializers.IntegerField()
    on_time = serializers.IntegerField()
    late = serializers.IntegerField()
    missing = serializers.IntegerField()
    approved = serializers.IntegerField(help_text="Reports with the province's approval in force (DESIGN.md §11).")


class LocalityRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ProvinceCompletenessSerializer(CountsSerializer):
    province = serializers.CharField(help_text="Province code.")
    name = serializers.CharField()
    province_reported = serializers.BooleanField(
        allow_null=True, help_text="Did the province send its own report? null when outside the caller's scope."
    )
    missing_communes = LocalityRefSerializer(many=True)


class CompletenessSerializer(serializers.Serializer):
    """Expected = the province's communes + 1 (the province's own report), within the caller's scope."""

    date = serializers.DateField()
    due_at = serializers.DateTimeField(help_text="Reports received after this are late.")
    as_of = serializers.DateTimeField()
    totals = CountsSerializer(help_text="Sums over the provinces listed.")
    provinces = ProvinceCompletenessSerializer(many=True)


# --- examples ---------------------------------------------------------------------------------------------

EXAMPLE_REPORT = {
    "locality": "00004",
    "date": "2025-09-01",
    "received_online": 120,
    "received_direct": 35,
    "received_postal": 2,
    "received_fully_online": 98,
    "resolved_early": 40,
    "resolved_on_time": 90,
    "resolved_late": 3,
    "returned": 2,
    "pending_within_deadline": 210,
    "pending_overdue": 1,
    "online_payments": 64,
    "digitized_dossiers": 150,
    "e_results_issued": 110,
    "staff_assigned": 12,
    "staff_present": 11,
    "staff_with_digital_signature": 10,
    "documents_issued": 25,
    "documents_e_signed": 24,
    "outage_minutes": 15,
    "outage_systems": ["vneid"],
    "difficulties": "VNeID sign-in failed for 15 minutes in the morning.",
    "proposals": "",
    "support_needed": False,
}
EXAMPLE_RECEIPT = "R-5C2F0A9E1B7D43A6C8E2"
EXAMPLE_URL = "/api/v1/reports/daily/00004/2025-09-01/"

REQUEST_EXAMPLES = [OpenApiExample("A commune's day", value=EXAMPLE_REPORT, request_only=True)]
CORRECTION_EXAMPLES = [
    OpenApiExample(
        "Correct two figures",
        value={
            **{k: v for k, v in EXAMPLE_REPORT.items() if k not in ("locality", "date")},
            "resolved_late": 4,
            "returned": 1,
            "reason": "Two dossiers were counted twice.",
        },
        request_only=True,
    )
]
BATCH_EXAMPLES = [
    OpenApiExample(
        "Two reports",
        value={"reports": [EXAMPLE_REPORT, {**EXAMPLE_REPORT, "locality": "00008", "outage_systems": []}]},
        request_only=True,
    )
]


def _accepted(status, **extra):
    return {
        "status": status,
        "locality": "00004",
        "date": "2025-09-01",
        "receipt": EXAMPLE_RECEIPT,
        "revision": 1,
        "late": False,
        "warnings": [],
        "url": EXAMPLE_URL,
        **extra,
    }


CREATED_EXAMPLE = OpenApiExample("Created", value=_accepted(CREATED), response_only=True, status_codes=["201"])
LATE_EXAMPLE = OpenApiExample(
    "Created late",
    value=_accepted(
        CREATED,
        late=True,
        warnings=[
            {"code": "late", "message": "Received after the due time (2025-09-02 08:00); accepted and flagged late."}
        ],
    ),
    response_only=True,
    status_codes=["201"],
)
REPLAY_EXAMPLE = OpenApiExample(
    "Identical replay", value=_accepted(UNCHANGED), response_only=True, status_codes=["200"]
)
CORRECTED_EXAMPLE = OpenApiExample(
    "Corrected",
    value=_accepted(CORRECTED, receipt="R-9A41C07E33B25D0F61A8", revision=2, previous_receipt=EXAMPLE_RECEIPT),
    response_only=True,
    status_codes=["200"],
)
INVALID_EXAMPLE = OpenApiExample(
    "Field errors",
    value={
        "code": "invalid",
        "detail": "The report has errors; nothing was stored.",
        "locality": "00004",
        "date": "2025-09-01",
        "errors": {
            "received_postal": [{"code": "required", "message": "Missing figure: send 0 when there was nothing."}],
            "received_fully_online": [{"code": "exceeds", "message": "Must not exceed received_online (130 > 120)."}],
            "staff_present": [{"code": "wrong_type", "message": "Must be a whole number."}],
            "colour": [{"code": "unknown_field", "message": "Unknown field."}],
        },
    },
    response_only=True,
    status_codes=["400"],
)
EXISTS_EXAMPLE = OpenApiExample(
    "Report exists",
    value={
        "code": "report_exists",
        "detail": "Another report for this locality and date is already stored; correct it with PUT.",
        "locality": "00004",
        "date": "2025-09-01",
        "receipt": EXAMPLE_RECEIPT,
        "revision": 1,
        "late": False,
        "diff": {"resolved_late": {"stored": 3, "submitted": 4}},
    },
    response_only=True,
    status_codes=["409"],
)
LOCKED_EXAMPLE = OpenApiExample(
    "Report locked",
    value={
        "code": "report_locked",
        "detail": "Reports more than 7 days old are locked; ask the province for an exception.",
        "locality": "00004",
        "date": "2025-08-01",
    },
    response_only=True,
    status_codes=["409"],
)
FORBIDDEN_EXAMPLE = OpenApiExample(
    "Outside the key's scope",
    value={
        "code": "outside_scope",
        "detail": "You may not send or correct reports of this locality.",
        "locality": "00008",
        "date": "2025-09-01",
    },
    response_only=True,
    status_codes=["403"],
)
UNAUTHENTICATED_EXAMPLE = OpenApiExample(
    "No or revoked key",
    value={"detail": "Invalid or revoked API key.", "code": "authentication_failed"},
    response_only=True,
    status_codes=["401"],
)
TOO_LARGE_EXAMPLE = OpenApiExample(
    "Larger than one report",
    value={"code": "request_too_large", "detail": "The request body is larger than 64,384 bytes."},
    response_only=True,
    status_codes=["413"],
)
THROTTLED_EXAMPLE = OpenApiExample(
    "Too many requests",
    value={"detail": "Request was throttled. Expected available in 12 seconds.", "code": "throttled"},
    response_only=True,
    status_codes=["429"],
)
NOT_FOUND_EXAMPLE = OpenApiExample(
    "No such report",
    value={"detail": "No such report.", "code": "not_found"},
    response_only=True,
    status_codes=["404"],
)
BATCH_RESULT_EXAMPLE = OpenApiExample(
    "Mixed results",
    value={
        "results": [
            {"index": 0, **_accepted(CREATED)},
            {"index": 1, **_accepted(UNCHANGED, locality="00008", url="/api/v1/reports/daily/00008/2025-09-01/")},
            {
                "index": 2,
                "status": "conflict",
                "code": "report_exists",
                "detail": "Another report for this locality and date is already stored; correct it with PUT.",
                "locality": "00025",
                "date": "2025-09-01",
                "receipt": "R-0B7E6D2C91F84A53E1D0",
                "revision": 1,
                "late": False,
                "diff": {"returned": {"stored": 0, "submitted": 2}},
            },
            {
                "index": 3,
                "status": "invalid",
                "code": "invalid",
                "detail": "The report has errors; nothing was stored.",
                "locality": "00070",
                "date": "2025-09-01",
                "errors": {"outage_minutes": [{"code": "too_large", "message": "Must be at most 1440."}]},
            },
            {
                "index": 4,
                "status": "forbidden",
                "code": "outside_scope",
                "detail": "You may not send or correct reports of this locality.",
                "locality": "25747",
                "date": "2025-09-01",
            },
            {
                "index": 5,
                "status": "locked",
                "code": "report_locked",
                "detail": "Reports more than 7 days old are locked; ask the province for an exception.",
                "locality": "00004",
                "date": "2025-08-01",
            },
        ],
        "summary": {"created": 1, "unchanged": 1, "conflict": 1, "invalid": 1, "forbidden": 1, "locked": 1},
    },
    response_only=True,
    status_codes=["200"],
)
BATCH_INVALID_EXAMPLE = OpenApiExample(
    "Too many reports",
    value={"code": "batch_too_large", "detail": "A batch carries at most 5000 reports; this one has 5200."},
    response_only=True,
    status_codes=["400"],
)
COMPLETENESS_EXAMPLE = OpenApiExample(
    "A province officer of Hà Nội",
    value={
        "date": "2025-09-01",
        "due_at": "2025-09-02T08:00:00+07:00",
        "as_of": "2025-09-02T10:05:00+07:00",
        "totals": {"expected": 127, "received": 125, "on_time": 121, "late": 4, "missing": 2, "approved": 118},
        "provinces": [
            {
                "province": "01",
                "name": "Thành phố Hà Nội",
                "expected": 127,
                "received": 125,
                "on_time": 121,
                "late": 4,
                "missing": 2,
                "approved": 118,
                "province_reported": True,
                "missing_communes": [
                    {"code": "00004", "name": "Phường Ba Đình"},
                    {"code": "00008", "name": "Phường Ngọc Hà"},
                ],
            }
        ],
    },
    response_only=True,
    status_codes=["200"],
)


# --- the form version in force today (DESIGN.md §11: "the OpenAPI schema describes the current version") ------


def _indicator_schema(indicator: formspec.Indicator) -> dict[str, Any]:
    described = {"description": indicator.label_en or indicator.label_vi}
    if indicator.type == formspec.INTEGER:
        return {"type": "integer", "minimum": indicator.minimum or 0, "maximum": indicator.maximum, **described}
    if indicator.type == formspec.CHOICES:
        return {"type": "array", "items": {"enum": list(indicator.choice_codes), "type": "string"}, **described}
    if indicator.type == formspec.CHOICE:
        return {"type": "string", "enum": list(indicator.choice_codes), **described}
    if indicator.type == formspec.YES_NO:
        return {"type": "boolean", **described}
    return {"type": "string", "maxLength": indicator.maximum, **described}


def current_form_hook(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular's postprocessing hook (settings): while the default form is in force the schema is the §5
    contract's, untouched; once a later version is, the report bodies' fields are that version's."""
    try:
        spec = formspec.spec_for_day(timezone.localdate())
    except (DatabaseError, RuntimeError):
        # No database: `check --deploy` generates the schema with production settings and no server, and a test
        # module may generate it where database access is refused (pytest-django raises RuntimeError). The
        # schema is then the default form's, as it is until a version is imported.
        return result
    if formspec.is_default(spec):
        return result
    schemas = result.get("components", {}).get("schemas", {})
    for name, schema in schemas.items():
        if not name.startswith(("DailyReportInput", "DailyReportCorrection")) or "properties" not in schema:
            continue
        properties = schema["properties"]
        kept = {key: properties[key] for key in ("locality", "date", "reason") if key in properties}
        schema["properties"] = {**kept, **{i.code: _indicator_schema(i) for i in spec.indicators}}
        required = [key for key in schema.get("required", []) if key in kept]
        schema["required"] = [*required, *(i.code for i in spec.indicators if i.required)]
    return result
