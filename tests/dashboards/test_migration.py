"""Moving the rollup and snapshot models from reports to dashboards changed Django's state only: a database
that holds rollups before the move holds the same rows after it, readable through the new models."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("reports", "0002_rollups"), ("dashboards", None)]


@pytest.mark.django_db(transaction=True)
def test_rows_written_before_the_move_are_read_after_it():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    old = executor.loader.project_state([("reports", "0002_rollups")]).apps
    Province = old.get_model("localities", "Province")
    province, _ = Province.objects.get_or_create(
        code="01", defaults={"name": "Hà Nội", "codename": "ha-noi", "division_type": "thành phố trung ương"}
    )
    day, now = datetime.date(2025, 9, 1), timezone.now()
    old.get_model("reports", "ProvinceDayRollup").objects.create(
        province=province, date=day, received_online=120, localities_expected=127, reported_0=5, built_at=now
    )
    old.get_model("reports", "NationDayRollup").objects.create(date=day, received_online=120, built_at=now)
    old.get_model("reports", "TaskSnapshot").objects.create(
        date=day, dimension="phase", key="urgent", completed_on_time=40, assignments=90, green=60, built_at=now
    )
    old.get_model("reports", "RollupAlarm").objects.create(date=day, province=province, differences={"row": "missing"})

    executor = MigrationExecutor(connection)  # a fresh loader sees what is applied now
    executor.migrate(latest)

    from dashboards.models import NationDayRollup, ProvinceDayRollup, RollupAlarm, SnapshotRequest, TaskSnapshot

    row = ProvinceDayRollup.objects.get(province_id="01", date=day)
    assert (row.received_online, row.localities_expected, row.reported_0) == (120, 127, 5)
    assert NationDayRollup.objects.get(date=day).received_online == 120
    snapshot = TaskSnapshot.objects.get(date=day, dimension="phase", key="urgent")
    assert (snapshot.completed_on_time, snapshot.assignments, snapshot.green) == (40, 90, 60)
    assert RollupAlarm.objects.get(date=day).differences == {"row": "missing"}
    assert ProvinceDayRollup._meta.db_table == "reports_provincedayrollup"
    assert SnapshotRequest.objects.count() == 0  # the one new table exists
