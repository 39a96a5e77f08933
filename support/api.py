"""The operations desk's API (DESIGN.md §12): incidents (scoped; the steps as actions), teams, the board.

Answers follow the portal's conventions: 400 `invalid` naming each bad field; 404 for an incident one may not
see; 403 for a step one may not take on an incident one sees; 409 `invalid_transition` for a step that does
not apply to the incident's state, 409 `stale_version` when the `version` sent is not the current one.
"""

import datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import BAD_REQUEST_BODY, ErrorSerializer, field_errors
from core.db import parse_id
from localities.models import Province
from support import selectors, services
from support.filters import IncidentFilterSet
from support.models import Incident, Team
from support.serializers import (
    CommuneRankingSerializer,
    IncidentAssignSerializer,
    IncidentCommentInputSerializer,
    IncidentCreateSerializer,
    IncidentDetailSerializer,
    IncidentReasonSerializer,
    IncidentResolveSerializer,
    IncidentSerializer,
    IncidentVersionSerializer,
    InterventionTeamSerializer,
    OperationsBoardSerializer,
)
from tasks.scoping import scope_for_request

INCIDENT_EXAMPLE = {
    "id": 41,
    "state": "open",
    "category": "network",
    "system": "provincial_procedure_system",
    "severity": "blocking",
    "description": "Đường truyền tới hệ thống một cửa của tỉnh bị mất từ 8 giờ.",
    "locality": "00004",
    "province": "01",
    "commune": "00004",
    "reported_by": "clerk-badinh",
    "created_at": "2026-12-07T08:40:00+07:00",
    "acknowledge_by": "2026-12-07T10:40:00+07:00",
    "resolve_by": "2026-12-08T07:40:00+07:00",
    "holder": {"kind": "desk", "id": None, "name": "01"},
    "escalated": False,
    "breached": False,
    "acknowledged_at": None,
    "resolved_at": None,
    "closed_at": None,
    "resolution": "",
    "report": None,
    "version": 1,
    "actions": ["acknowledge", "assign", "escalate", "resolve", "comment", "attach"],
}
DETAIL_EXAMPLE = {
    **INCIDENT_EXAMPLE,
    "history": [
        {
            "at": "2026-12-07T08:40:00+07:00",
            "actor": "clerk-badinh",
            "action": "opened",
            "from_state": "",
            "to_state": "open",
            "text": "Đường truyền tới hệ thống một cửa của tỉnh bị mất từ 8 giờ.",
            "team": None,
            "assignee": None,
            "version": 1,
        }
    ],
    "comments": [],
    "files": [],
}
NOT_FOUND = OpenApiResponse(
    ErrorSerializer,
    description="Not found, or outside what you may see.",
    examples=[OpenApiExample("not found", value={"detail": "Not found.", "code": "not_found"})],
)
CONFLICT = OpenApiResponse(
    ErrorSerializer,
    description="`invalid_transition`: the step does not apply to the incident's state; `stale_version`: the "
    "version you sent is not the current one. Nothing was written.",
    examples=[
        OpenApiExample(
            "invalid transition",
            value={
                "detail": "An incident that is “closed” cannot be resolved.",
                "code": "invalid_transition",
                "state": "closed",
                "version": 5,
            },
        ),
        OpenApiExample(
            "stale version",
            value={
                "detail": "This incident was changed by someone else since version 2 (it is now at version 3).",
                "code": "stale_version",
                "state": "acknowledged",
                "version": 3,
            },
        ),
    ],
)
FORBIDDEN = OpenApiResponse(
    ErrorSerializer,
    description="You may see this incident but not take this step.",
    examples=[
        OpenApiExample(
            "not the desk",
            value={
                "detail": "Only the province's operations desk and the central support team do this.",
                "code": "permission_denied",
            },
        )
    ],
)
BAD_REQUEST = OpenApiResponse(BAD_REQUEST_BODY, description="Refused; each bad field is named.")


def _invalid(errors):
    return field_errors(errors, detail=_("The request was refused: see the errors of each field."))


def _step_doc(summary, description, request, example):
    return extend_schema(
        summary=summary,
        description=description,
        request=request,
        filters=False,
        responses={200: IncidentDetailSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT},
        examples=[
            OpenApiExample(summary, request_only=True, value=example),
            OpenApiExample("done", response_only=True, status_codes=["200"], value=DETAIL_EXAMPLE),
        ],
    )


@extend_schema_view(
    list=extend_schema(
        summary="Incidents you may see",
        description="Scoped (DESIGN.md §3): the central support team and read-all roles see all; a province its "
        "own; a commune its own. Filters: `state`, `severity`, `category`, `province`, `commune`, `breached` "
        "(past its time to acknowledge or resolve).",
        examples=[
            OpenApiExample(
                "one page",
                value={"count": 1, "next": None, "previous": None, "results": [INCIDENT_EXAMPLE]},
                response_only=True,
            )
        ],
    ),
    retrieve=extend_schema(
        summary="One incident, with its history and comments",
        responses={200: IncidentDetailSerializer, 404: NOT_FOUND},
        examples=[OpenApiExample("incident", value=DETAIL_EXAMPLE, response_only=True)],
    ),
    create=extend_schema(
        summary="Report an incident",
        description="A commune clerk (its own commune) or a province officer (its province, or one of its "
        "communes: `locality`). 201 with the incident, its times to acknowledge and to resolve (office hours) "
        "and who holds it. 400 naming an unknown `category`, `severity`, `system` or `locality`; 403 for other "
        "roles and API keys.",
        request=IncidentCreateSerializer,
        responses={201: IncidentSerializer, 400: BAD_REQUEST, 403: OpenApiResponse(ErrorSerializer)},
        examples=[
            OpenApiExample(
                "report",
                request_only=True,
                value={
                    "category": "network",
                    "system": "provincial_procedure_system",
                    "severity": "blocking",
                    "description": "Đường truyền tới hệ thống một cửa của tỉnh bị mất từ 8 giờ.",
                },
            ),
            OpenApiExample("reported", response_only=True, status_codes=["201"], value=INCIDENT_EXAMPLE),
            OpenApiExample(
                "unknown category",
                response_only=True,
                status_codes=["400"],
                value={
                    "detail": "The request was refused: see the errors of each field.",
                    "code": "invalid",
                    "errors": {"category": [{"code": "invalid_choice", "message": "Unknown category “wifi”."}]},
                },
            ),
        ],
    ),
)
class IncidentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Incidents of the operations desk and their steps."""

    serializer_class = IncidentSerializer
    filterset_class = IncidentFilterSet
    queryset = Incident.objects.none()

    def get_queryset(self):
        scope = scope_for_request(self.request)
        if self.action == "list":
            return selectors.incident_list(scope=scope)
        return selectors.incident_detail(scope=scope)

    def get_serializer_class(self):
        return IncidentSerializer if self.action in ("list", "create") else IncidentDetailSerializer

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    def get_object(self):
        pk = parse_id(self.kwargs["pk"])
        found = self.get_queryset().filter(pk=pk).first() if pk is not None else None
        if found is None:
            raise NotFound()
        return found

    def create(self, request, *args, **kwargs):
        if scope_for_request(request).is_api_client:
            raise PermissionDenied(_("Only communes and provinces report incidents."))
        data = IncidentCreateSerializer(data=request.data)
        if not data.is_valid():
            return Response(_invalid(data.errors), status=status.HTTP_400_BAD_REQUEST)
        try:
            incident = services.incident_open(actor=request.user, **data.validated_data)
        except services.IncidentNotAllowed as exc:
            raise PermissionDenied(str(exc.args[0]) if exc.args else None)
        except DjangoValidationError as exc:
            return Response(_invalid(exc.error_dict), status=status.HTTP_400_BAD_REQUEST)
        found = selectors.incident_list(scope=scope_for_request(request)).get(pk=incident.pk)
        return Response(IncidentSerializer(found, context=self.get_serializer_context()).data, status=201)

    def _step(self, request, service, serializer_class, **fixed):
        incident = self.get_object()
        if scope_for_request(request).is_api_client:
            raise PermissionDenied(_("API keys do not act on incidents."))
        data = serializer_class(data=request.data)
        if not data.is_valid():
            return Response(_invalid(data.errors), status=status.HTTP_400_BAD_REQUEST)
        try:
            service(incident=incident, actor=request.user, **data.validated_data, **fixed)
        except services.IncidentNotAllowed as exc:
            if not exc.visible:
                raise NotFound()
            raise PermissionDenied(str(exc.args[0]) if exc.args else None)
        except (services.InvalidTransition, services.StaleVersion) as exc:
            current = exc.incident
            body = {"detail": str(exc), "code": exc.code, "state": current.state, "version": current.version}
            return Response(body, status=status.HTTP_409_CONFLICT)
        except DjangoValidationError as exc:
            return Response(_invalid(exc.error_dict), status=status.HTTP_400_BAD_REQUEST)
        fresh = self.get_queryset().get(pk=incident.pk)
        return Response(IncidentDetailSerializer(fresh, context=self.get_serializer_context()).data)

    @_step_doc(
        "Acknowledge",
        "The province's desk (or the support team) takes the incident.",
        IncidentVersionSerializer,
        {"version": 1},
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return self._step(request, services.incident_acknowledge, IncidentVersionSerializer)

    @_step_doc(
        "Assign",
        "To a team (`team`: its id) or a person (`user`: a username), one of the two; the work starts (in progress).",
        IncidentAssignSerializer,
        {"team": 3},
    )
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        return self._step(request, services.incident_assign, IncidentAssignSerializer)

    @_step_doc(
        "Escalate",
        "To the central support team, with the `reason`.",
        IncidentReasonSerializer,
        {"reason": "Cần Bộ Công an hỗ trợ kết nối VNeID."},
    )
    @action(detail=True, methods=["post"])
    def escalate(self, request, pk=None):
        return self._step(request, services.incident_escalate, IncidentReasonSerializer)

    @_step_doc(
        "Resolve",
        "With the `resolution` the reporter reads (required).",
        IncidentResolveSerializer,
        {"resolution": "Đã thay bộ chuyển mạch."},
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        return self._step(request, services.incident_resolve, IncidentResolveSerializer)

    @_step_doc("Close", "The reporter confirms the resolution (or the desk closes it).", IncidentVersionSerializer, {})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._step(request, services.incident_close, IncidentVersionSerializer)

    @_step_doc(
        "Reopen",
        "A resolved or closed incident, with the `reason` (required); its times start again.",
        IncidentReasonSerializer,
        {"reason": "Lại mất kết nối sáng nay."},
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self._step(request, services.incident_reopen, IncidentReasonSerializer)

    @extend_schema(
        summary="Comment",
        description="A comment of the incident's thread (`text`). 201 with the incident and its thread.",
        request=IncidentCommentInputSerializer,
        filters=False,
        responses={201: IncidentDetailSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
        examples=[
            OpenApiExample("comment", request_only=True, value={"text": "Đội kỹ thuật đang trên đường tới."}),
            OpenApiExample("done", response_only=True, status_codes=["201"], value=DETAIL_EXAMPLE),
        ],
    )
    @action(detail=True, methods=["post"])
    def comments(self, request, pk=None):
        response = self._step(request, services.incident_comment, IncidentCommentInputSerializer)
        if response.status_code == 200:
            response.status_code = 201
        return response


@extend_schema_view(
    list=extend_schema(
        summary="Intervention teams",
        description="A province's teams and the central ones (read-all roles: every team), with members, skills "
        "and load (active incidents held).",
    ),
    retrieve=extend_schema(summary="One team", responses={200: InterventionTeamSerializer, 404: NOT_FOUND}),
)
class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = InterventionTeamSerializer
    queryset = Team.objects.none()

    def get_queryset(self):
        return selectors.team_list(scope=scope_for_request(self.request))

    def get_object(self):
        pk = parse_id(self.kwargs["pk"])
        found = self.get_queryset().filter(pk=pk).first() if pk is not None else None
        if found is None:
            raise NotFound()
        return found


class BoardView(APIView):
    """The live board's figures (DESIGN.md §12)."""

    @extend_schema(
        summary="The operations board",
        description="Active incidents by severity, those past their times, by category, system and province, and "
        "the categories reported this week; within your scope. `province`: one province's desk (a province "
        "officer: its own; another is 404).",
        parameters=[OpenApiParameter("province", str, description="A province code, e.g. 01.")],
        responses={200: OperationsBoardSerializer, 400: BAD_REQUEST, 404: NOT_FOUND},
        examples=[
            OpenApiExample(
                "board",
                response_only=True,
                value={
                    "open": {"blocking": 2, "degraded": 5, "question": 1},
                    "breached": 1,
                    "by_category": {"network": 3, "vneid": 2, "staff_skills": 3},
                    "by_system": {"vneid": 2},
                    "by_province": [{"province": "01", "name": "Thành phố Hà Nội", "open": 8, "breached": 1}],
                    "this_week": {"network": 4, "vneid": 2},
                    "as_of": "2026-12-07T10:00:00+07:00",
                },
            )
        ],
    )
    def get(self, request):
        scope = scope_for_request(request)
        if scope.is_api_client:
            raise PermissionDenied(_("The board is for the portal's users."))
        code = request.query_params.get("province", "")
        province = None
        if code:
            province = Province.objects.filter(pk=code).first() if len(code) <= 2 else None
            if province is None:
                return Response(
                    _invalid({"province": [DjangoValidationError(_("Unknown province."), code="invalid_choice")]}),
                    status=400,
                )
            if not (scope.reads_all or scope.province_id == code or scope.commune_province_id == code):
                raise NotFound()
        return Response(OperationsBoardSerializer(selectors.board(scope=scope, province=province)).data)


class CommuneRankingView(APIView):
    """A province's communes ranked (DESIGN.md §12): the JSON twin of /operations/communes/."""

    @extend_schema(
        summary="A province's communes ranked",
        description="Each commune of the province over the last `days` days to yesterday: reporting on time (days "
        "with a report received before its due time / days), the fully-online share and the share of dossiers "
        "resolved on time (§5's rates over the period's sums; null without a denominator), and its commune-level "
        "tasks green (completed / assigned, today); best first by `sort`, nulls last. A province officer: its own "
        "province (another is 404); steering, inspectors, the support team and the admin: any (`province` "
        "required); others 403.",
        parameters=[
            OpenApiParameter("province", str, description="A province code, e.g. 01."),
            OpenApiParameter("days", int, enum=list(selectors.RANK_DAYS), description="The period (default 30)."),
            OpenApiParameter("sort", str, enum=list(selectors.RANK_KEYS), description="Default reporting."),
        ],
        responses={200: CommuneRankingSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
        examples=[
            OpenApiExample(
                "Hà Nội, 30 days",
                response_only=True,
                value={
                    "province": "01",
                    "start": "2026-11-07",
                    "end": "2026-12-06",
                    "days": 30,
                    "sort": "reporting",
                    "communes": [
                        {
                            "rank": 1,
                            "commune": "00004",
                            "name": "Phường Ba Đình",
                            "reporting": 1.0,
                            "fully_online": 0.86,
                            "on_time": 0.97,
                            "green": 0.75,
                            "reported_on_time": 30,
                            "tasks": 12,
                            "tasks_green": 9,
                        }
                    ],
                },
            )
        ],
    )
    def get(self, request):
        try:
            province, days, sort = selectors.ranking_parameters(
                scope=scope_for_request(request),
                province=request.query_params.get("province", ""),
                days=request.query_params.get("days", ""),
                sort=request.query_params.get("sort", ""),
            )
        except selectors.RankingRefused as refused:
            if refused.code == "forbidden":
                raise PermissionDenied(
                    _("Only the provinces, the steering committee and the support team rank communes.")
                )
            if refused.code == "not_found":
                raise NotFound()
            return Response(
                _invalid({refused.field: [DjangoValidationError(refused.message, code="invalid_choice")]}), status=400
            )
        if province is None:
            return Response(
                _invalid({"province": [DjangoValidationError(_("Choose a province."), code="required")]}), status=400
            )
        end = timezone.localdate() - datetime.timedelta(days=1)
        rows = selectors.commune_ranking(province=province, end=end, days=days, sort=sort)
        body = {
            "province": province.pk,
            "start": end - datetime.timedelta(days=days - 1),
            "end": end,
            "days": days,
            "sort": sort,
            "communes": rows,
        }
        return Response(CommuneRankingSerializer(body).data)
