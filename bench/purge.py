"""The benchmark empties days of its own throwaway database (plan02_bench…) between its measurements, which
the portal never does: reports and their revisions are refused deletion by the models, the querysets and, on
PostgreSQL, the triggers of reports' migrations 0004 and 0007, which have no setting to get past them.

The benchmark gets past them as what it is, the superuser that created the database (BENCH_PG): inside one
transaction, `SET LOCAL session_replication_role = replica` (a superuser's setting) keeps ordinary triggers
from firing, so the DELETEs go through; Django's collector still deletes what depends on the reports, as a
delete would. Never imported by the portal.
"""

from django.db import connection, models, transaction
from django.db.models import QuerySet

from reports.models import DailyReport, ReportRevision


def reports_purge(*, queryset: QuerySet) -> int:
    """Delete these reports and their revisions; the caller rebuilds the rollups of the days it purged.
    Returns the number of reports deleted."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
        report_ids = queryset.values("pk")
        models.QuerySet.delete(ReportRevision.objects.filter(report__in=report_ids))
        # What other apps keep of a report and protect (an incident opened by its support_needed) stays, detached.
        for relation in DailyReport._meta.related_objects:
            if relation.on_delete is models.PROTECT and relation.field.null:
                relation.related_model._base_manager.filter(**{f"{relation.field.name}__in": report_ids}).update(
                    **{relation.field.name: None}
                )
        # Their quality warnings and approvals go with them (CASCADE); only the reports are counted.
        _total, by_model = models.QuerySet.delete(DailyReport.objects.filter(pk__in=report_ids))
        deleted = by_model.get(DailyReport._meta.label, 0)
        with connection.cursor() as cursor:  # an outer transaction would keep it until its end
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    return deleted
