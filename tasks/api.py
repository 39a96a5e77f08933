import datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from core.api import BAD_REQUEST_BODY, ErrorSerializer, Pagination, field_errors
from core.db import parse_id
from tasks.filters import AgencyFilterSet, AssignmentFilterSet, PhaseFilterSet, TaskFilterSet, TaskGroupFilterSet
from tasks.models import Agency, Assignment, Phase, Task, TaskGroup, WorkingGroup
from tasks.scoping import scope_for_request
from tasks.selectors import assignment_history, assignment_list
from tasks.serializers import (
    AgencySerializer,
    AssignmentSerializer,
    AssignmentUpdateCreatedSerializer,
    AssignmentUpdateInputSerializer,
    PhaseSerializer,
    StaleVersionBodySerializer,
    StatusUpdateSerializer,
    TaskGroupSerializer,
    TaskSerializer,
    WorkingGroupSerializer,
)
from tasks.services import StaleVersion, UpdateNotAllowed, assignment_update


class TaskGroupViewSet(viewsets.ReadOnlyModelViewSet):
    """The eight groups of tasks; `is_pillar` marks the six pillars."""

    queryset = TaskGroup.objects.all()
    serializer_class = TaskGroupSerializer
    filterset_class = TaskGroupFilterSet
    lookup_field = "number"


class PhaseViewSet(viewsets.ReadOnlyModelViewSet):
    """The plan's phases and their deadlines."""

    queryset = Phase.objects.all()
    serializer_class = PhaseSerializer
    filterset_class = PhaseFilterSet
    lookup_field = "code"


class AgencyViewSet(viewsets.ReadOnlyModelViewSet):
    """Central agencies that preside over or coordinate tasks."""

    queryset = Agency.objects.all()
    serializer_class = AgencySerializer
    filterset_class = AgencyFilterSet
    lookup_field = "code"


@extend_schema_view(
    list=extend_schema(
        examples=[
            OpenApiExample(
                "The working groups",
                value=[
                    {
                        "number": 2,
                        "name_vi": "Tổ công tác số 2: hạ tầng số, an toàn, an ninh mạng",
                        "name_en": "Working group 2: digital infrastructure, cyber safety and security",
                        "task_groups": [2, 8],
                        "source": "demo",
                    }
                ],
                response_only=True,
            )
        ]
    )
)
class WorkingGroupViewSet(viewsets.ReadOnlyModelViewSet):
    """The steering committee's six working groups and the task groups each follows; `?working_group=N` on
    the tasks and assignments lists shows a group's view. `source` is "demo" while the names are not official."""

    queryset = WorkingGroup.objects.prefetch_related("task_groups")
    serializer_class = WorkingGroupSerializer
    lookup_field = "number"


class TaskViewSet(viewsets.ReadOnlyModelViewSet):
    """The task catalogue (`is_official=false` marks the demo catalogue)."""

    queryset = Task.objects.select_related("group", "phase", "lead_agency").prefetch_related("coordinating_agencies")
    serializer_class = TaskSerializer
    filterset_class = TaskFilterSet
    lookup_field = "code"
    ordering_fields = ["code", "deadline"]


# --- assignments ------------------------------------------------------------------------------------------


def validation_error_body(errors):
    return field_errors(errors, detail=_("The update was refused: see the errors of each field."))


def stale_version_body(exc, *, context):
    return {
        "detail": _(
            "This assignment was changed by someone else since version %(yours)s (it is now at version "
            "%(current)s). Nothing was saved: read the changes, then send your update again with the current "
            "version."
        )
        % {"yours": exc.version, "current": exc.assignment.version},
        "code": StaleVersion.code,
        "your_version": exc.version,
        "current_version": exc.assignment.version,
        "changes": [{"field": c.field, "old": _json_value(c.old), "new": _json_value(c.new)} for c in exc.changes],
        "updates_since": StatusUpdateSerializer(exc.updates, many=True, context=context).data,
        "current": AssignmentSerializer(
            assignment_list(scope=context["scope"], today=context["today"]).get(pk=exc.assignment.pk), context=context
        ).data,
    }


def _json_value(value):
    return value.isoformat() if isinstance(value, datetime.date) else value


ASSIGNMENT_EXAMPLE = {
    "id": 812,
    "task": {
        "code": "T15",
        "title_vi": "Lộ trình kết nối camera an ninh, giao thông",
        "title_en": "Roadmap to connect security and traffic cameras",
        "group": 2,
        "phase": "urgent",
        "deadline": "2025-06-30",
    },
    "level": "central",
    "unit": {"kind": "agency", "code": "BCA", "name": "Bộ Công an"},
    "agency": "BCA",
    "province": None,
    "commune": None,
    "status": "in_progress",
    "display_status": "on_track",
    "colour": "amber",
    "progress": 60,
    "days_left": 12,
    "completed_on": None,
    "blocked_by": None,
    "blocker": None,
    "blocked_reason": "",
    "version": 3,
    "updated_at": "2025-06-18T09:12:00+07:00",
    "updated_by": "officer-bca",
    "may_update": True,
}
UPDATE_EXAMPLE = {
    "version": 4,
    "created_at": "2025-06-20T10:05:00+07:00",
    "actor": {"username": "officer-bca", "name": "Nguyễn Văn A"},
    "old_status": "in_progress",
    "new_status": "completed",
    "old_progress": 60,
    "new_progress": 100,
    "completed_on": "2025-06-20",
    "blocked_by": None,
    "blocked_reason": "",
    "note": "Roadmap signed",
    "evidence_url": "https://example.gov.vn/roadmap.pdf",
    "evidence_file": None,
    "on_behalf": False,
}
NOT_FOUND = OpenApiResponse(
    ErrorSerializer,
    description="Not found, or outside what you may see.",
    examples=[OpenApiExample("not found", value={"detail": "Not found.", "code": "not_found"})],
)


@extend_schema_view(
    list=extend_schema(
        summary="Assignments you may see",
        description="Scoped to the caller (DESIGN.md §3). `mine=true`: only the ones you may update. Filters are "
        "the same as the HTML lists'. `display_status` is derived from status, deadline and completion date.",
        examples=[
            OpenApiExample(
                "one page",
                value={"count": 1, "next": None, "previous": None, "results": [ASSIGNMENT_EXAMPLE]},
                response_only=True,
            )
        ],
    ),
    retrieve=extend_schema(
        summary="One assignment",
        responses={200: AssignmentSerializer, 404: NOT_FOUND},
        examples=[OpenApiExample("assignment", value=ASSIGNMENT_EXAMPLE, response_only=True)],
    ),
)
class AssignmentViewSet(viewsets.ReadOnlyModelViewSet):
    """Assignments (a task × a unit) with their status, progress and history; updates with optimistic
    concurrency."""

    serializer_class = AssignmentSerializer
    filterset_class = AssignmentFilterSet
    filter_backends = [DjangoFilterBackend]  # sorting is the FilterSet's `ordering`, shared with the HTML lists
    queryset = Assignment.objects.none()  # for the schema; get_queryset() scopes every request

    def get_queryset(self):
        return assignment_list(scope=scope_for_request(self.request), today=timezone.localdate())

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": timezone.localdate()}

    def get_object(self):
        # Filters are for lists: a detail is found (or not, 404 with a code) by id within the caller's scope.
        pk = parse_id(self.kwargs["pk"])
        assignment = self.get_queryset().filter(pk=pk).first() if pk is not None else None
        if assignment is None:
            raise NotFound()
        return assignment

    @extend_schema(
        methods=["GET"],
        summary="History of an assignment",
        description="Every accepted change, newest first: who, when, old → new, note and evidence.",
        responses={200: StatusUpdateSerializer(many=True), 404: NOT_FOUND},
        filters=False,
        examples=[
            OpenApiExample(
                "history",
                value={"count": 1, "next": None, "previous": None, "results": [UPDATE_EXAMPLE]},
                response_only=True,
            )
        ],
    )
    @extend_schema(
        methods=["POST"],
        summary="Update an assignment",
        description="Send the `version` you read. 201 with the assignment's new `version` and the history row; "
        "409 `stale_version` when someone saved in between (nothing is written; the body says what changed); "
        "400 `invalid` naming each bad field; 403 when you may see but not change it (read-only roles, API "
        "keys, other units); 404 when you may not see it. Transition rules: README, 'Tasks in the browser "
        "and the API'.",
        request=AssignmentUpdateInputSerializer,
        filters=False,
        responses={
            201: AssignmentUpdateCreatedSerializer,
            400: OpenApiResponse(
                BAD_REQUEST_BODY, description="Refused; each bad field is named (`parse_error`: not JSON)."
            ),
            403: OpenApiResponse(ErrorSerializer, description="You may see this assignment but not change it."),
            404: NOT_FOUND,
            409: OpenApiResponse(StaleVersionBodySerializer, description="Your version is stale; nothing saved."),
        },
        examples=[
            OpenApiExample(
                "complete with evidence",
                request_only=True,
                value={
                    "status": "completed",
                    "progress": 100,
                    "completed_on": "2025-06-20",
                    "note": "Roadmap signed",
                    "evidence_url": "https://example.gov.vn/roadmap.pdf",
                    "version": 3,
                },
            ),
            OpenApiExample(
                "blocked",
                request_only=True,
                value={
                    "status": "blocked",
                    "progress": 40,
                    "blocked_by": "BTC",
                    "blocked_reason": "Waiting for the budget decision",
                    "version": 3,
                },
            ),
            OpenApiExample(
                "blocked by a province, a vendor or a system",
                request_only=True,
                description="Name one blocker only: blocked_by (an agency), blocked_by_province, blocked_by_vendor "
                "or blocked_by_system (core.systems). Never one's own unit (400 self_block).",
                value={
                    "status": "blocked",
                    "progress": 40,
                    "blocked_by_system": "population_db",
                    "blocked_reason": "The national population database is not connected yet",
                    "version": 3,
                },
            ),
            OpenApiExample(
                "accepted",
                response_only=True,
                status_codes=["201"],
                value={
                    **ASSIGNMENT_EXAMPLE,
                    "status": "completed",
                    "display_status": "completed_on_time",
                    "colour": "green",
                    "progress": 100,
                    "completed_on": "2025-06-20",
                    "version": 4,
                    "update": UPDATE_EXAMPLE,
                },
            ),
            OpenApiExample(
                "invalid",
                response_only=True,
                status_codes=["400"],
                value={
                    "detail": "The update was refused: see the errors of each field.",
                    "code": "invalid",
                    "errors": {
                        "progress": [
                            {"code": "completed_progress", "message": "A completed assignment has progress 100."}
                        ],
                        "completed_on": [{"code": "future", "message": "The completion date cannot be in the future."}],
                    },
                },
            ),
            OpenApiExample(
                "forbidden",
                response_only=True,
                status_codes=["403"],
                value={"detail": "You may not update this assignment.", "code": "permission_denied"},
            ),
            OpenApiExample(
                "stale version",
                response_only=True,
                status_codes=["409"],
                value={
                    "detail": "This assignment was changed by someone else since version 3 (it is now at version 4). "
                    "Nothing was saved: read the changes, then send your update again with the current version.",
                    "code": "stale_version",
                    "your_version": 3,
                    "current_version": 4,
                    "changes": [
                        {"field": "status", "old": "in_progress", "new": "completed"},
                        {"field": "progress", "old": 60, "new": 100},
                        {"field": "completed_on", "old": None, "new": "2025-06-20"},
                    ],
                    "updates_since": [UPDATE_EXAMPLE],
                    "current": {**ASSIGNMENT_EXAMPLE, "status": "completed", "version": 4},
                },
            ),
        ],
    )
    @action(detail=True, methods=["get", "post"], url_path="updates", pagination_class=Pagination)
    def updates(self, request, pk=None):
        assignment = self.get_object()
        context = self.get_serializer_context()
        if request.method == "GET":
            page = self.paginate_queryset(assignment_history(assignment=assignment))
            return self.get_paginated_response(StatusUpdateSerializer(page, many=True, context=context).data)

        scope = scope_for_request(request)
        if not assignment.may_update:
            raise PermissionDenied(_("You may not update this assignment."))
        data = AssignmentUpdateInputSerializer(data=request.data)
        if not data.is_valid():
            return Response(validation_error_body(data.errors), status=status.HTTP_400_BAD_REQUEST)
        try:
            update = assignment_update(assignment=assignment, actor=request.user, **data.validated_data)
        except UpdateNotAllowed:
            raise PermissionDenied(_("You may not update this assignment."))
        except StaleVersion as exc:
            body = stale_version_body(exc, context={**context, "scope": scope})
            return Response(body, status=status.HTTP_409_CONFLICT)
        except DjangoValidationError as exc:
            return Response(validation_error_body(exc.error_dict), status=status.HTTP_400_BAD_REQUEST)
        current = self.get_queryset().get(pk=assignment.pk)
        current.update = update
        return Response(
            AssignmentUpdateCreatedSerializer(current, context=context).data, status=status.HTTP_201_CREATED
        )
