"""The steering pack's API (DESIGN.md §9): targets as of a day, and meetings — frozen, listed, compared.
Views parse, call one service or selector, and shape the answer."""

import datetime

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import ErrorSerializer, field_errors
from core.dates import BadDay, view_day
from core.db import parse_id
from dashboards import cache as dashboard_cache
from dashboards.api import WORKING_GROUP_PARAMETER, working_group_view
from dashboards.meetings import meeting_changes, meeting_create
from dashboards.models import Meeting
from dashboards.targets import target_json, target_values
from tasks import working_groups
from tasks.scoping import scope_for_request


def _day(request) -> datetime.date:
    raw = request.query_params.get("date")
    if not raw:
        return timezone.localdate()
    try:
        return view_day(raw)
    except BadDay as exc:
        raise ValidationError({"date": [str(exc)]}, code=exc.code) from None


TARGET_EXAMPLE = {
    "code": "fully_online_share",
    "title": "Share of administrative dossiers processed fully online",
    "unit": "share",
    "target": 0.8,
    "comparison": "at_least",
    "deadline": "2025-12-31",
    "level": "province",
    "method": "computed",
    "period": "last_30_days",
    "date": "2025-11-30",
    "value": 0.8123,
    "met": True,
    "provinces": [{"province": "01", "value": 0.8412, "met": True}, {"province": "04", "value": None, "met": None}],
    "as_of": "2025-12-01T08:05:00+07:00",
}
TargetSchema = inline_serializer(
    "Target",
    many=True,
    fields={
        "code": serializers.CharField(),
        "title": serializers.CharField(),
        "unit": serializers.CharField(),
        "target": serializers.FloatField(help_text="the value to reach"),
        "comparison": serializers.ChoiceField(choices=["at_least", "at_most"]),
        "deadline": serializers.DateField(),
        "level": serializers.CharField(help_text="national, or province: one value per province too"),
        "method": serializers.ChoiceField(choices=["computed", "entered"]),
        "period": serializers.CharField(allow_null=True, help_text="computed targets: day, last_30_days, since_start"),
        "date": serializers.DateField(),
        "value": serializers.FloatField(allow_null=True, help_text="null: not measured (never 0 for missing)"),
        "met": serializers.BooleanField(allow_null=True, help_text="null when there is no value"),
        "provinces": inline_serializer(
            "TargetProvince",
            many=True,
            fields={
                "province": serializers.CharField(),
                "value": serializers.FloatField(allow_null=True),
                "met": serializers.BooleanField(allow_null=True),
            },
        ),
        "as_of": serializers.DateTimeField(),
    },
)


class TargetsView(APIView):
    @extend_schema(
        summary="The plan's targets as of a day",
        description="Per target, as of the end of `date` (default today): the national value and whether it is "
        "met, and for targets of each province every province's value. A computed target sums the daily "
        "reports' figures over its period; an entered one takes the latest value its agency entered by then. A "
        "target not measured has `value` null, never 0.",
        parameters=[OpenApiParameter("date", OpenApiTypes.DATE, description="YYYY-MM-DD, from 2025-06-19 to today.")],
        responses={200: TargetSchema},
        examples=[OpenApiExample("one target", value=[TARGET_EXAMPLE], response_only=True)],
    )
    def get(self, request):
        day = _day(request)

        def build():
            now = timezone.now()
            return [target_json(item, day=day, as_of=now) for item in target_values(day)]

        return Response(dashboard_cache.cached("api-targets", [day], build))


# --- meetings -------------------------------------------------------------------------------------------------


class MeetingSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    content = serializers.JSONField(
        read_only=True,
        help_text="The pack as frozen: phases (with groups, lead agencies, provinces and forecasts), tasks, "
        "targets, the province ranking, and the overdue, blocked and non-reporting lists, as of `date`.",
    )

    class Meta:
        model = Meeting
        fields = ["id", "title", "date", "created_by", "created_at", "content"]
        read_only_fields = fields


class MeetingListSerializer(MeetingSerializer):
    class Meta(MeetingSerializer.Meta):
        fields = ["id", "title", "date", "created_by", "created_at"]
        read_only_fields = fields


class MeetingInputSerializer(serializers.Serializer):
    """Documentation of POST /api/v1/meetings/ (validated by dashboards.meetings.meeting_create)."""

    title = serializers.CharField(max_length=200)
    date = serializers.DateField(
        help_text="The day the pack looks at: its state at the end of that day; not in the future."
    )


MEETING_ERRORS = {
    400: OpenApiResponse(
        description="`invalid`: a title missing, a date that is not a date, before the plan or in the future.",
        examples=[
            OpenApiExample(
                "future date",
                value={
                    "code": "invalid",
                    "detail": "The meeting was not created: see the errors of each field.",
                    "errors": {
                        "date": [
                            {
                                "code": "date_in_future",
                                "message": "Must not be after today (2025-12-01 in Asia/Ho_Chi_Minh).",
                            }
                        ]
                    },
                },
            )
        ],
    ),
    403: OpenApiResponse(ErrorSerializer, description="Only steering members and the national admin create meetings."),
}


class MeetingListView(generics.ListAPIView):
    serializer_class = MeetingListSerializer
    queryset = Meeting.objects.none()

    def get_queryset(self):
        return Meeting.objects.visible_to(scope_for_request(self.request)).select_related("created_by")

    @extend_schema(summary="Meetings of the steering committee (steering, inspectors, the admin)")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Freeze the state as of a day as a meeting",
        request=MeetingInputSerializer,
        responses={201: MeetingSerializer, **MEETING_ERRORS},
        examples=[
            OpenApiExample("meeting", value={"title": "Phiên họp tháng 12", "date": "2025-11-30"}, request_only=True)
        ],
    )
    def post(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        unknown = sorted(set(data) - {"title", "date"}) if isinstance(request.data, dict) else []
        if not isinstance(request.data, dict) or unknown:
            errors = {name: [DjangoValidationError(_("Unknown field."), code="unknown_field")] for name in unknown}
            if not isinstance(request.data, dict):
                errors = {"non_field_errors": [DjangoValidationError(_("Send a JSON object."), code="not_an_object")]}
            return Response(
                field_errors(errors, detail=_("The meeting was not created: see the errors of each field.")), status=400
            )
        try:
            meeting = meeting_create(
                scope=scope_for_request(request), actor=request.user, title=data.get("title"), date=data.get("date")
            )
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from None
        except DjangoValidationError as exc:
            body = field_errors(exc.error_dict, detail=_("The meeting was not created: see the errors of each field."))
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return Response(MeetingSerializer(meeting).data, status=status.HTTP_201_CREATED)


class MeetingDetailView(generics.RetrieveAPIView):
    serializer_class = MeetingSerializer
    queryset = Meeting.objects.none()

    def get_queryset(self):
        return Meeting.objects.visible_to(scope_for_request(self.request)).select_related("created_by")

    @extend_schema(summary="One meeting, exactly as it was frozen")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


ChangesSchema = inline_serializer(
    "MeetingChanges",
    fields={
        "meeting": serializers.IntegerField(),
        "since": serializers.IntegerField(),
        "date": serializers.DateField(),
        "since_date": serializers.DateField(),
        "completed": serializers.ListField(child=serializers.DictField(), help_text="tasks completed since"),
        "newly_overdue": serializers.ListField(child=serializers.DictField()),
        "newly_blocked": serializers.ListField(child=serializers.DictField(), help_text="assignments"),
        "unblocked": serializers.ListField(child=serializers.DictField(), help_text="assignments"),
        "forecast_slipped": serializers.ListField(
            child=serializers.DictField(),
            help_text="phase, lead-agency and task forecasts whose risk rose or date moved later",
        ),
        "targets": serializers.ListField(child=serializers.DictField(), help_text='{"code", "before", "after"}'),
        "provinces": serializers.ListField(
            child=serializers.DictField(), help_text='{"province", "rank_before", "rank_after"}'
        ),
        "units_completed": serializers.ListField(
            child=serializers.DictField(),
            help_text='{"task", "unit", "level", "completed_on"}: each agency\'s or province\'s own part of a task '
            "completed in between (unit: the agency's code or the province's code)",
        ),
        "green_share": serializers.ListField(
            child=serializers.DictField(),
            help_text='{"task", "before", "after"}: commune-level tasks whose share of green communes moved (0..1)',
        ),
    },
)


class MeetingChangesView(APIView):
    @extend_schema(
        summary="What changed since an earlier meeting",
        parameters=[
            OpenApiParameter("since", OpenApiTypes.INT, required=True, description="The earlier meeting's id."),
            WORKING_GROUP_PARAMETER,
        ],
        responses={
            200: ChangesSchema,
            400: OpenApiResponse(
                description="`since` missing or not a meeting you may read; `working_group` not a working group."
            ),
        },
        description="With `working_group`, the lists of tasks, assignments, units' parts and task forecasts keep "
        "the tasks of the task groups the working group follows; the phases', agencies', targets' and provinces' "
        "changes stay whole.",
    )
    def get(self, request, pk):
        scope = scope_for_request(request)
        meetings = Meeting.objects.visible_to(scope)
        meeting = get_object_or_404(meetings, pk=pk)
        raw = request.query_params.get("since", "")
        since_id = parse_id(raw)
        since = meetings.filter(pk=since_id).first() if since_id is not None else None
        if since is None:
            error = DjangoValidationError(_("Give the id of an earlier meeting you may read."), code="invalid")
            return Response(field_errors({"since": [error]}, detail=str(error.message)), status=400)
        codes = working_groups.task_codes(working_group_view(request))
        return Response(meeting_changes(meeting=meeting, since=since, task_codes=codes))
