"""Rollup tables (imported by reports/models.py). Written only by reports/rollups.py, read by dashboards."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from reports.figures import INTEGER_FIELDS


class RollupFigures(models.Model):
    """Sums of the integer figures of §5 (64-bit: a national sum can pass 2^31), plus completeness."""

    received_online = models.BigIntegerField(default=0)
    received_direct = models.BigIntegerField(default=0)
    received_postal = models.BigIntegerField(default=0)
    received_fully_online = models.BigIntegerField(default=0)
    resolved_early = models.BigIntegerField(default=0)
    resolved_on_time = models.BigIntegerField(default=0)
    resolved_late = models.BigIntegerField(default=0)
    returned = models.BigIntegerField(default=0)
    pending_within_deadline = models.BigIntegerField(default=0)
    pending_overdue = models.BigIntegerField(default=0)
    online_payments = models.BigIntegerField(default=0)
    digitized_dossiers = models.BigIntegerField(default=0)
    e_results_issued = models.BigIntegerField(default=0)
    staff_assigned = models.BigIntegerField(default=0)
    staff_present = models.BigIntegerField(default=0)
    staff_with_digital_signature = models.BigIntegerField(default=0)
    documents_issued = models.BigIntegerField(default=0)
    documents_e_signed = models.BigIntegerField(default=0)
    outage_minutes = models.BigIntegerField(default=0)

    # Completeness. A locality is a commune or a province itself (the province's own report).
    localities_expected = models.IntegerField(default=0)
    localities_received = models.IntegerField(default=0)
    localities_late = models.IntegerField(default=0)
    communes_expected = models.IntegerField(default=0)
    communes_received = models.IntegerField(default=0)
    communes_late = models.IntegerField(default=0)
    support_needed = models.IntegerField(default=0)
    built_at = models.DateTimeField()

    class Meta:
        abstract = True


assert [f.name for f in RollupFigures._meta.fields][: len(INTEGER_FIELDS)] == INTEGER_FIELDS


class ProvinceDayRollup(RollupFigures):
    """One province's figures for one day: its communes' reports plus its own report."""

    province = models.ForeignKey("localities.Province", on_delete=models.CASCADE, related_name="+")
    date = models.DateField()

    class Meta:
        ordering = ["date", "province"]
        verbose_name = _("province/day rollup")
        verbose_name_plural = _("province/day rollups")
        constraints = [
            models.UniqueConstraint(fields=["province", "date"], name="province_day_rollup_uniq"),
        ]
        indexes = [
            # Dashboards read one day across provinces, or one province over a period.
            models.Index(fields=["date", "province"], name="pdr_date_province_idx"),
        ]

    def __str__(self):
        return f"{self.province_id} {self.date}"


class NationDayRollup(RollupFigures):
    """The nation's figures for one day: the sum of the province/day rollups."""

    date = models.DateField(unique=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("nation/day rollup")
        verbose_name_plural = _("nation/day rollups")

    def __str__(self):
        return str(self.date)


class RollupRequest(models.Model):
    """A (province, day) whose rollup must be rebuilt: written in the same transaction as the report that
    changed it, deleted by the rebuild. If the broker is down when the job is enqueued, the row stays and the
    catch-up job rebuilds it later, so no accepted report is left out of the dashboards."""

    province = models.ForeignKey("localities.Province", on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    requested_at = models.DateTimeField()

    class Meta:
        ordering = ["requested_at"]
        verbose_name = _("pending rollup")
        verbose_name_plural = _("pending rollups")
        constraints = [
            models.UniqueConstraint(fields=["province", "date"], name="rollup_request_province_date_uniq"),
        ]

    def __str__(self):
        return f"{self.province_id} {self.date}"
