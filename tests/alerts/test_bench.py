"""The benchmark's early-warning row (bench/alerts.py) works end to end, here on the test database with the
whole catalogue and a few days of seeded reports; `make bench` measures it at 30 days. No timing is asserted:
the machines are shared (bench/run.py reports seconds against the 10 s goal)."""

import datetime

import pytest
from django.utils import timezone

from bench.alerts import FLOOR_SQL, alerts_rows, measure
from reports.demo import seed_reports
from tasks.demo import demo_users_ensure, seed_task_history

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def national(postgresql, reference_data):
    # The benchmark runs on PostgreSQL (tests.conftest.postgresql: skipped without it, a failure in CI).
    end = timezone.localdate() - datetime.timedelta(days=1)
    seed_reports(start=end - datetime.timedelta(days=2), end=end)
    seed_task_history(end=end)
    demo_users_ensure(password="bench-" + "p" * 12)


def test_measure_raises_at_national_scale_then_sends_nothing(national):
    data = measure()
    assert data["commune_assignments"] == 7 * 3321 and data["communes"] == 3321
    first, second = data["first"], data["second"]
    assert first["raised"] > 3321 and first["notifications"] > 0 and first["sent"] == first["digests"] > 0
    assert (second["raised"], second["notifications"], second["digests"], second["sent"], second["mails"]) == (
        0,
        0,
        0,
        0,
        0,
    )
    assert second["queries"] < first["queries"]
    assert data["floor"] > 0 and len(FLOOR_SQL) == 3


def test_the_rows_of_the_table(national, monkeypatch):
    import bench.alerts

    monkeypatch.setattr(
        bench.alerts.subprocess,
        "run",
        lambda argv, **kwargs: type(
            "Done", (), {"returncode": 0, "stdout": _json(measure()) if "shell" in argv else ""}
        )(),
    )
    rows = []
    alerts_rows(lambda *args, **kwargs: rows.append((*args, kwargs)), database_url="postgres://unused/unused")
    assert [r[0] for r in rows] == ["alerts_run: national scale, first run", "alerts_run: second run sends nothing"]
    assert all(r[1] is not None and r[2] for r in rows)  # ours, and a floor that took time
    assert rows[0][7] == {"ratio_goal": ("≤", 3)}  # judged as a ratio to the floor
    assert "the same inserts" in rows[0][6] and " alert, " in rows[0][6]
    assert "0 raised, 0 notifications, 0 e-mails" in rows[1][6]


def _json(data):
    import json

    return json.dumps(data) + "\n"
