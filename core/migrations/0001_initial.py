# The cache generations move from plan02 (the top) to core (the foundation): the table is kept as it is
# (state only here), then renamed to the app's own name.

from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("plan02", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Generation",
                    fields=[
                        ("name", models.CharField(max_length=40, primary_key=True, serialize=False)),
                        ("value", models.BigIntegerField()),
                    ],
                    options={
                        "verbose_name": "cache generation",
                        "verbose_name_plural": "cache generations",
                        "db_table": "plan02_generation",
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
