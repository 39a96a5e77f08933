# The cache generations now belong to core (core/migrations/0001_initial.py): the table stays, only the
# model leaves this app's state.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("plan02", "0001_initial"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Generation")],
            database_operations=[],
        ),
    ]
