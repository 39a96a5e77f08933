"""An incident's history is append-only for every SQL client, not only for the ORM: on PostgreSQL a trigger
refuses UPDATE and DELETE on support_incidentevent (as tasks 0002 does for status updates)."""

from django.db import migrations

CREATE = [
    """
CREATE OR REPLACE FUNCTION support_incidentevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'support_incidentevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
""",
    """
CREATE TRIGGER support_incidentevent_append_only
    BEFORE UPDATE OR DELETE ON support_incidentevent
    FOR EACH ROW EXECUTE FUNCTION support_incidentevent_append_only()
""",
]

DROP = [
    "DROP TRIGGER IF EXISTS support_incidentevent_append_only ON support_incidentevent",
    "DROP FUNCTION IF EXISTS support_incidentevent_append_only()",
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
    dependencies = [("support", "0001_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
