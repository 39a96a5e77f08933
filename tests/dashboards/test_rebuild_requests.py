"""A rebuild never makes reports wait (PostgreSQL): it reads the day's rollup requests without locking them,
and deletes at the end only those whose last writer its snapshot saw. A report committed while a rebuild
aggregates is neither blocked by it nor lost: its request stays for the next rebuild."""

import psycopg
import pytest
from django.db import connection

from dashboards import rollups
from reports.models import DailyReport, RollupRequest
from reports.outbox import REQUEST_UPSERT_SQL, request_rollups
from tests.dashboards.test_rollups import HANOI, independent_province_rollup, stored
from tests.reports.factories import make_report, yesterday

pytestmark = pytest.mark.services


@pytest.fixture(autouse=True)
def _no_jobs(monkeypatch):
    """The rebuilds are run by the test, not by the jobs that the requests announce (eager in tests)."""
    from reports import outbox

    monkeypatch.setattr(outbox, "announce_after_commit", lambda pairs: None)


def _other_connection():
    params = connection.settings_dict
    return psycopg.connect(
        host=params["HOST"] or "127.0.0.1",
        port=params["PORT"] or 5432,
        user=params["USER"],
        password=params["PASSWORD"] or None,
        dbname=params["NAME"],
        autocommit=False,
    )


@pytest.mark.django_db(transaction=True)
def test_a_report_committed_during_a_rebuild_neither_waits_nor_is_lost(postgresql, reference_data, monkeypatch):
    day = yesterday()
    make_report("00004", day)
    request_rollups([(HANOI, day)])
    before = RollupRequest.objects.get(province_id=HANOI, date=day)
    assert before.txid is not None
    real_rebuild = rollups._rebuild
    committed = {}

    def rebuild_while_another_report_arrives(days, provinces=None):
        # While this rebuild aggregates, another submission of the same province and day commits its request
        # on another connection (its report is made below, once this rebuild is over). Before, the upsert
        # waited for the rebuild's row lock: here the wait would never end (this thread is the rebuild), so a
        # lock timeout tells.
        with _other_connection() as other:
            other.execute("SET lock_timeout = '3s'")
            other.execute(REQUEST_UPSERT_SQL.format(source="SELECT %s, %s::date, now()"), [HANOI, day])
            other.commit()
            committed["txid"] = other.execute(
                "SELECT txid FROM reports_rolluprequest WHERE province_id = %s AND date = %s", [HANOI, day]
            ).fetchone()[0]
        return real_rebuild(days, provinces)

    monkeypatch.setattr(rollups, "_rebuild", rebuild_while_another_report_arrives)
    assert rollups.rollup_rebuild(province_id=HANOI, day=day, only_if_requested=True) == 1
    # The request written after the rebuild's snapshot stays, with its writer; the rebuild's own is answered.
    after = RollupRequest.objects.get(province_id=HANOI, date=day)
    assert after.txid == committed["txid"] != before.txid
    monkeypatch.setattr(rollups, "_rebuild", real_rebuild)
    make_report("00008", day)  # the report whose request that was (its rows, now committed)
    assert rollups.rollup_rebuild(province_id=HANOI, day=day, only_if_requested=True) == 1
    assert not RollupRequest.objects.filter(date=day).exists()
    assert stored(HANOI, day) == independent_province_rollup(HANOI, day)
    assert stored(HANOI, day)["localities_received"] == DailyReport.objects.filter(province_id=HANOI, date=day).count()


@pytest.mark.django_db(transaction=True)
def test_a_request_written_before_the_migration_is_answered(postgresql, reference_data):
    """A pending request from before the txid column (NULL) was written long before any rebuild: answered."""
    day = yesterday()
    make_report("00004", day)
    request_rollups([(HANOI, day)])
    RollupRequest.objects.update(txid=None)
    assert rollups.rollup_rebuild(province_id=HANOI, day=day, only_if_requested=True) == 1
    assert not RollupRequest.objects.exists()
