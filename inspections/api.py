"""/api/v1/inspections/ and /api/v1/inspections/{id}/findings/ (DESIGN.md §13): inspectors write; read-all
roles read everything; an inspected unit reads its own inspections and findings."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from core.api import BAD_REQUEST_BODY, ErrorSerializer, Pagination, RefuseUnknownFields, field_errors
from core.db import parse_id
from inspections.models import Finding, Inspection, Severity, may_inspect
from inspections.selectors import finding_list, inspection_list
from inspections.services import InspectionNotAllowed, finding_create, inspection_create
from tasks.models import AssignmentStatus
from tasks.schema import NamedChoiceField
from tasks.scoping import scope_for_request

NOT_FOUND = OpenApiResponse(ErrorSerializer, description="Not found, or outside what you may see.")
FORBIDDEN = OpenApiResponse(ErrorSerializer, description="Only inspectors record inspections and findings.")
REFUSED = OpenApiResponse(BAD_REQUEST_BODY, description="Refused; each bad field is named (`parse_error`: not JSON).")


def _refused(errors):
    return Response(
        field_errors(errors, detail=_("Refused: see the errors of each field.")), status=status.HTTP_400_BAD_REQUEST
    )


class InspectionSerializer(serializers.ModelSerializer):
    provinces = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    agencies = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    communes = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    tasks = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    inspector = serializers.SlugRelatedField(slug_field="username", read_only=True)
    finding_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Inspection
        fields = [
            "id",
            "title",
            "starts_on",
            "ends_on",
            "provinces",
            "agencies",
            "communes",
            "tasks",
            "inspector",
            "created_at",
            "finding_count",
        ]


class InspectionInputSerializer(RefuseUnknownFields, serializers.Serializer):
    title = serializers.CharField(max_length=300)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    provinces = serializers.ListField(
        child=serializers.CharField(max_length=20), required=False, default=list, max_length=100
    )
    agencies = serializers.ListField(
        child=serializers.CharField(max_length=20), required=False, default=list, max_length=100
    )
    communes = serializers.ListField(
        child=serializers.CharField(max_length=20), required=False, default=list, max_length=500
    )
    tasks = serializers.ListField(
        child=serializers.CharField(max_length=20), required=False, default=list, max_length=100
    )


class FollowUpStateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = NamedChoiceField(choices=AssignmentStatus.choices, enum_name="AssignmentStatusEnum")
    progress = serializers.IntegerField()
    version = serializers.IntegerField()


class FindingSerializer(serializers.ModelSerializer):
    unit = serializers.SerializerMethodField()
    severity = NamedChoiceField(choices=Severity.choices, enum_name="FindingSeverityEnum", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    followup = serializers.SerializerMethodField()

    class Meta:
        model = Finding
        fields = [
            "id",
            "inspection",
            "unit",
            "visited_on",
            "text",
            "severity",
            "recommendation",
            "deadline",
            "created_by",
            "created_at",
            "followup",
        ]

    @extend_schema_field(
        serializers.DictField(child=serializers.CharField(), help_text="{kind, code, name} of the inspected unit.")
    )
    def get_unit(self, obj):
        return {"kind": obj.unit_kind, "code": obj.unit_code, "name": obj.unit.name}

    @extend_schema_field(FollowUpStateSerializer)
    def get_followup(self, obj):
        f = obj.followup
        return {"id": f.pk, "status": f.status, "progress": f.progress, "version": f.version}


class FindingInputSerializer(RefuseUnknownFields, serializers.Serializer):
    unit = serializers.CharField(
        max_length=20, help_text="The inspected unit: a province (2 digits), a commune (5 digits) or an agency's code."
    )
    visited_on = serializers.DateField()
    text = serializers.CharField(max_length=4000)
    severity = NamedChoiceField(choices=Severity.choices, enum_name="FindingSeverityEnum")
    recommendation = serializers.CharField(max_length=4000)
    deadline = serializers.DateField()


@extend_schema_view(
    list=extend_schema(summary="Inspections you may see"),
    retrieve=extend_schema(summary="One inspection", responses={200: InspectionSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        summary="Record an inspection plan (inspectors)",
        request=InspectionInputSerializer,
        responses={201: InspectionSerializer, 400: REFUSED, 403: FORBIDDEN},
    ),
)
class InspectionViewSet(viewsets.GenericViewSet):
    serializer_class = InspectionSerializer
    queryset = Inspection.objects.none()
    pagination_class = Pagination
    filter_backends: list = []

    def get_queryset(self):
        return inspection_list(scope=scope_for_request(self.request))

    def _object(self, pk):
        key = parse_id(pk)
        found = self.get_queryset().filter(pk=key).first() if key is not None else None
        if found is None:
            raise NotFound()
        return found

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(InspectionSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(InspectionSerializer(self._object(pk)).data)

    def create(self, request):
        if not may_inspect(scope_for_request(request)):
            raise PermissionDenied(_("Only inspectors record inspections and findings."))
        data = InspectionInputSerializer(data=request.data)
        if not data.is_valid():
            return _refused(data.errors)
        try:
            inspection = inspection_create(scope=scope_for_request(request), actor=request.user, **data.validated_data)
        except InspectionNotAllowed:
            raise PermissionDenied(_("Only inspectors record inspections and findings."))
        except DjangoValidationError as exc:
            return _refused(exc.error_dict)
        return Response(InspectionSerializer(self.get_queryset().get(pk=inspection.pk)).data, status=201)

    @extend_schema(
        methods=["GET"],
        summary="Findings of an inspection (an inspected unit: its own)",
        responses={200: FindingSerializer(many=True), 404: NOT_FOUND},
    )
    @extend_schema(
        methods=["POST"],
        summary="Record a visit's finding (inspectors); its recommendation becomes the unit's follow-up item",
        request=FindingInputSerializer,
        responses={201: FindingSerializer, 400: REFUSED, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get", "post"], url_path="findings", pagination_class=Pagination)
    def findings(self, request, pk=None):
        inspection = self._object(pk)
        scope = scope_for_request(request)
        if request.method == "GET":
            page = self.paginate_queryset(finding_list(scope=scope, inspection=inspection))
            return self.get_paginated_response(FindingSerializer(page, many=True).data)
        if not may_inspect(scope):
            raise PermissionDenied(_("Only inspectors record inspections and findings."))
        data = FindingInputSerializer(data=request.data)
        if not data.is_valid():
            return _refused(data.errors)
        try:
            finding = finding_create(scope=scope, actor=request.user, inspection=inspection, **data.validated_data)
        except InspectionNotAllowed:
            raise PermissionDenied(_("Only inspectors record inspections and findings."))
        except DjangoValidationError as exc:
            return _refused(exc.error_dict)
        return Response(
            FindingSerializer(finding_list(scope=scope, inspection=inspection).get(pk=finding.pk)).data, status=201
        )
