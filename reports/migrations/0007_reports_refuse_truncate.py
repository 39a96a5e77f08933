"""No way around the refusal to delete reports (issue 22, finding 9), on PostgreSQL:

- the trigger function of 0004 no longer returns early when `plan02.allow_report_delete` is 'on': that
  setting was an escape hatch any SQL client could `SET LOCAL`. The benchmark, its one user, now empties its
  own throwaway database as its owner (bench/purge.py);
- TRUNCATE, which row and DELETE triggers never see, is refused too, by a statement-level BEFORE TRUNCATE
  trigger on reports_dailyreport and reports_reportrevision (a TRUNCATE of another table that CASCADEs to
  them fires it as well). `manage.py flush` is refused with it; the test suite's flush between transactional
  tests passes as the database's superuser (tests/conftest.py), as a restore does with pg_restore into an
  empty database.

Who owns the tables (or is a superuser) can still drop the triggers: no trigger stops the owner of a table.
The portal's promise is against every other client, and against the portal's own code.

SQLite (the embedded laptop mode) has no trigger here: it has no TRUNCATE statement at all (its `DELETE FROM`
without WHERE is the "truncate optimisation", a DELETE), and its DELETEs are refused by the models' and
querysets' refusals in reports.models, as before.
"""

from importlib import import_module

from django.db import migrations

TABLES = ["reports_dailyreport", "reports_reportrevision"]

# One function for both refusals, as the DELETE triggers of 0004 already call it: TG_OP says which.
FUNCTION = """
CREATE OR REPLACE FUNCTION reports_refuse_delete() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% rows are never deleted: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""

CREATE = [
    FUNCTION,
    *(
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION reports_refuse_delete()"
        for table in TABLES
    ),
]


def previous_function() -> str:
    """0004's function, with its escape hatch: what migrating back restores."""
    return import_module("reports.migrations.0004_reports_undeletable").CREATE[0]


def refuse_truncate(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in CREATE:
            schema_editor.execute(statement, params=None)


def allow_truncate(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}", params=None)
        schema_editor.execute(previous_function(), params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0006_apiclient_kind"),
    ]

    operations = [
        migrations.RunPython(refuse_truncate, allow_truncate),
    ]
