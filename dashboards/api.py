"""JSON twins of the dashboards (DESIGN.md §6): the same selectors and numbers as the pages."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.dates import BadDay
from core.pagecache import whole_response
from dashboards import cache as dashboard_cache
from dashboards import selectors, snapshots
from reports.figures import INTEGER_FIELDS, RATE_NAMES
from tasks import working_groups

DATE_PARAMETER = OpenApiParameter(
    "date", OpenApiTypes.DATE, description="Day (YYYY-MM-DD, not in the future). Default: the latest day with data."
)
_rates = inline_serializer(
    "DashboardRates",
    {
        k: serializers.FloatField(allow_null=True, help_text="fraction 0–1; null when the denominator is 0")
        for k in RATE_NAMES  # the default form's ratios (§6); a later version's are its own
    },
)
_completeness = inline_serializer(
    "DashboardCompleteness",
    {k: serializers.IntegerField() for k in ("expected", "received", "on_time", "late", "missing", "approved")},
)
_totals = inline_serializer("DashboardTotals", {f: serializers.IntegerField() for f in INTEGER_FIELDS})
_figures = {
    "data": serializers.ChoiceField(
        choices=["approved"],
        required=False,
        help_text="present with `?data=approved`: the totals are approved reports'",
    ),
    "date": serializers.DateField(),
    "as_of": serializers.DateTimeField(allow_null=True, help_text="when the rollup was built; null if never"),
    "totals": _totals,
    "rates": _rates,
    "completeness": _completeness,
}
NationalSchema = inline_serializer("DashboardNational", _figures)
ProvinceSchema = inline_serializer("DashboardProvince", {"province": serializers.CharField(), **_figures}, many=True)
PhaseSchema = inline_serializer(
    "DashboardPhase",
    many=True,
    fields={
        "code": serializers.CharField(),
        "date": serializers.DateField(allow_null=True, help_text="the day shown; null before any snapshot"),
        "as_of": serializers.DateTimeField(allow_null=True, help_text="when that day's task snapshot was built"),
        "deadline": serializers.DateField(),
        "days_left": serializers.IntegerField(help_text="negative when the deadline has passed"),
        "catalogue": serializers.ChoiceField(
            choices=["official", "demo"],
            help_text="`demo` while the phase's tasks are the demo catalogue, not the official list of Plan 02",
        ),
        "tasks": inline_serializer(
            "DashboardPhaseTasks",
            {k: serializers.IntegerField() for k in selectors.STATUS_KEYS},
        ),
        "forecast": inline_serializer(
            "DashboardForecast",
            {
                "date": serializers.DateField(allow_null=True),
                "risk": serializers.ChoiceField(choices=["green", "amber", "red"]),
                "reason": serializers.CharField(),
            },
        ),
    },
)


DATA_PARAMETER = OpenApiParameter(
    "data",
    OpenApiTypes.STR,
    enum=list(selectors.DATA_CHOICES),
    description="Which reports the totals and rates sum: `all` (default) or `approved`, only those with the "
    'province\'s approval in force (DESIGN.md §11; the block then says `"data": "approved"`). '
    "Completeness always counts every report and says how many are approved.",
)


def _data(request):
    try:
        return selectors.data_param(request.query_params.get("data"))
    except selectors.BadData as exc:
        raise ValidationError({"data": [str(exc)]}, code=exc.code) from None


def _day(request):
    try:
        return selectors.day_param(request.query_params.get("date"))
    except BadDay as exc:
        raise ValidationError({"date": [str(exc)]}, code=exc.code) from None


class NationalDashboard(APIView):
    @extend_schema(
        parameters=[DATE_PARAMETER, DATA_PARAMETER],
        responses={200: NationalSchema},
        summary="National figures of one day",
        description="Totals of every integer figure over all localities, rates and reporting completeness "
        "(localities: 3,321 communes + 34 provinces), read from the rollups.",
        examples=[
            OpenApiExample(
                "bad date",
                value={"date": ["Must be a date written YYYY-MM-DD."]},
                response_only=True,
                status_codes=["400"],
            )
        ],
    )
    @whole_response
    def get(self, request):
        day, data = _day(request), _data(request)
        return Response(
            dashboard_cache.cached("api-national", [day, data], lambda: selectors.national_figures(day, data=data))
        )


class ProvincesDashboard(APIView):
    @extend_schema(
        parameters=[DATE_PARAMETER, DATA_PARAMETER],
        responses={200: ProvinceSchema},
        summary="Each province's figures of one day (its communes and its own report)",
    )
    @whole_response
    def get(self, request):
        day, data = _day(request), _data(request)
        return Response(
            dashboard_cache.cached("api-provinces", [day, data], lambda: selectors.provinces_figures(day, data=data))
        )


AS_OF_PARAMETER = OpenApiParameter(
    "date",
    OpenApiTypes.DATE,
    description="The state at the end of this day (YYYY-MM-DD, from 2025-06-19 to today), rebuilt from the "
    "append-only history. Default: the latest task snapshot.",
)


WORKING_GROUP_PARAMETER = OpenApiParameter(
    "working_group",
    OpenApiTypes.INT,
    description="A working group's view (its number, GET /api/v1/working-groups/): only the tasks of the task "
    "groups it follows. Empty or absent: every group. An unknown number is a 400 naming `working_group`.",
)


def working_group_view(request) -> working_groups.View:
    """The working group's view named by `?working_group=`; a 400 naming the parameter for an unknown one."""
    view = working_groups.view_of(request.query_params.get(working_groups.PARAM))
    if view.error:
        raise ValidationError({working_groups.PARAM: [view.error]}, code="invalid")
    return view


class PhasesDashboard(APIView):
    @extend_schema(
        parameters=[AS_OF_PARAMETER, WORKING_GROUP_PARAMETER],
        responses={200: PhaseSchema},
        summary="Phase deadlines: task counts by status and the forecast completion date",
        description="Per phase, as of the end of `date`: days left from that day, its tasks by rolled-up status "
        "and the forecast, which weighs tasks (a commune-level task counts once, by its share of green "
        "communes). `date` is the day shown and `as_of` when its snapshot was built. With `working_group`, "
        "each phase's counts and forecast are those of the group's tasks only.",
    )
    @whole_response
    def get(self, request):
        day = _day(request) if request.query_params.get("date") else None
        view = working_group_view(request)

        def build():
            snapshots.as_of_ensure(day)
            data = selectors.phases(day, task_groups=view.task_groups)
            return [selectors.phase_json(item, day=data["day"], as_of=data["as_of"]) for item in data["phases"]]

        number = view.group.number if view.group is not None else None
        return Response(dashboard_cache.cached("api-phases", [day, number], build))
