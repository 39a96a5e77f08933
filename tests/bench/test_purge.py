"""The benchmark empties days of its own database past the reports' refusals as the database's superuser
(bench/purge.py), since the triggers no longer have a setting that lets a DELETE through (issue 22, finding
9)."""

import pytest
from django.db import DatabaseError, connection, transaction

from reports import services
from reports.models import DailyReport, ReportRevision
from tests.conftest import require
from tests.reports.helpers import days_ago, payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def reports(commune_key, other_commune_key):
    require(("PostgreSQL (DATABASE_URL=postgres://…), as the benchmark", connection.vendor == "postgresql"))
    services.daily_report_submit(payload=payload("00004"), client=commune_key[0])
    services.daily_report_submit(payload=payload("00008"), client=other_commune_key[0])
    services.daily_report_submit(payload=payload("00004", day=days_ago(2)), client=commune_key[0])


def test_the_purge_deletes_reports_with_their_revisions_and_nothing_else(reports):
    from bench.purge import reports_purge

    assert reports_purge(queryset=DailyReport.objects.filter(locality="00004")) == 2
    assert list(DailyReport.objects.values_list("locality", flat=True)) == ["00008"]
    assert ReportRevision.objects.get().report.locality == "00008"
    # The triggers fire again once the purge is done, even inside the test's outer transaction.
    with pytest.raises(DatabaseError, match="never deleted"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM reports_dailyreport")


def test_the_portal_has_no_purge():
    assert not hasattr(services, "daily_reports_purge")
