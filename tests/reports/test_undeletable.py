"""Daily reports and their revisions cannot be deleted: not in the admin, not through the ORM, not with SQL
on PostgreSQL — neither DELETE nor TRUNCATE, whatever a client sets (DESIGN.md §10; issue 22, finding 9). The
benchmark empties its own database as its superuser (tests/bench/test_purge.py)."""

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


POSTGRESQL_ONLY = pytest.mark.skipif(connection.vendor != "postgresql", reason="the triggers exist on PostgreSQL only")


@POSTGRESQL_ONLY
@pytest.mark.parametrize("table", ["reports_reportrevision", "reports_dailyreport"])
def test_the_old_escape_hatch_no_longer_opens(reports, table):
    """The red team's attack: `SET LOCAL plan02.allow_report_delete = 'on'`, which any SQL client may run,
    made the trigger let every DELETE through."""
    with pytest.raises(DatabaseError, match="never deleted: DELETE refused"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL plan02.allow_report_delete = 'on'")
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - a constant table name
    assert DailyReport.objects.count() == 3 and ReportRevision.objects.count() == 3


@POSTGRESQL_ONLY
@pytest.mark.parametrize(
    "statement",
    [
        "TRUNCATE reports_dailyreport CASCADE",
        "TRUNCATE reports_reportrevision",
        "TRUNCATE localities_province CASCADE",  # reaches the reports through their foreign keys
    ],
)
@pytest.mark.parametrize("hatch", [False, True])
def test_postgresql_refuses_truncate(reports, statement, hatch):
    with pytest.raises(DatabaseError, match="never deleted: TRUNCATE refused"), transaction.atomic():
        with connection.cursor() as cursor:
            # The reports were written in the test's transaction: their deferred foreign-key checks, still
            # pending, would stop a TRUNCATE before any trigger; as in another client's transaction, run them.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            if hatch:
                cursor.execute("SET LOCAL plan02.allow_report_delete = 'on'")
            cursor.execute(statement)
    assert DailyReport.objects.count() == 3 and ReportRevision.objects.count() == 3


@POSTGRESQL_ONLY
def test_migrating_back_restores_the_previous_function_and_forward_removes_it_again(reports):
    """The new migration only replaces the function and adds the TRUNCATE triggers: its reverse restores 0004's
    function as it was (the schema editor runs inside the test's transaction, which is rolled back)."""
    import importlib

    from django.apps import apps as global_apps

    migration = importlib.import_module("reports.migrations.0007_reports_refuse_truncate")
    with connection.schema_editor(atomic=False) as editor:
        migration.allow_truncate(global_apps, editor)
        with connection.cursor() as cursor:
            cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = 'reports_refuse_delete'")
            assert "allow_report_delete" in cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'reports_%_no_truncate'")
            assert cursor.fetchone()[0] == 0
        migration.refuse_truncate(global_apps, editor)
        with connection.cursor() as cursor:
            cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = 'reports_refuse_delete'")
            assert "allow_report_delete" not in cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'reports_%_no_truncate'")
            assert cursor.fetchone()[0] == 2
