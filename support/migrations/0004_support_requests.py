"""Today's support requests (daily reports with `support_needed`, DESIGN.md §8) become incidents (§12),
nothing lost: each report gets its incident, in the degraded severity, dated when the report arrived, and a
request a province already closed becomes a closed incident with its resolution, who closed it and when.
The support-requests API and pages stay as they are (contract §8). Later reports get theirs from the
listener and the check job (support.receivers, support.services.incidents_open_for_reports)."""

from django.conf import settings
from django.db import migrations

SYSTEMS = {
    "national_portal",
    "provincial_procedure_system",
    "vneid",
    "population_db",
    "document_management",
    "network",
    "other",
}


def forwards(apps, schema_editor):
    DailyReport = apps.get_model("reports", "DailyReport")
    Incident = apps.get_model("support", "Incident")
    IncidentEvent = apps.get_model("support", "IncidentEvent")
    SupportResolution = apps.get_model("alerts", "SupportResolution")
    acknowledge, resolve = settings.INCIDENT_TIMES["degraded"]
    hours = settings.OFFICE_HOURS
    done = set(Incident.objects.exclude(report=None).values_list("report_id", flat=True))
    closures = {c.report_id: c for c in SupportResolution.objects.all()}
    for report in DailyReport.objects.filter(support_needed=True).order_by("pk").iterator():
        if report.pk in done:
            continue
        systems = [s for s in (report.outage_systems or []) if s in SYSTEMS]
        system = systems[0] if systems else ""
        description = (report.difficulties or report.proposals or "").strip() or (
            f"Hỗ trợ được đề nghị trong báo cáo ngày {report.date.isoformat()}."
        )
        start = report.received_at
        incident = Incident.objects.create(
            category_id=system or "other",
            system=system,
            severity="degraded",
            description=description[:4000],
            province_id=report.province_id,
            commune_id=report.commune_id,
            report_id=report.pk,
            reported_by_id=report.submitted_by_id,
            created_at=start,
            updated_at=start,
            acknowledge_by=hours.add(start, acknowledge),
            resolve_by=hours.add(start, resolve),
        )
        IncidentEvent.objects.create(
            incident=incident, actor_id=report.submitted_by_id, at=start, action="opened", to_state="open",
            text=description, version=1,
        )
        closure = closures.get(report.pk)
        if closure is not None:
            Incident.objects.filter(pk=incident.pk).update(
                state="closed",
                resolution=closure.resolution,
                resolved_at=closure.closed_at,
                closed_at=closure.closed_at,
                updated_at=closure.closed_at,
                version=2,
            )
            IncidentEvent.objects.create(
                incident=incident, actor_id=closure.closed_by_id, at=closure.closed_at, action="closed",
                from_state="open", to_state="closed", text=closure.resolution, version=2,
            )


class Migration(migrations.Migration):
    dependencies = [
        ("support", "0003_categories"),
        ("alerts", "0002_rule_choices_from_registry"),
        ("reports", "0006_apiclient_kind"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
