"""Meetings and target values are records of what was shown and measured: on PostgreSQL a trigger refuses
UPDATE of a meeting and UPDATE or DELETE of a target value for every SQL client, like the assignments'
history (tasks 0002). TRUNCATE stays possible for the test runner's flush and a restore.

SQLite (the embedded laptop mode) relies on the model-level refusal in dashboards.models.
"""

from django.db import migrations

TABLES = {"dashboards_meeting": "UPDATE", "dashboards_targetvalue": "UPDATE OR DELETE"}


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, events in TABLES.items():
        schema_editor.execute(
            f"""
CREATE OR REPLACE FUNCTION {table}_frozen() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{table} is a record: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
""",
            params=None,
        )
        schema_editor.execute(
            f"CREATE TRIGGER {table}_frozen BEFORE {events} ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_frozen()",
            params=None,
        )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_frozen ON {table}", params=None)
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {table}_frozen()", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("dashboards", "0004_meetings"),
    ]

    operations = [
        migrations.RunPython(create_triggers, drop_triggers),
    ]
