"""Reports and their revisions are never deleted, for any SQL client: a revision protects its report, and on
PostgreSQL a statement trigger refuses DELETE on reports_dailyreport and reports_reportrevision.

The one escape hatch is a transaction-local setting that the trigger checks, `SET LOCAL
plan02.allow_report_delete = 'on'`, used only by reports.services.daily_reports_purge (the benchmark resets
its own database with it). TRUNCATE is not a DELETE and stays possible for the test runner's flush and for a
deliberate restore by the database owner. SQLite (the embedded laptop mode) relies on the model and queryset
refusals in reports.models.
"""

import django.db.models.deletion
from django.db import migrations, models

TABLES = ["reports_dailyreport", "reports_reportrevision"]

CREATE = [
    """
CREATE OR REPLACE FUNCTION reports_refuse_delete() RETURNS trigger AS $$
BEGIN
    IF current_setting('plan02.allow_report_delete', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION '% rows are never deleted: DELETE refused', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
""",
    *(
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION reports_refuse_delete()"
        for table in TABLES
    ),
]

DROP = [
    *(f"DROP TRIGGER IF EXISTS {table}_no_delete ON {table}" for table in TABLES),
    "DROP FUNCTION IF EXISTS reports_refuse_delete()",
]


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in CREATE:
            schema_editor.execute(statement, params=None)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in DROP:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0003_rollups_move_to_dashboards"),
    ]

    operations = [
        migrations.AlterField(
            model_name="reportrevision",
            name="report",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="revisions",
                to="reports.dailyreport",
                verbose_name="report",
            ),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
