"""The shapes of DESIGN.md §8. Rows come from alerts.selectors with their joins made there (none per row here)."""

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alerts import specs
from alerts.display import alert_title, alert_url, notified, subject
from alerts.models import Alert, Notification
from core.api import RefuseUnknownFields
from reports.models import DailyReport
from tasks.models import Assignment
from tasks.roles import NO_SCOPE
from tasks.schema import NamedChoiceField
from tasks.serializers import BlockingPartySerializer, UnitSerializer

RULE_ENUM = "AlertRuleEnum"


def _absolute(serializer: serializers.Serializer, path: str) -> str:
    request = serializer.context.get("request")
    return request.build_absolute_uri(path) if request is not None else path


class SubjectSerializer(serializers.Serializer):
    kind = NamedChoiceField(choices=specs.SUBJECT_CHOICES, enum_name="AlertSubjectKindEnum")
    id = serializers.JSONField(help_text="The assignment's or the report's id (integer), or the commune's code.")
    code = serializers.CharField(help_text="The task's code, the commune's code, or the report's locality code.")
    label = serializers.CharField()


class AlertSerializer(serializers.ModelSerializer):
    rule = NamedChoiceField(choices=specs.RULE_CHOICES, enum_name=RULE_ENUM, read_only=True)
    threshold = serializers.IntegerField(read_only=True, help_text="Days: 7 or 1 before the deadline, 14 overdue, …")
    subject = serializers.SerializerMethodField()
    # Null when the alert is not about a province (a central agency's task) or no agency has to act (a
    # commune's missing report).
    province = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="Province code, e.g. `01`."
    )
    agency = serializers.SlugRelatedField(
        slug_field="code",
        read_only=True,
        allow_null=True,
        help_text="The agency that has to act: a central assignment's agency, the blocking agency, or the lead "
        "agency of an escalated overdue task.",
    )
    open = serializers.BooleanField(source="is_open", read_only=True)
    notified = serializers.SerializerMethodField()

    class Meta:
        model = Alert
        # The shape of DESIGN.md §8, plus the threshold.
        fields = ["id", "rule", "threshold", "subject", "province", "agency", "since", "open", "closed_at", "notified"]

    @extend_schema_field(SubjectSerializer)
    def get_subject(self, obj):
        return subject(obj)

    @extend_schema_field(serializers.CharField(help_text="One line, in the language of the request."))
    def get_title(self, obj):
        return alert_title(obj)

    @extend_schema_field(
        serializers.ListField(
            child=serializers.CharField(),
            help_text="Who was told in the portal, sorted: usernames for the people you may know (yourself, your "
            "own unit's people; everyone for the national roles and staff), otherwise their role and unit in the "
            "language of the request (`Province officer, Thành phố Hà Nội`). API keys get the labels only.",
        )
    )
    def get_notified(self, obj):
        # The reader, from the view's context (AlertViewSet): without one, labels only.
        return notified(obj, self.context.get("scope", NO_SCOPE), staff=self.context.get("staff", False))

    @extend_schema_field(serializers.URLField(help_text="The page of the alert's subject."))
    def get_url(self, obj):
        return _absolute(self, alert_url(obj))


class NotificationSerializer(serializers.ModelSerializer):
    rule = NamedChoiceField(source="alert.rule", choices=specs.RULE_CHOICES, enum_name=RULE_ENUM, read_only=True)
    title = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    alert = serializers.PrimaryKeyRelatedField(read_only=True)
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "rule", "title", "url", "alert", "created_at", "read"]

    @extend_schema_field(serializers.CharField(help_text="One line, in the language of the request."))
    def get_title(self, obj):
        return alert_title(obj.alert)

    @extend_schema_field(serializers.URLField(help_text="The page of the alert's subject."))
    def get_url(self, obj):
        return _absolute(self, alert_url(obj.alert))

    @extend_schema_field(serializers.BooleanField())
    def get_read(self, obj):
        return obj.read_at is not None


class BlockerSerializer(serializers.ModelSerializer):
    """One row of the blocker register: who blocks whom, since when, days waiting."""

    assignment = serializers.IntegerField(source="pk", read_only=True)
    task = serializers.SlugRelatedField(slug_field="code", read_only=True)
    unit = serializers.SerializerMethodField()
    province = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)  # null: a central agency
    blocking_agency = serializers.SlugRelatedField(
        source="blocked_by", slug_field="code", read_only=True, allow_null=True, help_text="null: not an agency."
    )
    blocker = BlockingPartySerializer(
        read_only=True, help_text="Who or what blocks: an agency, a province, a vendor or a system."
    )
    since = serializers.SerializerMethodField()
    days_waiting = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Assignment
        fields = [
            "assignment",
            "task",
            "unit",
            "province",
            "blocking_agency",
            "blocker",
            "blocked_reason",
            "since",
            "days_waiting",
            "url",
        ]

    @extend_schema_field(UnitSerializer(help_text="The blocked unit."))
    def get_unit(self, obj):
        if obj.agency_id:
            return {"kind": "agency", "code": obj.agency.code, "name": obj.agency.name}
        if obj.commune_id:
            return {"kind": "commune", "code": obj.commune_id, "name": obj.commune.name}
        return {"kind": "province", "code": obj.province_id, "name": obj.province.name}

    @extend_schema_field(
        serializers.DateField(allow_null=True, help_text="The day the block began (from the history); null if unknown.")
    )
    def get_since(self, obj):
        return timezone.localtime(obj.blocked_since).date() if obj.blocked_since else None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_days_waiting(self, obj):
        since = self.get_since(obj)
        return (self.context["today"] - since).days if since else None

    @extend_schema_field(serializers.URLField())
    def get_url(self, obj):
        return _absolute(self, reverse("tasks:assignment", args=[obj.pk]))


class SupportRequestSerializer(serializers.ModelSerializer):
    """A report that asked for support (`support_needed`), open until a province officer closes it."""

    province = serializers.PrimaryKeyRelatedField(read_only=True)
    commune = serializers.PrimaryKeyRelatedField(read_only=True)
    open = serializers.SerializerMethodField()
    resolution = serializers.SerializerMethodField()
    closed_by = serializers.SerializerMethodField()
    closed_at = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = DailyReport
        fields = [
            "id",
            "locality",
            "province",
            "commune",
            "date",
            "difficulties",
            "proposals",
            "received_at",
            "open",
            "resolution",
            "closed_by",
            "closed_at",
            "url",
        ]

    def _closure(self, obj):
        return getattr(obj, "support_resolution", None)

    @extend_schema_field(serializers.BooleanField())
    def get_open(self, obj):
        return self._closure(obj) is None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_resolution(self, obj):
        closure = self._closure(obj)
        return closure.resolution if closure else None

    @extend_schema_field(serializers.CharField(allow_null=True, help_text="Username of the officer who closed it."))
    def get_closed_by(self, obj):
        closure = self._closure(obj)
        return closure.closed_by.username if closure else None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_closed_at(self, obj):
        closure = self._closure(obj)
        return serializers.DateTimeField().to_representation(closure.closed_at) if closure else None

    @extend_schema_field(serializers.URLField())
    def get_url(self, obj):
        return _absolute(self, reverse("alerts:support_request", args=[obj.pk]))


class SupportCloseInputSerializer(RefuseUnknownFields, serializers.Serializer):
    """Body of POST /api/v1/support-requests/{id}/close/."""

    resolution = serializers.CharField(max_length=2000, help_text="How the request was resolved; the clerk reads it.")


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many notifications were unread and are now read.")
