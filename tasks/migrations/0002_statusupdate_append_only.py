"""History is append-only for every SQL client, not only for the ORM: on PostgreSQL a trigger refuses UPDATE and
DELETE on tasks_statusupdate (admins and the portal's own role included). TRUNCATE is not a row operation and
stays possible for the test runner's flush and for a deliberate restore by the database owner.

SQLite (the embedded laptop mode) relies on the model-level refusal in tasks.models.StatusUpdate.
"""

from django.db import migrations

CREATE = [
    """
CREATE OR REPLACE FUNCTION tasks_statusupdate_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'tasks_statusupdate is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
""",
    """
CREATE TRIGGER tasks_statusupdate_append_only
    BEFORE UPDATE OR DELETE ON tasks_statusupdate
    FOR EACH ROW EXECUTE FUNCTION tasks_statusupdate_append_only()
""",
]

DROP = [
    "DROP TRIGGER IF EXISTS tasks_statusupdate_append_only ON tasks_statusupdate",
    "DROP FUNCTION IF EXISTS tasks_statusupdate_append_only()",
]


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in CREATE:
            schema_editor.execute(statement, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in DROP:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_trigger, drop_trigger),
    ]
