"""What the dashboards read: province/day and nation/day rollups of the daily reports, task snapshots, the
alarms of the nightly verification, and the snapshot outbox.

The tables were created by the reports app and keep their names (`db_table`): the models moved here with
migrations that change Django's state only (dashboards/migrations/0001_initial.py), so no row was copied.
Rows are rebuilt, never edited: rollups by dashboards.rollups (province/day, nation/day), task snapshots by
dashboards.snapshots; the benchmark and the verification read them too.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from core.models import AppendOnlyModel, AppendOnlyQuerySet
from localities.models import SLOT_WORDS
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
    # Reports with the province's approval in force (DESIGN.md §11): the coverage lines' "· N approved".
    localities_approved = models.IntegerField(default=0, db_default=0)
    # Sums of the integer indicators of a later form version that are no series of the default form
    # ({series: sum}; reports.formspec): summed per key in SQL by the rebuild, empty when there are none.
    extra = models.JSONField(default=dict, db_default={}, blank=True)
    built_at = models.DateTimeField()

    class Meta:
        abstract = True


assert [f.name for f in RollupFigures._meta.fields][: len(INTEGER_FIELDS)] == INTEGER_FIELDS


class ProvinceDayRollup(RollupFigures):
    """One province's figures for one day: its communes' reports plus its own report."""

    province = models.ForeignKey("localities.Province", on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    # Which communes reported: bit (slot % 62) of word (slot // 62), by localities.Commune.slot, in the columns
    # reported_0 … reported_{SLOT_WORDS - 1} (added below the class). The dashboards list who has not reported
    # from these, without reading the reports.

    class Meta:
        db_table = "reports_provincedayrollup"
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


for _word in range(SLOT_WORDS):
    ProvinceDayRollup.add_to_class(f"reported_{_word}", models.BigIntegerField(default=0))


class NationDayRollup(RollupFigures):
    """The nation's figures for one day: the sum of the province/day rollups."""

    date = models.DateField(unique=True)

    class Meta:
        db_table = "reports_nationdayrollup"
        ordering = ["date"]
        verbose_name = _("nation/day rollup")
        verbose_name_plural = _("nation/day rollups")

    def __str__(self):
        return str(self.date)


class ApprovedFigures(models.Model):
    """Sums of the figures of the reports that have the province's approval in force (DESIGN.md §11, the
    dashboards' `?data=approved`). Completeness and coverage stay with the rollups of all reports; a missing row
    means no report of that day was approved. Built with the rollups, by dashboards.rollups."""

    built_at = models.DateTimeField()
    # The approved reports' sums of a later form version's own indicators ({series: sum}), as RollupFigures.extra.
    extra = models.JSONField(default=dict, db_default={}, blank=True)

    class Meta:
        abstract = True


# One 64-bit sum per figure of the report form, named like the figure (the figures are data: reports.figures).
for _name in INTEGER_FIELDS:
    ApprovedFigures.add_to_class(_name, models.BigIntegerField(default=0))


class ApprovedProvinceDayRollup(ApprovedFigures):
    """One province's approved figures for one day."""

    province = models.ForeignKey("localities.Province", on_delete=models.CASCADE, related_name="+")
    date = models.DateField()

    class Meta:
        ordering = ["date", "province"]
        verbose_name = _("approved province/day rollup")
        verbose_name_plural = _("approved province/day rollups")
        constraints = [
            models.UniqueConstraint(fields=["province", "date"], name="approved_pdr_uniq"),
        ]
        indexes = [models.Index(fields=["date", "province"], name="approved_pdr_date_idx")]

    def __str__(self):
        return f"{self.province_id} {self.date}"


class ApprovedNationDayRollup(ApprovedFigures):
    """The nation's approved figures for one day: the sum of the approved province/day rows."""

    date = models.DateField(unique=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("approved nation/day rollup")
        verbose_name_plural = _("approved nation/day rollups")

    def __str__(self):
        return str(self.date)


class Dimension(models.TextChoices):
    PHASE = "phase", _("phase")
    GROUP = "group", _("group")
    AGENCY = "agency", _("lead agency")
    PROVINCE = "province", _("province")
    TASK = "task", _("task")
    # One task within one province (key "01:T09"): the province's own assignment of a province-level task,
    # or its communes' assignments of a commune-level task (that province's share of green communes).
    PROVINCE_TASK = "province_task", _("province and task")
    # Inside one phase (key "urgent:3", "urgent:BCA", "urgent:01"): the breakdowns of the phase dashboard.
    PHASE_GROUP = "phase_group", _("phase and group")
    PHASE_AGENCY = "phase_agency", _("phase and lead agency")
    PHASE_PROVINCE = "phase_province", _("phase and province")


# Slices whose status counts classify tasks (each task of the slice by its rolled-up status); the others
# (task, province, province and task) classify assignments.
TASK_SLICES = frozenset(
    {
        Dimension.PHASE,
        Dimension.GROUP,
        Dimension.AGENCY,
        Dimension.PHASE_GROUP,
        Dimension.PHASE_AGENCY,
        Dimension.PHASE_PROVINCE,
    }
)


class TaskSnapshot(models.Model):
    """Task progress as of the end of one day, for one slice: a phase, group, lead agency, province, task,
    a task within a province, or a group, lead agency or province within a phase.

    Status counts (`completed_on_time` … `not_started`) classify the slice's tasks by their rolled-up status
    (TASK_SLICES; within a province, a task's status rolls up that province's own assignments of it), or the
    slice's assignments for the task, province and province-and-task slices. `assignments` and `green` count
    the slice's assignments and the completed ones. `tasks` counts the slice's tasks and `done` weighs them:
    the sum over those tasks of the share of their assignments (in the slice) that are green, so a
    commune-level task counts once, by its share of green communes, not 3,321 times. The forecasts read it.
    """

    date = models.DateField()
    dimension = models.CharField(max_length=15, choices=Dimension.choices)
    key = models.CharField(max_length=40)
    completed_on_time = models.IntegerField(default=0)
    completed_late = models.IntegerField(default=0)
    on_track = models.IntegerField(default=0)
    overdue = models.IntegerField(default=0)
    not_started = models.IntegerField(default=0)
    assignments = models.IntegerField(default=0)
    green = models.IntegerField(default=0)
    # For the province slice: communes of the province green on commune-level tasks, and the total of
    # (commune, commune-level task) pairs — the ratio the national monitoring system compares provinces by.
    commune_green = models.IntegerField(default=0)
    commune_total = models.IntegerField(default=0)
    tasks = models.IntegerField(default=0)
    done = models.FloatField(default=0)
    # For the task and the province-and-task slices: the task's rolled-up display status (there).
    status = models.CharField(max_length=20, blank=True)
    built_at = models.DateTimeField()

    class Meta:
        db_table = "reports_tasksnapshot"
        ordering = ["date", "dimension", "key"]
        verbose_name = _("task snapshot")
        verbose_name_plural = _("task snapshots")
        constraints = [
            models.UniqueConstraint(fields=["date", "dimension", "key"], name="task_snapshot_date_dim_key_uniq"),
        ]
        indexes = [
            # Trend of one slice over time (forecast): WHERE dimension = ? AND key = ? ORDER BY date.
            models.Index(fields=["dimension", "key", "date"], name="snapshot_dim_key_date_idx"),
        ]

    def __str__(self):
        return f"{self.date} {self.dimension}:{self.key}"


class RollupAlarm(models.Model):
    """Stored rollups disagreed with a fresh rebuild (found by the nightly check, then repaired)."""

    created_at = models.DateTimeField(auto_now_add=True)
    date = models.DateField()
    province = models.ForeignKey("localities.Province", null=True, on_delete=models.CASCADE, related_name="+")
    differences = models.JSONField(default=dict)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "reports_rollupalarm"
        ordering = ["-created_at"]
        verbose_name = _("rollup alarm")
        verbose_name_plural = _("rollup alarms")

    def __str__(self):
        return f"{self.date} {self.province_id or 'nation'}"


class SnapshotRequest(models.Model):
    """A day whose task snapshots must be rebuilt: written (after commit) when assignments change, deleted by
    the rebuild, like reports' RollupRequest. Updates arriving while it is pending share one rebuild; if the
    broker is down the row stays and the catch-up rebuilds it."""

    date = models.DateField(unique=True)
    requested_at = models.DateTimeField()

    class Meta:
        ordering = ["requested_at"]
        verbose_name = _("pending task snapshot")
        verbose_name_plural = _("pending task snapshots")

    def __str__(self):
        return str(self.date)


# --- targets ------------------------------------------------------------------------------------------------


class Target(models.Model):
    """One of the plan's measurable targets (DOMAIN.md), as data: what is measured, the value to reach, by when,
    at which level, and how it is measured — computed from the rollups over a stated period (`measure`,
    `period`), or entered by the responsible agency with evidence (TargetValue). Loaded by load_reference
    from fixtures/targets.json; editable in the admin."""

    class Level(models.TextChoices):
        NATIONAL = "national", _("national")
        PROVINCE = "province", _("each province")

    class Method(models.TextChoices):
        COMPUTED = "computed", _("computed from the daily reports")
        ENTERED = "entered", _("entered by the responsible agency")

    class Period(models.TextChoices):
        DAY = "day", _("the day")
        LAST_30_DAYS = "last_30_days", _("the last 30 days")
        SINCE_START = "since_start", _("since 1 July 2025")

    class Comparison(models.TextChoices):
        AT_LEAST = "at_least", "≥"
        AT_MOST = "at_most", "≤"

    code = models.SlugField(_("code"), max_length=40, unique=True)
    title_vi = models.CharField(_("title (Vietnamese)"), max_length=300)
    title_en = models.CharField(_("title (English)"), max_length=300)
    unit = models.CharField(_("unit"), max_length=40, help_text=_("e.g. share, services, procedures"))
    target_value = models.FloatField(_("target value"))
    comparison = models.CharField(_("comparison"), max_length=10, choices=Comparison.choices, default="at_least")
    deadline = models.DateField(_("deadline"))
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    method = models.CharField(_("measured"), max_length=10, choices=Method.choices)
    # Computed targets: a ratio of figures of the daily reports (dashboards.targets.MEASURES) over a period.
    measure = models.CharField(_("measure"), max_length=40, blank=True)
    period = models.CharField(_("period"), max_length=20, choices=Period.choices, blank=True)
    # Entered targets: the agency whose officers enter the measured values.
    agency = models.ForeignKey(
        "tasks.Agency",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="targets",
        verbose_name=_("agency"),
    )
    source = models.CharField(_("source"), max_length=300, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(method="computed", period__gt="") & ~models.Q(measure="")
                | models.Q(method="entered", agency__isnull=False),
                name="target_measured_somehow",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.title}"

    @property
    def title(self):
        return self.title_en if (get_language() or "vi")[:2] == "en" and self.title_en else self.title_vi

    def is_met(self, value: float | None) -> bool | None:
        """None when nothing was measured: a missing measurement is missing, never 0."""
        if value is None:
            return None
        if self.comparison == self.Comparison.AT_MOST:
            return value <= self.target_value + 1e-9
        return value >= self.target_value - 1e-9


class TargetValue(AppendOnlyModel):
    """A measured value of an entered target, with its evidence: append-only, like assignment updates — a
    correction is a new value. The value as of a day is the latest one measured by then and entered before
    the day ended."""

    target = models.ForeignKey(Target, on_delete=models.PROTECT, related_name="values", verbose_name=_("target"))
    province = models.ForeignKey(
        "localities.Province",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("province"),
        help_text=_("for a target of each province; empty for the national value"),
    )
    value = models.FloatField(_("value"))
    measured_on = models.DateField(_("measured on"))
    evidence_url = models.URLField(_("evidence link"), max_length=500, blank=True)
    note = models.TextField(_("note"), blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("entered by")
    )
    entered_at = models.DateTimeField(_("entered at"))

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-entered_at", "-id"]
        verbose_name = _("target value")
        verbose_name_plural = _("target values")
        indexes = [
            # The value as of a day: WHERE target = ? AND entered_at < ? ORDER BY measured_on, entered_at.
            models.Index(fields=["target", "province", "entered_at"], name="target_value_latest_idx"),
        ]

    def __str__(self):
        return f"{self.target_id} {self.province_id or 'nation'} {self.value} ({self.measured_on})"


# --- meetings -----------------------------------------------------------------------------------------------


class MeetingQuerySet(AppendOnlyQuerySet):
    def visible_to(self, scope) -> "MeetingQuerySet":
        """The steering committee's packs: read by steering members, inspectors and the national admin."""
        return self if scope.reads_all else self.none()


class Meeting(AppendOnlyModel):
    """A steering-committee meeting's pack: the state as of `date`, frozen under a title when it was created —
    phases, targets, the province ranking, the overdue, blocked and non-reporting lists (`content`, built by
    dashboards.meetings). What was shown is stored, not recomputed, so a meeting never changes afterwards,
    whatever is corrected later."""

    title = models.CharField(pgettext_lazy("meeting", "title"), max_length=200)
    date = models.DateField(_("as of"))
    content = models.JSONField(_("content"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"))

    objects = MeetingQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-created_at", "-id"]
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")

    def __str__(self):
        return f"{self.title} ({self.date})"


# --- the weekly pack ----------------------------------------------------------------------------------------


class WeeklyPackMailing(models.Model):
    """The steering committee's weekly pack, mailed once per ISO week (dashboards.packs): the row is claimed
    before anything is sent, so a beat that fires twice, or two workers running the job, send it once."""

    class Status(models.TextChoices):
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    iso_year = models.PositiveSmallIntegerField(_("ISO year"))
    iso_week = models.PositiveSmallIntegerField(_("ISO week"))
    as_of = models.DateField(_("as of"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SENDING)
    recipients = models.PositiveIntegerField(_("recipients"), default=0)
    error = models.CharField(_("error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-iso_year", "-iso_week"]
        verbose_name = _("weekly pack mailing")
        verbose_name_plural = _("weekly pack mailings")
        constraints = [models.UniqueConstraint(fields=["iso_year", "iso_week"], name="weekly_pack_once")]

    def __str__(self):
        return f"{self.iso_year}-W{self.iso_week:02d} ({self.status})"
