"""The dashboards' cache generation moves from Redis to the database (dashboards.cache): a rebuild made while
Redis was unreachable could not renew it there, and a Redis restarted with its data served the pages it had
cached before the outage. The row is created by the first rebuild (an upsert), so none is inserted here."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('dashboards', '0005_frozen_history'),
    ]

    operations = [
        migrations.CreateModel(
            name='CacheGeneration',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('value', models.BigIntegerField(default=0)),
            ],
            options={
                'verbose_name': 'dashboard cache generation',
                'verbose_name_plural': 'dashboard cache generations',
                'ordering': ['id'],
                'constraints': [models.CheckConstraint(condition=models.Q(('id', 1)), name='cache_generation_one_row')],
            },
        ),
    ]
