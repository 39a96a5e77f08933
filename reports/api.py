"""The daily-report API of DESIGN.md §5. Views parse, call one service or selector, and shape the answer."""

from collections import Counter

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import bad_request_body, refuse_larger_body
from core.dates import DATE_MESSAGE, INVALID_DATE, parse_date_or_none
from core.parsers import JSONParser
from reports import openapi as doc
from reports import services, validation
from reports.completeness import report_completeness
from reports.figures import TEXT_MAX
from reports.filters import DailyReportFilterSet
from reports.models import ApiClient
from reports.selectors import report_detail_queryset, reports_visible
from reports.serializers import DailyReportDetailSerializer, DailyReportSerializer
from tasks.scoping import scope_for_request

HTTP_STATUS = {
    services.CREATED: status.HTTP_201_CREATED,
    services.UNCHANGED: status.HTTP_200_OK,
    services.CORRECTED: status.HTTP_200_OK,
    services.CONFLICT: status.HTTP_409_CONFLICT,
    services.LOCKED: status.HTTP_409_CONFLICT,
    services.INVALID: status.HTTP_400_BAD_REQUEST,
    services.FORBIDDEN: status.HTTP_403_FORBIDDEN,
    services.NOT_FOUND: status.HTTP_404_NOT_FOUND,
    services.APPROVED: status.HTTP_409_CONFLICT,
}


def actor(request):
    """The service's `client` (an API key) or `user` (a session)."""
    if isinstance(request.auth, ApiClient):
        return {"client": request.auth}
    return {"user": request.user}


def outcome_body(outcome, *, list_url=None):
    """The JSON answer for one report: the single POST's and PUT's body, and a batch item (without index)."""
    body = {"locality": outcome.locality, "date": outcome.date}
    if outcome.status in (services.CREATED, services.UNCHANGED, services.CORRECTED):
        body = {
            "status": outcome.status,
            **body,
            "receipt": outcome.receipt,
            "revision": outcome.revision,
            "late": outcome.late,
            "warnings": outcome.warnings,
            # The detail route is the list route + "<locality>/<date>/": a batch reverses the list route once
            # instead of the detail route 5,000 times.
            "url": f"{list_url or reverse('daily-report-list')}{outcome.locality}/{outcome.date}/",
        }
        if outcome.previous_receipt:
            body["previous_receipt"] = outcome.previous_receipt
        return body
    if outcome.status == services.INVALID:
        return {
            "code": "invalid",
            "detail": _("The report has errors; nothing was stored."),
            **body,
            "errors": outcome.errors,
        }
    if outcome.status == services.CONFLICT:
        return {
            "code": "report_exists",
            "detail": _("Another report for this locality and date is already stored; correct it with PUT."),
            **body,
            "receipt": outcome.receipt,
            "revision": outcome.revision,
            "late": outcome.late,
            "diff": outcome.diff,
        }
    if outcome.status == services.LOCKED:
        return {
            "code": "report_locked",
            "detail": _("Reports more than %(days)s days old are locked; ask the province for an exception.")
            % {"days": settings.REPORT_LOCK_DAYS},
            **body,
        }
    if outcome.status == services.APPROVED:
        return {
            "code": "report_approved",
            "detail": _("The province has approved this report; it can be corrected once the approval is withdrawn."),
            **body,
        }
    if outcome.status == services.FORBIDDEN:
        return {"code": "outside_scope", "detail": _("You may not send or correct reports of this locality."), **body}
    return {"code": "not_found", "detail": _("No such report."), **body}


def outcome_response(outcome):
    response = Response(outcome_body(outcome), status=HTTP_STATUS[outcome.status])
    if outcome.status == services.CREATED:
        response["Location"] = response.data["url"]
    return response


# The largest body one report can be: its two texts at their longest with every character escaped as
# astral pairs ("\\ud83d\\ude00", 12 bytes per character), the 19 figures, the systems and the keys (under
# 2 kB), and room for indentation. Both paths refuse a longer single POST by its Content-Length, before
# reading it (413 `request_too_large`): the hot path's fast path (reports.fastpath) and this view.
REPORT_BODY_MAX_BYTES = 2 * TEXT_MAX * 12 + 16 * 1024


class ReportApiMixin:
    parser_classes = [JSONParser]


# Field errors, or `parse_error` when the body is not JSON.
BAD_REQUEST = bad_request_body(doc.ValidationErrorSerializer, component_name="ReportBadRequest")

STANDARD_ERRORS = {
    401: OpenApiResponse(
        doc.ReportErrorSerializer, "No key, or an invalid or revoked key.", [doc.UNAUTHENTICATED_EXAMPLE]
    ),
    429: OpenApiResponse(
        doc.ReportErrorSerializer,
        "Too many requests for this key; retry after `Retry-After` seconds.",
        [doc.THROTTLED_EXAMPLE],
    ),
}


class DailyReportListView(ReportApiMixin, generics.ListAPIView):
    """Daily reports the caller may see (a commune its own, a province its own and its communes', steering,
    inspectors and the admin all), newest first."""

    serializer_class = DailyReportSerializer
    filterset_class = DailyReportFilterSet
    ordering_fields = ["date", "locality", "received_at"]

    def get_queryset(self):
        return reports_visible(scope_for_request(self.request))

    @extend_schema(summary="List daily reports", responses={200: DailyReportSerializer(many=True), **STANDARD_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Submit one daily report",
        description=doc.RULES,
        request=doc.DailyReportInputSerializer,
        examples=doc.REQUEST_EXAMPLES,
        responses={
            201: OpenApiResponse(
                doc.AcceptedSerializer,
                "New report stored; `Location` is its address.",
                [doc.CREATED_EXAMPLE, doc.LATE_EXAMPLE],
            ),
            200: OpenApiResponse(
                doc.AcceptedSerializer, "Identical replay: nothing written, the same receipt.", [doc.REPLAY_EXAMPLE]
            ),
            400: OpenApiResponse(
                BAD_REQUEST, "Field errors (or `parse_error`: not JSON); nothing stored.", [doc.INVALID_EXAMPLE]
            ),
            403: OpenApiResponse(
                doc.ReportErrorSerializer,
                "The locality is outside the key's (or user's) scope.",
                [doc.FORBIDDEN_EXAMPLE],
            ),
            409: OpenApiResponse(
                PolymorphicProxySerializer(
                    component_name="SubmitConflict",
                    serializers=[doc.ConflictSerializer, doc.ReportLockedSerializer],
                    resource_type_field_name=None,
                ),
                "`report_exists`: different figures are stored (see `diff`; correct with PUT). "
                "`report_locked`: the day is past the lock window (body as `Error`).",
                [doc.EXISTS_EXAMPLE, doc.LOCKED_EXAMPLE],
            ),
            413: OpenApiResponse(
                doc.ReportErrorSerializer,
                "`request_too_large`: the body is longer than one report can be; refused before it is read.",
                [doc.TOO_LARGE_EXAMPLE],
            ),
            **STANDARD_ERRORS,
        },
    )
    def post(self, request):
        refuse_larger_body(request, REPORT_BODY_MAX_BYTES)
        outcome = services.daily_report_submit(payload=request.data, **actor(request))
        return outcome_response(outcome)


DETAIL_PARAMETERS = [
    OpenApiParameter("locality", OpenApiTypes.STR, OpenApiParameter.PATH, description='Locality code, e.g. "00004".'),
    OpenApiParameter("date", OpenApiTypes.DATE, OpenApiParameter.PATH, description="YYYY-MM-DD."),
]


class DailyReportDetailView(ReportApiMixin, APIView):
    @extend_schema(
        summary="One daily report, its derived rates and its revisions",
        parameters=DETAIL_PARAMETERS,
        responses={
            200: DailyReportDetailSerializer,
            404: OpenApiResponse(
                doc.ReportErrorSerializer, "No such report, or not visible to the caller.", [doc.NOT_FOUND_EXAMPLE]
            ),
            **STANDARD_ERRORS,
        },
    )
    def get(self, request, locality, date):
        day = parse_date_or_none(date)
        report = (
            report_detail_queryset(scope_for_request(request)).filter(locality=locality, date=day).first()
            if day is not None
            else None
        )
        if report is None:
            return Response({"code": "not_found", "detail": _("No such report.")}, status=404)
        return Response(DailyReportDetailSerializer(report).data)

    @extend_schema(
        summary="Correct a daily report",
        description="Replaces the stored content with the full report sent (every figure again, same rules as "
        "the submission) and keeps the earlier revision. Needs `reason`. Sending the stored content again "
        "changes nothing and answers 200 `unchanged`.\n\n" + doc.RULES,
        parameters=DETAIL_PARAMETERS,
        request=doc.DailyReportCorrectionSerializer,
        examples=doc.CORRECTION_EXAMPLES,
        responses={
            200: OpenApiResponse(
                doc.AcceptedSerializer, "Corrected, with a new receipt (or unchanged).", [doc.CORRECTED_EXAMPLE]
            ),
            400: OpenApiResponse(
                BAD_REQUEST, "Field errors, or no `reason` (or `parse_error`: not JSON).", [doc.INVALID_EXAMPLE]
            ),
            403: OpenApiResponse(doc.ReportErrorSerializer, "Outside the caller's scope.", [doc.FORBIDDEN_EXAMPLE]),
            404: OpenApiResponse(
                doc.ReportErrorSerializer, "No report for this locality and date.", [doc.NOT_FOUND_EXAMPLE]
            ),
            409: OpenApiResponse(
                doc.ReportErrorSerializer, "`report_locked`: past the lock window.", [doc.LOCKED_EXAMPLE]
            ),
            **STANDARD_ERRORS,
        },
    )
    def put(self, request, locality, date):
        data = request.data
        reason = data.get("reason") if isinstance(data, dict) else None
        payload = {k: v for k, v in data.items() if k != "reason"} if isinstance(data, dict) else data
        outcome = services.daily_report_correct(
            locality=locality, date=date, payload=payload, reason=reason, **actor(request)
        )
        return outcome_response(outcome)


class DailyReportBatchView(ReportApiMixin, APIView):
    @extend_schema(
        summary="Submit up to 5,000 daily reports",
        description=f'`{{"reports": [...]}}` with at most {settings.REPORT_BATCH_MAX:,} reports. Each report is '
        "judged on its own, exactly as a single POST, and gets one result in the request's order: "
        "`created` / `unchanged` (with `receipt`), `conflict` (with `receipt` and `diff`), `invalid` (with "
        "`errors`), `forbidden` (outside the key's scope), `locked`. One bad item never rejects the others. "
        "Two items for the same locality and date: the first is stored, the second is `unchanged` or "
        "`conflict`.\n\n" + doc.RULES,
        request=doc.DailyReportBatchInputSerializer,
        examples=doc.BATCH_EXAMPLES,
        responses={
            200: OpenApiResponse(doc.BatchResultSerializer, "One result per item.", [doc.BATCH_RESULT_EXAMPLE]),
            400: OpenApiResponse(
                doc.ReportErrorSerializer,
                '`invalid_batch` (not `{"reports": [...]}`) or `batch_too_large`.',
                [doc.BATCH_INVALID_EXAMPLE],
            ),
            **STANDARD_ERRORS,
        },
    )
    def post(self, request):
        data = request.data
        limit = settings.REPORT_BATCH_MAX
        if not isinstance(data, dict) or not isinstance(data.get("reports"), list) or set(data) != {"reports"}:
            return Response(
                {"code": "invalid_batch", "detail": _('Send {"reports": [...]}: a list of reports and nothing else.')},
                status=400,
            )
        reports = data["reports"]
        if len(reports) > limit:
            return Response(
                {
                    "code": "batch_too_large",
                    "detail": _("A batch carries at most %(limit)s reports; this one has %(count)s.")
                    % {"limit": limit, "count": len(reports)},
                },
                status=400,
            )
        outcomes = services.daily_report_submit_batch(payloads=reports, **actor(request))
        list_url = reverse("daily-report-list")
        results = [
            {"index": i, "status": o.status, **outcome_body(o, list_url=list_url)} for i, o in enumerate(outcomes)
        ]
        counts = Counter(o.status for o in outcomes)
        return Response({"results": results, "summary": {s: counts.get(s, 0) for s in services.SUBMIT_STATUSES}})


class CompletenessView(ReportApiMixin, APIView):
    @extend_schema(
        summary="Who reported for a day",
        description="By province: expected (the province's communes + 1 for the province's own report), "
        "received, on time, late, missing, the missing communes and whether the province itself reported; "
        "plus totals. Counts only what the caller may see.",
        parameters=[
            OpenApiParameter(
                "date",
                OpenApiTypes.DATE,
                description=f"YYYY-MM-DD, from {settings.REPORTS_FIRST_DATE} to today (Asia/Ho_Chi_Minh); default "
                "today.",
            ),
            OpenApiParameter("province", OpenApiTypes.STR, description="Only this province (code)."),
        ],
        responses={
            200: OpenApiResponse(doc.CompletenessSerializer, "Completeness.", [doc.COMPLETENESS_EXAMPLE]),
            400: OpenApiResponse(
                doc.ValidationErrorSerializer, "Bad `date`: `invalid_date`, `date_too_early`, `date_in_future`."
            ),
            **STANDARD_ERRORS,
        },
    )
    def get(self, request):
        raw = request.query_params.get("date")
        today = timezone.localdate()
        day = today if not raw else parse_date_or_none(raw, bounded=False)
        error = validation.report_day_error(day, today=today) if day is not None else None
        if day is None or error is not None:
            # The days reports may be sent for: a day before them has none, and one far off (year 0047 or
            # 9999) has no due time to show (a local-mean-time offset, or no next day at all).
            code, message = error or (INVALID_DATE, str(DATE_MESSAGE))
            return Response(
                {"code": "invalid", "detail": message, "errors": {"date": [validation.error(code, message)]}},
                status=400,
            )
        body = report_completeness(
            scope=scope_for_request(request), day=day, province_id=request.query_params.get("province") or None
        )
        return Response(body)
