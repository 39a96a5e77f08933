"""`GET /api/v1/reports/form/?date=D` (DESIGN.md §11): the report form in force on a day — its code, title,
version, the day it took effect, its status, its indicators with every attribute, its rules and its rates —
so an integrator's software can follow a new version without a new document. Every caller of the API may read
it (a key, or a logged-in user): it is the contract, not data of a locality."""

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.dates import DATE_MESSAGE, INVALID_DATE, parse_date_or_none
from reports import formspec, validation
from reports import openapi as doc
from reports.api import STANDARD_ERRORS, ReportApiMixin

NO_FORM = "no_form"


class ChoiceSerializer(serializers.Serializer):
    code = serializers.CharField()
    label_vi = serializers.CharField()
    label_en = serializers.CharField()


class IndicatorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The field's name in a report's JSON.")
    series = serializers.CharField(help_text="The series it continues: its own code, or an earlier indicator's.")
    label_vi = serializers.CharField()
    label_en = serializers.CharField()
    help_vi = serializers.CharField()
    help_en = serializers.CharField()
    type = serializers.ChoiceField(choices=formspec.TYPES)
    unit = serializers.CharField()
    minimum = serializers.IntegerField(allow_null=True)
    maximum = serializers.IntegerField(allow_null=True, help_text="Largest value, or longest text.")
    required = serializers.BooleanField()
    aggregation = serializers.ChoiceField(
        choices=formspec.AGGREGATIONS, help_text="sum; stock (day-end, summed across localities only); none."
    )
    section = serializers.CharField()
    choices = ChoiceSerializer(many=True)


class RuleSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The error's (or the warning's) code.")
    kind = serializers.ChoiceField(choices=formspec.RULE_KINDS)
    left = serializers.CharField()
    op = serializers.CharField(help_text="<=, >= or = (compare); empty otherwise.")
    right = serializers.CharField()
    field = serializers.CharField(help_text="The field the error or the warning names.")
    # Text, not an enum: the alerts' own `severity` enum has other values, and one name cannot serve both.
    severity = serializers.CharField(help_text="error (refused) or warning (accepted, to be explained).")
    message_vi = serializers.CharField()
    message_en = serializers.CharField()


class RateSerializer(serializers.Serializer):
    code = serializers.CharField()
    numerator = serializers.CharField()
    denominator = serializers.CharField(allow_null=True, help_text="null: a total, not a ratio.")
    label_vi = serializers.CharField()
    label_en = serializers.CharField()


class ReportFormSerializer(serializers.Serializer):
    code = serializers.CharField()
    title_vi = serializers.CharField()
    title_en = serializers.CharField()
    status = serializers.ChoiceField(
        choices=formspec.STATUSES, help_text="proposed until an official form is imported."
    )
    version = serializers.IntegerField()
    effective_from = serializers.DateField()
    indicators = IndicatorSerializer(many=True)
    rules = RuleSerializer(many=True)
    rates = RateSerializer(many=True)


def _example() -> dict:
    body = formspec.default_spec().as_dict()
    return {**body, "indicators": body["indicators"][:1] + body["indicators"][-4:-3], "rules": body["rules"][:1]}


class ReportFormView(ReportApiMixin, APIView):
    @extend_schema(
        summary="The report form in force on a day",
        description="Its indicators (the fields of a daily report, their types, bounds and labels), its rules and "
        "its rates, as the validator applies them to a report of that day.",
        parameters=[OpenApiParameter("date", OpenApiTypes.DATE, description="YYYY-MM-DD; default today.")],
        responses={
            200: OpenApiResponse(
                ReportFormSerializer,
                "The form.",
                [OpenApiExample("The default form (abridged)", value=_example(), response_only=True)],
            ),
            400: OpenApiResponse(doc.ValidationErrorSerializer, "Bad `date`: `invalid_date`."),
            404: OpenApiResponse(doc.ReportErrorSerializer, "No form is in force on that day (`no_form`)."),
            **STANDARD_ERRORS,
        },
    )
    def get(self, request):
        raw = request.query_params.get("date")
        day = timezone.localdate() if not raw else parse_date_or_none(raw, bounded=True)
        if day is None:
            message = str(DATE_MESSAGE)
            return Response(
                {"code": "invalid", "detail": message, "errors": {"date": [validation.error(INVALID_DATE, message)]}},
                status=400,
            )
        spec = formspec.spec_for_day(day)
        if day < spec.effective_from:
            return Response(
                {
                    "code": NO_FORM,
                    "detail": _("No report form is in force on %(date)s; the first takes effect on %(first)s.")
                    % {"date": day.isoformat(), "first": spec.effective_from.isoformat()},
                },
                status=404,
            )
        return Response(spec.as_dict())
