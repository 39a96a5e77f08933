"""The rollup and snapshot models, moved from the reports app (reports/migrations/0003). The four tables
already exist (reports 0002) and keep their names, so their creation here is Django's state only: no row
is copied. The snapshot outbox (SnapshotRequest) is new and really created."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('localities', '0002_commune_slot'),
        ('reports', '0003_rollups_move_to_dashboards'),
    ]

    moved = [
        migrations.CreateModel(
            name='NationDayRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('received_online', models.BigIntegerField(default=0)),
                ('received_direct', models.BigIntegerField(default=0)),
                ('received_postal', models.BigIntegerField(default=0)),
                ('received_fully_online', models.BigIntegerField(default=0)),
                ('resolved_early', models.BigIntegerField(default=0)),
                ('resolved_on_time', models.BigIntegerField(default=0)),
                ('resolved_late', models.BigIntegerField(default=0)),
                ('returned', models.BigIntegerField(default=0)),
                ('pending_within_deadline', models.BigIntegerField(default=0)),
                ('pending_overdue', models.BigIntegerField(default=0)),
                ('online_payments', models.BigIntegerField(default=0)),
                ('digitized_dossiers', models.BigIntegerField(default=0)),
                ('e_results_issued', models.BigIntegerField(default=0)),
                ('staff_assigned', models.BigIntegerField(default=0)),
                ('staff_present', models.BigIntegerField(default=0)),
                ('staff_with_digital_signature', models.BigIntegerField(default=0)),
                ('documents_issued', models.BigIntegerField(default=0)),
                ('documents_e_signed', models.BigIntegerField(default=0)),
                ('outage_minutes', models.BigIntegerField(default=0)),
                ('localities_expected', models.IntegerField(default=0)),
                ('localities_received', models.IntegerField(default=0)),
                ('localities_late', models.IntegerField(default=0)),
                ('communes_expected', models.IntegerField(default=0)),
                ('communes_received', models.IntegerField(default=0)),
                ('communes_late', models.IntegerField(default=0)),
                ('support_needed', models.IntegerField(default=0)),
                ('built_at', models.DateTimeField()),
                ('date', models.DateField(unique=True)),
            ],
            options={
                'verbose_name': 'nation/day rollup',
                'verbose_name_plural': 'nation/day rollups',
                'db_table': 'reports_nationdayrollup',
                'ordering': ['date'],
            },
        ),
        migrations.CreateModel(
            name='RollupAlarm',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('date', models.DateField()),
                ('differences', models.JSONField(default=dict)),
                ('resolved_at', models.DateTimeField(blank=True, null=True)),
                ('province', models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='localities.province')),
            ],
            options={
                'verbose_name': 'rollup alarm',
                'verbose_name_plural': 'rollup alarms',
                'db_table': 'reports_rollupalarm',
                'ordering': ['-created_at'],
            },
        ),
        migrations.CreateModel(
            name='TaskSnapshot',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('date', models.DateField()),
                ('dimension', models.CharField(choices=[('phase', 'phase'), ('group', 'group'), ('agency', 'lead agency'), ('province', 'province'), ('task', 'task'), ('province_task', 'province and task')], max_length=15)),
                ('key', models.CharField(max_length=20)),
                ('completed_on_time', models.IntegerField(default=0)),
                ('completed_late', models.IntegerField(default=0)),
                ('on_track', models.IntegerField(default=0)),
                ('overdue', models.IntegerField(default=0)),
                ('not_started', models.IntegerField(default=0)),
                ('assignments', models.IntegerField(default=0)),
                ('green', models.IntegerField(default=0)),
                ('commune_green', models.IntegerField(default=0)),
                ('commune_total', models.IntegerField(default=0)),
                ('status', models.CharField(blank=True, max_length=20)),
                ('built_at', models.DateTimeField()),
            ],
            options={
                'verbose_name': 'task snapshot',
                'verbose_name_plural': 'task snapshots',
                'db_table': 'reports_tasksnapshot',
                'ordering': ['date', 'dimension', 'key'],
                'indexes': [models.Index(fields=['dimension', 'key', 'date'], name='snapshot_dim_key_date_idx')],
                'constraints': [models.UniqueConstraint(fields=('date', 'dimension', 'key'), name='task_snapshot_date_dim_key_uniq')],
            },
        ),
        migrations.CreateModel(
            name='ProvinceDayRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('received_online', models.BigIntegerField(default=0)),
                ('received_direct', models.BigIntegerField(default=0)),
                ('received_postal', models.BigIntegerField(default=0)),
                ('received_fully_online', models.BigIntegerField(default=0)),
                ('resolved_early', models.BigIntegerField(default=0)),
                ('resolved_on_time', models.BigIntegerField(default=0)),
                ('resolved_late', models.BigIntegerField(default=0)),
                ('returned', models.BigIntegerField(default=0)),
                ('pending_within_deadline', models.BigIntegerField(default=0)),
                ('pending_overdue', models.BigIntegerField(default=0)),
                ('online_payments', models.BigIntegerField(default=0)),
                ('digitized_dossiers', models.BigIntegerField(default=0)),
                ('e_results_issued', models.BigIntegerField(default=0)),
                ('staff_assigned', models.BigIntegerField(default=0)),
                ('staff_present', models.BigIntegerField(default=0)),
                ('staff_with_digital_signature', models.BigIntegerField(default=0)),
                ('documents_issued', models.BigIntegerField(default=0)),
                ('documents_e_signed', models.BigIntegerField(default=0)),
                ('outage_minutes', models.BigIntegerField(default=0)),
                ('localities_expected', models.IntegerField(default=0)),
                ('localities_received', models.IntegerField(default=0)),
                ('localities_late', models.IntegerField(default=0)),
                ('communes_expected', models.IntegerField(default=0)),
                ('communes_received', models.IntegerField(default=0)),
                ('communes_late', models.IntegerField(default=0)),
                ('support_needed', models.IntegerField(default=0)),
                ('built_at', models.DateTimeField()),
                ('date', models.DateField()),
                ('reported_0', models.BigIntegerField(default=0)),
                ('reported_1', models.BigIntegerField(default=0)),
                ('reported_2', models.BigIntegerField(default=0)),
                ('reported_3', models.BigIntegerField(default=0)),
                ('province', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='localities.province')),
            ],
            options={
                'verbose_name': 'province/day rollup',
                'verbose_name_plural': 'province/day rollups',
                'db_table': 'reports_provincedayrollup',
                'ordering': ['date', 'province'],
                'indexes': [models.Index(fields=['date', 'province'], name='pdr_date_province_idx')],
                'constraints': [models.UniqueConstraint(fields=('province', 'date'), name='province_day_rollup_uniq')],
            },
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=moved, database_operations=[]),
        migrations.CreateModel(
            name='SnapshotRequest',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('date', models.DateField(unique=True)),
                ('requested_at', models.DateTimeField()),
            ],
            options={
                'verbose_name': 'pending task snapshot',
                'verbose_name_plural': 'pending task snapshots',
                'ordering': ['requested_at'],
            },
        ),
    ]
