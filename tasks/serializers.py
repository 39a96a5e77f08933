from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import RefuseUnknownFields
from core.systems import SYSTEMS
from localities.models import Province
from tasks.models import (
    DISPLAY_COLOURS,
    Agency,
    Assignment,
    AssignmentStatus,
    DisplayStatus,
    Phase,
    StatusUpdate,
    Task,
    TaskGroup,
    Vendor,
    WorkingGroup,
)
from tasks.schema import NamedChoiceField


class TaskGroupSerializer(serializers.ModelSerializer):
    class Meta:
        model = TaskGroup
        fields = ["number", "name_vi", "name_en", "is_pillar"]


class PhaseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Phase
        fields = ["code", "name_vi", "name_en", "starts_on", "deadline"]


class AgencySerializer(serializers.ModelSerializer):
    class Meta:
        model = Agency
        fields = ["code", "name_vi", "name_en", "short_name", "kind", "source"]


class WorkingGroupSerializer(serializers.ModelSerializer):
    task_groups = serializers.SlugRelatedField(slug_field="number", many=True, read_only=True)

    class Meta:
        model = WorkingGroup
        fields = ["number", "name_vi", "name_en", "task_groups", "source"]


class TaskSerializer(serializers.ModelSerializer):
    group = serializers.SlugRelatedField(slug_field="number", read_only=True)
    phase = serializers.SlugRelatedField(slug_field="code", read_only=True)
    lead_agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    coordinating_agencies = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Task
        fields = [
            "code",
            "title_vi",
            "title_en",
            "description",
            "group",
            "phase",
            "deadline",
            "level",
            "lead_agency",
            "coordinating_agencies",
            "expected_product",
            "is_official",
        ]


# --- assignments ------------------------------------------------------------------------------------------

STATUS_ENUM = "AssignmentStatusEnum"


class AssignmentTaskSerializer(serializers.ModelSerializer):
    group = serializers.SlugRelatedField(slug_field="number", read_only=True)
    phase = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Task
        fields = ["code", "title_vi", "title_en", "group", "phase", "deadline", "is_official"]


class UnitSerializer(serializers.Serializer):
    kind = NamedChoiceField(choices=["agency", "province", "commune"], enum_name="UnitKindEnum")
    code = serializers.CharField()
    name = serializers.CharField()


class BlockingPartySerializer(serializers.Serializer):
    kind = NamedChoiceField(choices=["agency", "province", "vendor", "system"], enum_name="BlockerKindEnum")
    code = serializers.CharField()
    name = serializers.CharField()


class AssignmentSerializer(serializers.ModelSerializer):
    """An assignment as lists, details and update answers show it. Expects tasks.selectors.assignment_list()
    rows (joins and annotations made there, none per row here) and `today` in the context."""

    task = AssignmentTaskSerializer(read_only=True)
    unit = serializers.SerializerMethodField()
    # One of agency, province, commune is the unit; the other two are null (and so are blocked_by and
    # updated_by until set): the schema says so (allow_null), or clients generated from it would refuse nulls.
    agency = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    province = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    commune = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
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
        model = Assignment
        fields = [
            "id",
            "task",
            "level",
            "unit",
            "agency",
            "province",
            "commune",
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

    @extend_schema_field(UnitSerializer)
    def get_unit(self, obj):
        if obj.agency_id:
            return {"kind": "agency", "code": obj.agency.code, "name": obj.agency.name}
        if obj.commune_id:
            return {"kind": "commune", "code": obj.commune_id, "name": obj.commune.name}
        return {"kind": "province", "code": obj.province_id, "name": obj.province.name}

    @extend_schema_field(NamedChoiceField(choices=["green", "amber", "red"], enum_name="StatusColourEnum"))
    def get_colour(self, obj):
        return DISPLAY_COLOURS[obj.get_display_status(self.context.get("today"))]

    @extend_schema_field(serializers.IntegerField(help_text="Days to the deadline; negative when it has passed."))
    def get_days_left(self, obj):
        return (obj.task.deadline - self.context["today"]).days


class ActorSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField()


class StatusUpdateSerializer(serializers.ModelSerializer):
    """One history row: who, when, old → new."""

    actor = serializers.SerializerMethodField()
    old_status = NamedChoiceField(choices=AssignmentStatus.choices, enum_name=STATUS_ENUM, read_only=True)
    new_status = NamedChoiceField(choices=AssignmentStatus.choices, enum_name=STATUS_ENUM, read_only=True)
    blocked_by = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    evidence_file = serializers.SerializerMethodField()

    class Meta:
        model = StatusUpdate
        fields = [
            "version",
            "created_at",
            "actor",
            "old_status",
            "new_status",
            "old_progress",
            "new_progress",
            "completed_on",
            "blocked_by",
            "blocked_reason",
            "note",
            "evidence_url",
            "evidence_file",
            "on_behalf",
        ]

    @extend_schema_field(ActorSerializer)
    def get_actor(self, obj):
        return {"username": obj.actor.username, "name": obj.actor.get_full_name() or obj.actor.username}

    @extend_schema_field(serializers.URLField(allow_null=True, help_text="Download link of the evidence file."))
    def get_evidence_file(self, obj):
        if not obj.evidence_file:
            return None
        url = reverse("tasks:evidence", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class AssignmentUpdateInputSerializer(RefuseUnknownFields, serializers.Serializer):
    """Body of POST /api/v1/assignments/{id}/updates/. Checks types only: the rules are in the service."""

    status = NamedChoiceField(choices=AssignmentStatus.choices, enum_name=STATUS_ENUM)
    progress = serializers.IntegerField(min_value=0, max_value=100)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    evidence_url = serializers.URLField(required=False, allow_blank=True, max_length=500, default="")
    completed_on = serializers.DateField(required=False, allow_null=True, default=None)
    blocked_by = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Agency.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="The blocking agency's code; or name one of the three blockers below instead.",
    )
    blocked_by_province = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Province.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="The blocking province's code (e.g. 79).",
    )
    blocked_by_vendor = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Vendor.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="The blocking vendor's code.",
    )
    blocked_by_system = serializers.ChoiceField(
        choices=SYSTEMS, required=False, allow_blank=True, default="", help_text="The blocking system."
    )
    blocked_reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    version = serializers.IntegerField(min_value=1, help_text="The version you read; a stale one is refused (409).")


class AssignmentUpdateCreatedSerializer(AssignmentSerializer):
    """Answer of an accepted update: the assignment as it is now (with its new `version`) and the history
    row that was written."""

    update = StatusUpdateSerializer(read_only=True)

    class Meta(AssignmentSerializer.Meta):
        fields = [*AssignmentSerializer.Meta.fields, "update"]


class FieldChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.JSONField(help_text="Value at your version.")
    new = serializers.JSONField(help_text="Value now.")


class StaleVersionBodySerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(help_text="Always `stale_version`.")
    your_version = serializers.IntegerField()
    current_version = serializers.IntegerField()
    changes = FieldChangeSerializer(many=True, help_text="What changed since your version, field by field.")
    updates_since = StatusUpdateSerializer(many=True, help_text="The changes made since your version, oldest first.")
    current = AssignmentSerializer(help_text="The assignment as it is now.")
