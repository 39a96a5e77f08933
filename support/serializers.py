"""The shapes of DESIGN.md §12. Input serializers only check types (and refuse unknown fields); the rules are
the services' (support.services), which name the bad field."""

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import RefuseUnknownFields
from reports import formspec
from support.models import Incident, IncidentEvent, Team
from support.services import allowed_actions, user_team_ids
from tasks.scoping import scope_for_request


def holder(incident: Incident) -> dict[str, Any]:
    """Who holds the incident: a person, a team, the central support team (escalated) or the province's desk."""
    if incident.assignee_id is not None:
        return {
            "kind": "user",
            "id": incident.assignee_id,
            "name": incident.assignee.get_full_name() or incident.assignee.username,
        }
    if incident.team_id is not None:
        return {"kind": "team", "id": incident.team_id, "name": incident.team.name}
    if incident.escalated:
        return {"kind": "support", "id": None, "name": "central support team"}
    return {"kind": "desk", "id": None, "name": incident.province_id}


HOLDER_SCHEMA = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "enum": ["user", "team", "support", "desk"]},
        "id": {"type": "integer", "nullable": True},
        "name": {"type": "string"},
    },
}


class IncidentSerializer(serializers.ModelSerializer):
    category = serializers.CharField(source="category_id")
    locality = serializers.CharField()
    province = serializers.CharField(source="province_id")
    commune = serializers.CharField(source="commune_id", allow_null=True)
    reported_by = serializers.SerializerMethodField()
    holder = serializers.SerializerMethodField()
    breached = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField()
    report = serializers.IntegerField(source="report_id", allow_null=True)

    class Meta:
        model = Incident
        fields = [
            "id",
            "state",
            "category",
            "system",
            "severity",
            "description",
            "locality",
            "province",
            "commune",
            "reported_by",
            "created_at",
            "acknowledge_by",
            "resolve_by",
            "holder",
            "escalated",
            "breached",
            "acknowledged_at",
            "resolved_at",
            "closed_at",
            "resolution",
            "report",
            "version",
            "actions",
        ]

    @extend_schema_field(serializers.CharField(allow_null=True, help_text="Username of the reporter."))
    def get_reported_by(self, obj):
        return obj.reported_by.username if obj.reported_by_id else None

    @extend_schema_field(HOLDER_SCHEMA)
    def get_holder(self, obj):
        return holder(obj)

    @extend_schema_field(serializers.BooleanField(help_text="Past its time to acknowledge or to resolve."))
    def get_breached(self, obj):
        return obj.is_breached(self.context.get("now") or timezone.now())

    @extend_schema_field(serializers.ListField(child=serializers.CharField(), help_text="Steps you may take now."))
    def get_actions(self, obj):
        request = self.context.get("request")
        if request is None:
            return []
        if "user_teams" not in self.context:  # read once for the whole list (the context is shared)
            self.context["user_teams"] = user_team_ids(request.user.pk)
        return allowed_actions(
            scope_for_request(request), obj, user_id=request.user.pk, teams=self.context["user_teams"]
        )


class IncidentEventSerializer(serializers.ModelSerializer):
    # A state, or "" before the first step (one text field for both: their choices are the same).
    from_state = serializers.CharField(help_text="The state before the step (empty for the opening).")
    to_state = serializers.CharField(help_text="The state after the step.")
    actor = serializers.SerializerMethodField()
    team = serializers.IntegerField(source="team_id", allow_null=True)
    assignee = serializers.SerializerMethodField()

    class Meta:
        model = IncidentEvent
        fields = ["at", "actor", "action", "from_state", "to_state", "text", "team", "assignee", "version"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_actor(self, obj):
        return obj.actor.username if obj.actor_id else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_assignee(self, obj):
        return obj.assignee.username if obj.assignee_id else None


class IncidentCommentSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()

    class Meta:
        model = IncidentEvent
        fields = ["at", "author", "text"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_author(self, obj):
        return obj.actor.username if obj.actor_id else None


class IncidentDetailSerializer(IncidentSerializer):
    history = serializers.SerializerMethodField()
    comments = serializers.SerializerMethodField()
    files = serializers.SerializerMethodField()
    vendors = serializers.SerializerMethodField()

    class Meta(IncidentSerializer.Meta):
        fields = [*IncidentSerializer.Meta.fields, "history", "comments", "files", "vendors"]

    @extend_schema_field(
        {
            "type": "array",
            "description": "The system's owners or vendors told when the incident was escalated (once each).",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "email": {"type": "string"},
                    "phone": {"type": "string"},
                    "told_at": {"type": "string", "format": "date-time"},
                    "sent_at": {"type": "string", "format": "date-time", "nullable": True},
                },
            },
        }
    )
    def get_vendors(self, obj):
        return [
            {"name": v.name, "email": v.email, "phone": v.phone, "told_at": v.created_at, "sent_at": v.sent_at}
            for v in obj.vendor_notices.all()
        ]

    @extend_schema_field(IncidentEventSerializer(many=True))
    def get_history(self, obj):
        return IncidentEventSerializer(obj.events.all(), many=True).data

    @extend_schema_field(IncidentCommentSerializer(many=True))
    def get_comments(self, obj):
        return IncidentCommentSerializer([e for e in obj.events.all() if e.action == "commented"], many=True).data

    @extend_schema_field(
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "size": {"type": "integer"}, "url": {"type": "string"}},
            },
        }
    )
    def get_files(self, obj):
        from django.urls import reverse

        return [
            {"name": a.name, "size": a.size, "url": reverse("support:attachment", args=[a.pk])}
            for a in obj.attachments.all()
        ]


class IncidentCreateSerializer(RefuseUnknownFields, serializers.Serializer):
    category = serializers.CharField(help_text="A category code (§12), e.g. `network`.")
    system = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="A code of §5's `outage_systems`, or empty."
    )
    severity = serializers.CharField(help_text="`blocking`, `degraded` or `question`.")
    description = serializers.CharField(max_length=4000)
    locality = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="A province user: its province's code or one of its communes'.",
    )


class IncidentVersionSerializer(RefuseUnknownFields, serializers.Serializer):
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text="The version you read: 409 `stale_version` if it changed.",
    )


class IncidentAssignSerializer(IncidentVersionSerializer):
    team = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**63 - 1)
    user = serializers.CharField(required=False, allow_null=True, max_length=150, help_text="A username.")


class IncidentReasonSerializer(IncidentVersionSerializer):
    reason = serializers.CharField(max_length=4000)


class IncidentResolveSerializer(IncidentVersionSerializer):
    resolution = serializers.CharField(max_length=4000)


class IncidentCommentInputSerializer(RefuseUnknownFields, serializers.Serializer):
    text = serializers.CharField(max_length=4000)


class InterventionTeamSerializer(serializers.ModelSerializer):
    province = serializers.CharField(source="province_id", allow_null=True)
    members = serializers.SerializerMethodField()
    skills = serializers.SerializerMethodField()
    load = serializers.IntegerField(help_text="Active incidents the team holds.")

    class Meta:
        model = Team
        fields = ["id", "name", "province", "phone", "members", "skills", "load"]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_members(self, obj):
        return [m.username for m in obj.members.all()]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_skills(self, obj):
        return [s.pk for s in obj.skills.all()]


class OperationsBoardProvinceSerializer(serializers.Serializer):
    province = serializers.CharField()
    name = serializers.CharField()
    open = serializers.IntegerField()
    breached = serializers.IntegerField()


class OperationsBoardSerializer(serializers.Serializer):
    open = serializers.DictField(child=serializers.IntegerField(), help_text="Active incidents by severity.")
    breached = serializers.IntegerField()
    by_category = serializers.DictField(child=serializers.IntegerField())
    by_system = serializers.DictField(child=serializers.IntegerField())
    by_province = OperationsBoardProvinceSerializer(many=True)
    this_week = serializers.DictField(child=serializers.IntegerField(), help_text="Reported in the last 7 days.")
    as_of = serializers.DateTimeField()


def _rate_help(code: str) -> str:
    """The ranking field's help: the rate of the report form it is (the default form's expressions; a later
    version's rate of the same code is used for the periods it is in force on the last day of)."""
    rate = next(r for r in formspec.default_spec().rates if r.code == code)
    denominator = rate.denominator.text if rate.denominator is not None else "1"
    return (
        f"The report form's rate `{code}` summed over the period: ({rate.numerator.text}) / ({denominator}), "
        "in the version in force on the last day; null when the denominator is 0 or the version has no such rate."
    )


class CommuneRankSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    commune = serializers.CharField()
    name = serializers.CharField()
    reporting = serializers.FloatField(help_text="Days reported on time / days.")
    fully_online = serializers.FloatField(allow_null=True, help_text=_rate_help("fully_online"))
    on_time = serializers.FloatField(allow_null=True, help_text=_rate_help("on_time"))
    green = serializers.FloatField(allow_null=True, help_text="Commune-level assignments completed / assigned.")
    reported_on_time = serializers.IntegerField()
    tasks = serializers.IntegerField()
    tasks_green = serializers.IntegerField()


class CommuneRankingSerializer(serializers.Serializer):
    province = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    days = serializers.IntegerField()
    sort = serializers.CharField()
    communes = CommuneRankSerializer(many=True)
