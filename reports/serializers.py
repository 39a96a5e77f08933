"""Read serializers of the report API. Writes are validated by reports.validation, not by serializers (one
validator for every channel, fast enough for a national batch); reports/openapi.py documents their shapes."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from reports import formspec
from reports.figures import INTEGER_FIELDS, OUTAGE_SYSTEM_CODES, TEXT_FIELDS
from reports.models import DailyReport, ReportRevision
from reports.services import content_of

_CONTENT = [i.code for i in formspec.default_spec().indicators]


class RatesSerializer(serializers.Serializer):
    online = serializers.FloatField(
        allow_null=True, help_text="received_online / received_total; null when nothing was received."
    )
    fully_online = serializers.FloatField(
        allow_null=True,
        help_text="received_fully_online / received_total (the plan's target is at least 0.8); null when "
        "nothing was received.",
    )
    on_time = serializers.FloatField(
        allow_null=True,
        help_text="(resolved_early + resolved_on_time) / resolved_total; null when nothing was resolved.",
    )


class DailyReportSerializer(serializers.ModelSerializer):
    province = serializers.CharField(source="province_id", read_only=True, help_text="Province code (2 digits).")
    commune = serializers.CharField(
        source="commune_id", read_only=True, allow_null=True, help_text="Commune code, null for a province's report."
    )
    outage_systems = serializers.ListField(child=serializers.ChoiceField(choices=OUTAGE_SYSTEM_CODES), read_only=True)
    received_total = serializers.IntegerField(read_only=True, help_text="received_online + direct + postal.")
    resolved_total = serializers.IntegerField(read_only=True, help_text="resolved_early + on_time + late.")
    rates = RatesSerializer(read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = DailyReport
        fields = [
            "locality",
            "province",
            "commune",
            "date",
            *INTEGER_FIELDS,
            "outage_systems",
            *TEXT_FIELDS,
            "support_needed",
            "received_total",
            "resolved_total",
            "rates",
            "receipt",
            "payload_hash",
            "revision",
            "late",
            "received_at",
            "updated_at",
            "url",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_url(self, report):
        return reverse("daily-report-detail", args=[report.locality, report.date.isoformat()])

    def to_representation(self, instance):
        """A report of the default form as §5 says; one of a later version (reports.formspec) with that
        version's fields, its totals and its ratios in place of the default form's."""
        body = super().to_representation(instance)
        if instance.form_version_id is None:
            return body
        spec = formspec.spec_for_version(instance.form_version_id)
        if formspec.is_default(spec):
            return body
        row = {name: getattr(instance, name) for name in _CONTENT}
        content = content_of({**row, "extra": instance.extra, "form_version_id": instance.form_version_id})
        derived = spec.derived(content)
        shaped = {}
        for key, value in body.items():
            if key == "date":
                shaped[key] = value
                shaped.update(content)
                shaped.update({r.code: derived[r.code] for r in spec.rates if r.denominator is None})
                shaped["rates"] = {r.code: derived[r.code] for r in spec.rates if r.denominator is not None}
            elif key not in _CONTENT and key not in ("received_total", "resolved_total", "rates"):
                shaped[key] = value
        return shaped


class ReportRevisionSerializer(serializers.ModelSerializer):
    author = serializers.CharField(
        source="author.username", read_only=True, allow_null=True, help_text="The user, for a browser or session."
    )
    client = serializers.CharField(
        source="client.name", read_only=True, allow_null=True, help_text="The API client, for a key."
    )
    payload = serializers.JSONField(read_only=True, help_text="The report's content in this revision.")

    class Meta:
        model = ReportRevision
        fields = ["number", "receipt", "payload_hash", "reason", "created_at", "author", "client", "payload"]
        read_only_fields = fields


class DailyReportDetailSerializer(DailyReportSerializer):
    revisions = ReportRevisionSerializer(many=True, read_only=True)

    class Meta(DailyReportSerializer.Meta):
        fields = [*DailyReportSerializer.Meta.fields, "revisions"]
        read_only_fields = fields
