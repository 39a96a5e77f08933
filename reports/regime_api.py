"""The reporting regime's API (DESIGN.md §11): the clerk's explanations, the province's quality queue, and
approvals. Views parse, call one service or selector, and shape the answer."""

import django_filters
from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import BAD_REQUEST_BODY, ErrorSerializer, field_errors
from localities.models import Province
from reports import approvals, formspec, quality
from reports.api import DETAIL_PARAMETERS, STANDARD_ERRORS, ReportApiMixin, actor
from reports.models import QualityWarning
from tasks.scoping import scope_for_request


class QualityWarningFilterSet(django_filters.FilterSet):
    """The queue's filters, shared by the API, the page and its exports."""

    province = django_filters.ModelChoiceFilter(queryset=Province.objects.all(), label=gettext_lazy("province"))
    commune = django_filters.CharFilter(field_name="commune_id", label=gettext_lazy("commune code"))
    state = django_filters.ChoiceFilter(choices=QualityWarning.State.choices, label=gettext_lazy("state"))
    indicator = django_filters.ChoiceFilter(
        choices=lambda: [(name, name) for name in formspec.indicator_labels()], label=gettext_lazy("figure")
    )
    follow_up = django_filters.BooleanFilter(label=gettext_lazy("follow up"))
    date = django_filters.DateFilter(label=gettext_lazy("date"), widget=forms.DateInput(attrs={"type": "date"}))
    date_after = django_filters.DateFilter(
        field_name="date",
        lookup_expr="gte",
        label=gettext_lazy("from"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_before = django_filters.DateFilter(
        field_name="date",
        lookup_expr="lte",
        label=gettext_lazy("until"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = QualityWarning
        fields = ["province", "commune", "state", "indicator", "follow_up", "date", "date_after", "date_before"]


class QualityWarningSerializer(serializers.ModelSerializer):
    province = serializers.CharField(source="province_id", read_only=True)
    expected = serializers.SerializerMethodField()
    explained_by = serializers.CharField(source="explained_by.username", default=None, read_only=True, allow_null=True)
    closed_by = serializers.CharField(source="closed_by.username", default=None, read_only=True, allow_null=True)

    class Meta:
        model = QualityWarning
        fields = [
            "id",
            "locality",
            "province",
            "date",
            "code",
            "indicator",
            "value",
            "expected",
            "median",
            "effect",
            "state",
            "explanation",
            "explained_by",
            "explained_at",
            "follow_up",
            "closed_by",
            "closed_at",
            "created_at",
        ]

    def get_expected(self, warning) -> list[float]:
        return [round(warning.expected_low, 2), round(warning.expected_high, 2)]


def _invalid(error: ValidationError) -> Response:
    return Response(
        field_errors(error.error_dict, detail=_("The request has errors; nothing was changed.")), status=400
    )


def _denied(error: PermissionDenied) -> Response:
    return Response({"code": "outside_scope", "detail": str(error)}, status=403)


class ExplanationView(ReportApiMixin, APIView):
    @extend_schema(
        summary="Explain a figure outside its usual range",
        description='The clerk\'s explanation of an open `outlier` warning of the report: `{"indicator", '
        '"text"}`. A figure without an open warning is a 400 naming `indicator`.',
        parameters=DETAIL_PARAMETERS,
        request=inline_serializer(
            "ExplanationInput", {"indicator": serializers.CharField(), "text": serializers.CharField(max_length=2000)}
        ),
        responses={
            200: OpenApiResponse(QualityWarningSerializer, "The warning, explained."),
            400: OpenApiResponse(BAD_REQUEST_BODY, "Field errors: `indicator` (no open warning), `text`."),
            403: OpenApiResponse(ErrorSerializer, "Outside the caller's scope."),
            404: OpenApiResponse(ErrorSerializer, "No such report, or not visible to the caller."),
            **STANDARD_ERRORS,
        },
    )
    def post(self, request, locality, date):
        scope = scope_for_request(request)
        who = actor(request)
        try:
            warning = quality.warning_explain(
                locality=locality,
                date=date,
                data=request.data,
                scope=scope,
                user=who.get("user"),
                client=who.get("client"),
            )
        except quality.NotFound:
            return Response({"code": "not_found", "detail": _("No such report.")}, status=404)
        except PermissionDenied as error:
            return _denied(error)
        except ValidationError as error:
            return _invalid(error)
        return Response(QualityWarningSerializer(warning).data)


class QualityQueueView(ReportApiMixin, generics.ListAPIView):
    """The quality queue: warnings of the localities the caller may see (a province its own and its
    communes', a commune its own, read-all roles everything), biggest effect on the national total
    (|value − band median|) first."""

    serializer_class = QualityWarningSerializer
    filterset_class = QualityWarningFilterSet

    def get_queryset(self):
        return quality.warnings_queue(scope=scope_for_request(self.request))

    @extend_schema(summary="The quality queue", responses={200: QualityWarningSerializer(many=True), **STANDARD_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


APPROVAL_RESULT = inline_serializer(
    "ApprovalResults",
    {
        "date": serializers.DateField(),
        "results": inline_serializer(
            "ApprovalResult",
            {
                "locality": serializers.CharField(),
                "status": serializers.ChoiceField(choices=approvals.RESULTS),
                "open_warnings": serializers.IntegerField(required=False),
            },
            many=True,
        ),
        "summary": serializers.DictField(child=serializers.IntegerField()),
    },
)


class ApprovalView(ReportApiMixin, APIView):
    @extend_schema(
        summary="Approve a day's reports",
        description="A province officer approves its communes' reports of a day and its own: "
        '`{"date", "localities": [...]}` → one result per locality: `approved`, `open_warnings` (a warning '
        "waits for an explanation or a correction), `not_received`, `already_approved`, `outside_scope`.",
        request=inline_serializer(
            "ApprovalInput", {"date": serializers.DateField(), "localities": serializers.ListField()}
        ),
        responses={
            200: OpenApiResponse(APPROVAL_RESULT, "One result per locality."),
            400: OpenApiResponse(BAD_REQUEST_BODY, "Field errors: `date`, `localities`."),
            403: OpenApiResponse(ErrorSerializer, "The caller approves nothing (not a province officer)."),
            **STANDARD_ERRORS,
        },
    )
    def post(self, request):
        try:
            body = approvals.reports_approve(user=request.user, scope=scope_for_request(request), data=request.data)
        except PermissionDenied as error:
            return _denied(error)
        except ValidationError as error:
            return _invalid(error)
        return Response(body)


class ApprovalWithdrawView(ReportApiMixin, APIView):
    @extend_schema(
        summary="Withdraw an approval",
        description='`{"date", "locality", "reason"}`: the report may be corrected again. The reason is required.',
        request=inline_serializer(
            "ApprovalWithdrawInput",
            {"date": serializers.DateField(), "locality": serializers.CharField(), "reason": serializers.CharField()},
        ),
        responses={
            200: OpenApiResponse(
                inline_serializer(
                    "ApprovalWithdrawn",
                    {
                        "status": serializers.CharField(),
                        "locality": serializers.CharField(),
                        "date": serializers.DateField(),
                        "reason": serializers.CharField(),
                    },
                ),
                "Withdrawn.",
            ),
            400: OpenApiResponse(BAD_REQUEST_BODY, "Field errors: `date`, `locality`, `reason`."),
            403: OpenApiResponse(ErrorSerializer, "Outside the caller's scope."),
            404: OpenApiResponse(ErrorSerializer, "No report of this locality on this date."),
            409: OpenApiResponse(ErrorSerializer, "`not_approved`: the report has no approval in force."),
            **STANDARD_ERRORS,
        },
    )
    def post(self, request):
        from reports.models import DailyReport

        try:
            approval = approvals.report_approval_withdraw(
                user=request.user, scope=scope_for_request(request), data=request.data
            )
        except PermissionDenied as error:
            return _denied(error)
        except ValidationError as error:
            return _invalid(error)
        except DailyReport.DoesNotExist:
            return Response({"code": "not_found", "detail": _("No such report.")}, status=404)
        except approvals.NotApproved:
            return Response(
                {"code": "not_approved", "detail": _("This report has no approval to withdraw.")}, status=409
            )
        return Response(
            {
                "status": "withdrawn",
                "locality": approval.locality,
                "date": approval.date.isoformat(),
                "reason": approval.reason,
            }
        )
