"""The rollup and snapshot models move to the dashboards app (dashboards/migrations/0001_initial.py creates
them there on the same tables). Django's state only: the tables, their rows, indexes and constraints stay
exactly as they are."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0002_rollups'),
    ]

    state_operations = [
        migrations.DeleteModel(
            name='NationDayRollup',
        ),
        migrations.RemoveField(
            model_name='provincedayrollup',
            name='province',
        ),
        migrations.RemoveField(
            model_name='rollupalarm',
            name='province',
        ),
        migrations.DeleteModel(
            name='TaskSnapshot',
        ),
        migrations.DeleteModel(
            name='ProvinceDayRollup',
        ),
        migrations.DeleteModel(
            name='RollupAlarm',
        ),
    ]

    operations = [migrations.SeparateDatabaseAndState(state_operations=state_operations, database_operations=[])]
