"""The shipped default form (reports/fixtures/default_form.json) as version 1 of the form `daily`, in force
from the plan's first report day, labelled "proposed" until the standing agency imports its own; the reports
already stored are of that version."""

import datetime
import json
from pathlib import Path

from django.db import migrations

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "default_form.json"


def load(apps, schema_editor):
    ReportForm = apps.get_model("reports", "ReportForm")
    FormVersion = apps.get_model("reports", "FormVersion")
    FormIndicator = apps.get_model("reports", "FormIndicator")
    FormRule = apps.get_model("reports", "FormRule")
    FormRate = apps.get_model("reports", "FormRate")
    DailyReport = apps.get_model("reports", "DailyReport")
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    head = data["form"]
    form, _created = ReportForm.objects.get_or_create(
        code=head["code"],
        defaults={"title_vi": head["title_vi"], "title_en": head["title_en"], "status": head["status"]},
    )
    if FormVersion.objects.filter(form=form, number=1).exists():
        return
    version = FormVersion.objects.create(
        form=form,
        number=1,
        status=head["status"],
        title_vi=head["title_vi"],
        title_en=head["title_en"],
        effective_from=datetime.date.fromisoformat(head["effective_from"]),
        imported_at=datetime.datetime.now(datetime.UTC),
        imported_by="migration",
        source_file="reports/fixtures/default_form.json",
    )
    for order, row in enumerate(data["indicators"]):
        FormIndicator.objects.create(
            version=version,
            order=order,
            **{
                k: row.get(k)
                for k in (
                    "code",
                    "series",
                    "label_vi",
                    "label_en",
                    "type",
                    "unit",
                    "minimum",
                    "maximum",
                    "required",
                    "aggregation",
                    "section",
                )
            },
            help_vi=row.get("help_vi", ""),
            help_en=row.get("help_en", ""),
            choices=row.get("choices") or [],
        )
    for order, row in enumerate(data["rules"]):
        FormRule.objects.create(
            version=version,
            order=order,
            **{
                k: row.get(k) or ""
                for k in ("code", "kind", "left", "op", "right", "field", "severity", "message_vi", "message_en")
            },
        )
    for order, row in enumerate(data["rates"]):
        FormRate.objects.create(
            version=version,
            order=order,
            **{k: row.get(k) or "" for k in ("code", "numerator", "denominator", "label_vi", "label_en")},
        )
    DailyReport.objects.filter(form_version__isnull=True).update(form_version=version)


class Migration(migrations.Migration):
    dependencies = [("reports", "0010_forms_as_data")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
