"""Daily reports and their revisions cannot be deleted: not in the admin, not through the ORM, not with SQL
on PostgreSQL; only the benchmark's purge gets past, for its own database (DESIGN.md §10)."""

import pytest
from django.db import DatabaseError, connection, models, transaction

from core.models import AppendOnlyError
from reports import services
from reports.models import DailyReport, ReportRevision
from tests.reports.helpers import days_ago, payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def reports(commune_key, other_commune_key):
    services.daily_report_submit(payload=payload("00004"), client=commune_key[0])
    services.daily_report_submit(payload=payload("00008"), client=other_commune_key[0])
    services.daily_report_submit(payload=payload("00004", day=days_ago(2)), client=commune_key[0])
    return DailyReport.objects.order_by("locality", "date")


def test_the_admin_offers_no_deletion(client, admin_user, reports):
    client.force_login(admin_user)
    report = reports.first()
    url = f"/admin/reports/dailyreport/{report.pk}/delete/"
    assert client.get(url).status_code == 403
    assert client.post(url, {"post": "yes"}).status_code == 403
    changelist = client.get("/admin/reports/dailyreport/")
    assert changelist.status_code == 200
    assert "delete_selected" not in changelist.text
    response = client.post(
        "/admin/reports/dailyreport/", {"action": "delete_selected", "_selected_action": [report.pk], "post": "yes"}
    )
    assert response.status_code in (200, 302)
    assert client.get(f"/admin/reports/reportrevision/{report.revisions.get().pk}/delete/").status_code == 403
    assert DailyReport.objects.count() == 3 and ReportRevision.objects.count() == 3


def test_models_and_querysets_refuse_delete(reports):
    report = reports.first()
    with pytest.raises(AppendOnlyError):
        report.delete()
    with pytest.raises(AppendOnlyError):
        DailyReport.objects.filter(locality="00004").delete()
    with pytest.raises(AppendOnlyError):
        report.revisions.get().delete()
    with pytest.raises(AppendOnlyError):
        ReportRevision.objects.all().delete()
    assert DailyReport.objects.count() == 3 and ReportRevision.objects.count() == 3


def test_a_revision_protects_its_report():
    assert ReportRevision._meta.get_field("report").remote_field.on_delete is models.PROTECT


@pytest.mark.services
@pytest.mark.parametrize("table", ["reports_reportrevision", "reports_dailyreport"])
def test_postgresql_refuses_delete_for_any_sql_client(postgresql, reports, table):
    # The trigger exists on PostgreSQL only.
    with pytest.raises(DatabaseError, match="never deleted"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - a constant table name
    assert DailyReport.objects.count() == 3 and ReportRevision.objects.count() == 3


def test_the_benchmarks_purge_deletes_reports_with_their_revisions_and_nothing_else(reports):
    purged = services.daily_reports_purge(queryset=DailyReport.objects.filter(locality="00004"))
    assert purged == 2
    assert list(DailyReport.objects.values_list("locality", flat=True)) == ["00008"]
    assert ReportRevision.objects.get().report.locality == "00008"
    if connection.vendor == "postgresql":  # the permission ended with the purge's transaction
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM reports_dailyreport")
