"""API of local plans and their sub-tasks (DESIGN.md §13): /api/v1/plans/ (list, create for one's own unit,
detail with each parent assignment's weighted roll-up) and /api/v1/subtasks/ (filters like the assignments',
`mine=true`; create in one's own plan) with POST /api/v1/subtasks/{id}/updates/, which takes and answers
exactly what an assignment's updates do, through the same workflow service."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from core.api import BAD_REQUEST_BODY, ErrorSerializer, Pagination, RefuseUnknownFields, field_errors
from core.db import parse_id
from tasks.api import NOT_FOUND, _json_value, validation_error_body
from tasks.filters import SubTaskFilterSet
from tasks.models import DISPLAY_COLOURS, Assignment, AssignmentStatus, DisplayStatus, LocalPlan, SubTask, SubTaskUpdate
from tasks.plans import PlanNotAllowed, plan_save, subtask_save, weighted_rollups
from tasks.schema import NamedChoiceField
from tasks.scoping import scope_for_request
from tasks.selectors import plan_list, subtask_history, subtask_list
from tasks.serializers import (
    STATUS_ENUM,
    AssignmentTaskSerializer,
    AssignmentUpdateInputSerializer,
    BlockingPartySerializer,
    FieldChangeSerializer,
    StatusUpdateSerializer,
    UnitSerializer,
)
from tasks.services import StaleVersion, UpdateNotAllowed, subtask_update

# --- serializers ------------------------------------------------------------------------------------------------


class OwnerSerializer(serializers.Serializer):
    kind = NamedChoiceField(choices=["department", "commune"], enum_name="SubTaskOwnerKindEnum")
    code = serializers.CharField(allow_null=True)
    name = serializers.CharField()


class SubTaskSerializer(serializers.ModelSerializer):
    """A sub-task as lists, details and update answers show it (rows of tasks.selectors.subtask_list())."""

    task = AssignmentTaskSerializer(source="parent.task", read_only=True)
    owner = serializers.SerializerMethodField()
    commune = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    weight = serializers.DecimalField(max_digits=7, decimal_places=2, read_only=True)
    status = NamedChoiceField(choices=AssignmentStatus.choices, enum_name=STATUS_ENUM, read_only=True)
    display_status = NamedChoiceField(choices=DisplayStatus.choices, enum_name="DisplayStatusEnum", read_only=True)
    colour = serializers.SerializerMethodField()
    days_left = serializers.SerializerMethodField()
    blocked_by = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    blocker = BlockingPartySerializer(
        read_only=True, allow_null=True, help_text="What the work waits on, when blocked."
    )
    updated_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    may_update = serializers.BooleanField(read_only=True)

    class Meta:
        model = SubTask
        fields = [
            "id",
            "plan",
            "parent",
            "task",
            "title",
            "owner",
            "department",
            "commune",
            "deadline",
            "weight",
            "status",
            "display_status",
            "colour",
            "progress",
            "days_left",
            "completed_on",
            "blocked_by",
            "blocker",
            "blocked_reason",
            "version",
            "updated_at",
            "updated_by",
            "may_update",
        ]

    @extend_schema_field(OwnerSerializer)
    def get_owner(self, obj):
        if obj.commune_id:
            return {"kind": "commune", "code": obj.commune_id, "name": obj.commune.name}
        return {"kind": "department", "code": None, "name": obj.department}

    @extend_schema_field(NamedChoiceField(choices=["green", "amber", "red"], enum_name="StatusColourEnum"))
    def get_colour(self, obj):
        return DISPLAY_COLOURS[obj.get_display_status(self.context.get("today"))]

    @extend_schema_field(serializers.IntegerField(help_text="Days to the deadline; negative when it has passed."))
    def get_days_left(self, obj):
        return (obj.deadline - self.context["today"]).days


class SubTaskUpdateSerializer(StatusUpdateSerializer):
    """One history row of a sub-task: who, when, old → new (the same fields as an assignment's)."""

    class Meta(StatusUpdateSerializer.Meta):
        model = SubTaskUpdate

    @extend_schema_field(serializers.URLField(allow_null=True, help_text="Download link of the evidence file."))
    def get_evidence_file(self, obj):
        if not obj.evidence_file:
            return None
        url = reverse("tasks:subtask_evidence", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class SubTaskUpdateCreatedSerializer(SubTaskSerializer):
    """Answer of an accepted update: the sub-task as it is now and the history row that was written."""

    update = SubTaskUpdateSerializer(read_only=True)

    class Meta(SubTaskSerializer.Meta):
        fields = [*SubTaskSerializer.Meta.fields, "update"]


class SubTaskStaleBodySerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(help_text="Always `stale_version`.")
    your_version = serializers.IntegerField()
    current_version = serializers.IntegerField()
    changes = FieldChangeSerializer(many=True, help_text="What changed since your version, field by field.")
    updates_since = SubTaskUpdateSerializer(many=True, help_text="The changes made since your version, oldest first.")
    current = SubTaskSerializer(help_text="The sub-task as it is now.")


class SubTaskCreateSerializer(RefuseUnknownFields, serializers.Serializer):
    """Body of POST /api/v1/subtasks/: types only; the rules (tasks.plans) name the field they refuse."""

    plan = serializers.IntegerField(min_value=1)
    parent = serializers.IntegerField(min_value=1, help_text="The assignment (of the plan's unit) it is part of.")
    title = serializers.CharField(max_length=500)
    department = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    commune = serializers.CharField(required=False, allow_null=True, max_length=5, default=None)
    deadline = serializers.DateField()
    weight = serializers.CharField(
        max_length=20, help_text="A number greater than 0; weights are divided by their sum."
    )


class PlanRollupSerializer(serializers.Serializer):
    assignment = serializers.IntegerField()
    task = serializers.CharField()
    progress = serializers.IntegerField(allow_null=True, help_text="Σ(weight × progress) ÷ Σ weight, rounded.")
    formula = serializers.CharField()
    total_weight = serializers.DecimalField(max_digits=12, decimal_places=2)


class LocalPlanSerializer(serializers.ModelSerializer):
    unit = serializers.SerializerMethodField()
    date = serializers.DateField(source="issued_on", read_only=True)
    document = serializers.SerializerMethodField()
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    subtask_count = serializers.IntegerField(read_only=True)
    may_edit = serializers.BooleanField(read_only=True)

    class Meta:
        model = LocalPlan
        fields = [
            "id",
            "unit",
            "number",
            "date",
            "title",
            "document_url",
            "document",
            "created_by",
            "created_at",
            "subtask_count",
            "may_edit",
        ]

    @extend_schema_field(UnitSerializer)
    def get_unit(self, obj):
        if obj.agency_id:
            return {"kind": "agency", "code": obj.agency.code, "name": obj.agency.name}
        return {"kind": "province", "code": obj.province_id, "name": obj.province.name}

    @extend_schema_field(serializers.URLField(allow_null=True, help_text="Download link of the plan's document."))
    def get_document(self, obj):
        if not obj.document:
            return None
        url = reverse("tasks:plan_document", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class LocalPlanDetailSerializer(LocalPlanSerializer):
    rollups = serializers.SerializerMethodField()

    class Meta(LocalPlanSerializer.Meta):
        fields = [*LocalPlanSerializer.Meta.fields, "rollups"]

    @extend_schema_field(PlanRollupSerializer(many=True))
    def get_rollups(self, obj):
        parents = list(
            Assignment.objects.filter(subtasks__plan=obj).distinct().select_related("task").order_by("task__code")
        )
        rollups = weighted_rollups([p.pk for p in parents])
        return [
            {
                "assignment": p.pk,
                "task": p.task.code,
                "progress": rollups[p.pk].progress,
                "formula": rollups[p.pk].formula,
                "total_weight": f"{rollups[p.pk].total_weight:.2f}",
            }
            for p in parents
        ]


class LocalPlanCreateSerializer(RefuseUnknownFields, serializers.Serializer):
    number = serializers.CharField(max_length=50)
    date = serializers.DateField()
    title = serializers.CharField(max_length=500)
    document_url = serializers.URLField(required=False, allow_blank=True, max_length=500, default="")


# --- views ------------------------------------------------------------------------------------------------------

FORBIDDEN = OpenApiResponse(ErrorSerializer, description="You may not do this (read-only roles, keys, other units).")
REFUSED = OpenApiResponse(BAD_REQUEST_BODY, description="Refused; each bad field is named (`parse_error`: not JSON).")


def _found(queryset, raw):
    pk = parse_id(raw)
    found = queryset.filter(pk=pk).first() if pk is not None else None
    if found is None:
        raise NotFound()
    return found


@extend_schema_view(
    list=extend_schema(
        summary="Local plans you may see",
        description="A province's or agency's own plans; everyone above reads them (DESIGN.md §13).",
    ),
    retrieve=extend_schema(
        summary="One local plan, with the weighted roll-up of each assignment it breaks down",
        responses={200: LocalPlanDetailSerializer, 404: NOT_FOUND},
    ),
    create=extend_schema(
        summary="Record a plan of your own unit",
        description="Province and agency officers only (403 otherwise); the unit is the caller's.",
        request=LocalPlanCreateSerializer,
        responses={201: LocalPlanDetailSerializer, 400: REFUSED, 403: FORBIDDEN},
    ),
)
class LocalPlanViewSet(viewsets.GenericViewSet):
    serializer_class = LocalPlanSerializer
    queryset = LocalPlan.objects.none()
    pagination_class = Pagination
    filter_backends: list = []

    def get_queryset(self):
        return plan_list(scope=scope_for_request(self.request))

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(
            LocalPlanSerializer(page, many=True, context=self.get_serializer_context()).data
        )

    def retrieve(self, request, pk=None):
        plan = _found(self.get_queryset(), pk)
        return Response(LocalPlanDetailSerializer(plan, context=self.get_serializer_context()).data)

    def create(self, request):
        scope = scope_for_request(request)
        data = LocalPlanCreateSerializer(data=request.data)
        if not data.is_valid():
            return Response(validation_error_body(data.errors), status=status.HTTP_400_BAD_REQUEST)
        values = data.validated_data
        try:
            plan = plan_save(
                scope=scope,
                actor=request.user,
                number=values["number"],
                issued_on=values["date"],
                title=values["title"],
                document_url=values["document_url"],
            )
        except PlanNotAllowed:
            raise PermissionDenied(_("Only a province's or an agency's officers record its plans."))
        except DjangoValidationError as exc:
            return Response(validation_error_body(exc.error_dict), status=status.HTTP_400_BAD_REQUEST)
        plan = self.get_queryset().get(pk=plan.pk)
        return Response(
            LocalPlanDetailSerializer(plan, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED
        )


def subtask_stale_body(exc, *, context, queryset):
    return {
        "detail": _(
            "This assignment was changed by someone else since version %(yours)s (it is now at version "
            "%(current)s). Nothing was saved: read the changes, then send your update again with the current "
            "version."
        )
        % {"yours": exc.version, "current": exc.item.version},
        "code": StaleVersion.code,
        "your_version": exc.version,
        "current_version": exc.item.version,
        "changes": [{"field": c.field, "old": _json_value(c.old), "new": _json_value(c.new)} for c in exc.changes],
        "updates_since": SubTaskUpdateSerializer(exc.updates, many=True, context=context).data,
        "current": SubTaskSerializer(queryset.get(pk=exc.item.pk), context=context).data,
    }


@extend_schema_view(
    list=extend_schema(
        summary="Sub-tasks you may see",
        description="Scoped like assignments: whoever sees the parent assignment sees its sub-tasks; a commune "
        "clerk its commune's. `mine=true`: only the ones you may update.",
    ),
    retrieve=extend_schema(summary="One sub-task", responses={200: SubTaskSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        summary="Add a sub-task to one of your unit's plans",
        request=SubTaskCreateSerializer,
        filters=False,
        responses={201: SubTaskSerializer, 400: REFUSED, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
)
class SubTaskViewSet(viewsets.GenericViewSet):
    serializer_class = SubTaskSerializer
    filterset_class = SubTaskFilterSet
    filter_backends = [DjangoFilterBackend]
    pagination_class = Pagination
    queryset = SubTask.objects.none()

    def get_queryset(self):
        return subtask_list(scope=scope_for_request(self.request), today=timezone.localdate())

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": timezone.localdate()}

    def list(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(
            SubTaskSerializer(page, many=True, context=self.get_serializer_context()).data
        )

    def retrieve(self, request, pk=None):
        return Response(SubTaskSerializer(_found(self.get_queryset(), pk), context=self.get_serializer_context()).data)

    def create(self, request):
        scope = scope_for_request(request)
        data = SubTaskCreateSerializer(data=request.data)
        if not data.is_valid():
            return Response(validation_error_body(data.errors), status=status.HTTP_400_BAD_REQUEST)
        values = data.validated_data
        plan = plan_list(scope=scope).filter(pk=values["plan"]).first()
        if plan is None:
            raise NotFound()
        parent = Assignment.objects.filter(pk=values["parent"]).first()
        try:
            subtask = subtask_save(
                scope=scope,
                plan=plan,
                parent=parent,
                title=values["title"],
                department=values["department"],
                commune=values["commune"],
                deadline=values["deadline"],
                weight=values["weight"],
            )
        except PlanNotAllowed:
            raise PermissionDenied(_("Only the plan's own unit adds its sub-tasks."))
        except DjangoValidationError as exc:
            return Response(validation_error_body(exc.error_dict), status=status.HTTP_400_BAD_REQUEST)
        current = self.get_queryset().get(pk=subtask.pk)
        return Response(SubTaskSerializer(current, context=self.get_serializer_context()).data, status=201)

    @extend_schema(
        methods=["GET"],
        summary="History of a sub-task",
        responses={200: SubTaskUpdateSerializer(many=True), 404: NOT_FOUND},
        filters=False,
    )
    @extend_schema(
        methods=["POST"],
        summary="Update a sub-task",
        description="Exactly as an assignment's update: send the `version` you read; 201 with the new `version` "
        "and the history row; 409 `stale_version` (nothing written; the body says what changed); 400 naming "
        "each bad field; 403 when you may see but not change it; 404 when you may not see it.",
        request=AssignmentUpdateInputSerializer,
        filters=False,
        responses={
            201: SubTaskUpdateCreatedSerializer,
            400: REFUSED,
            403: OpenApiResponse(ErrorSerializer, description="You may see this sub-task but not change it."),
            404: NOT_FOUND,
            409: OpenApiResponse(SubTaskStaleBodySerializer, description="Your version is stale; nothing saved."),
        },
    )
    @action(detail=True, methods=["get", "post"], url_path="updates", pagination_class=Pagination)
    def updates(self, request, pk=None):
        subtask = _found(self.get_queryset(), pk)
        context = self.get_serializer_context()
        if request.method == "GET":
            page = self.paginate_queryset(subtask_history(subtask=subtask))
            return self.get_paginated_response(SubTaskUpdateSerializer(page, many=True, context=context).data)
        if not subtask.may_update:
            raise PermissionDenied(_("You may not update this assignment."))
        data = AssignmentUpdateInputSerializer(data=request.data)
        if not data.is_valid():
            return Response(validation_error_body(data.errors), status=status.HTTP_400_BAD_REQUEST)
        try:
            update = subtask_update(subtask=subtask, actor=request.user, **data.validated_data)
        except UpdateNotAllowed:
            raise PermissionDenied(_("You may not update this assignment."))
        except StaleVersion as exc:
            body = subtask_stale_body(exc, context=context, queryset=self.get_queryset())
            return Response(body, status=status.HTTP_409_CONFLICT)
        except DjangoValidationError as exc:
            return Response(
                field_errors(exc.error_dict, detail=_("The update was refused: see the errors of each field.")),
                status=400,
            )
        current = self.get_queryset().get(pk=subtask.pk)
        current.update = update
        return Response(SubTaskUpdateCreatedSerializer(current, context=context).data, status=status.HTTP_201_CREATED)
