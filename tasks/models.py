"""Plan 02's catalogue (groups, phases, agencies, tasks), who carries each task out (assignments), the
append-only history of their changes, and memberships that give users a role and a unit."""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def _localized(obj, field):
    """The English variant of a *_vi/*_en pair when the active language is English, else Vietnamese."""
    lang = (get_language() or "vi")[:2]
    value = getattr(obj, f"{field}_{lang}", "") if lang == "en" else ""
    return value or getattr(obj, f"{field}_vi")


class TaskGroup(models.Model):
    """One of the eight groups of tasks; six of them are the plan's pillars."""

    number = models.PositiveSmallIntegerField(_("number"), unique=True)
    name_vi = models.CharField(_("name (Vietnamese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    is_pillar = models.BooleanField(_("is a pillar"), default=False)

    class Meta:
        ordering = ["number"]
        verbose_name = _("task group")
        verbose_name_plural = _("task groups")

    def __str__(self):
        return f"{self.number}. {self.name}"

    @property
    def name(self):
        return _localized(self, "name")


class Phase(models.Model):
    """A phase of the plan with its hard deadline. Phases are data: the committee can add later ones."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name_vi = models.CharField(_("name (Vietnamese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    starts_on = models.DateField(_("starts on"))
    deadline = models.DateField(_("deadline"))

    class Meta:
        ordering = ["deadline", "code"]
        verbose_name = _("phase")
        verbose_name_plural = _("phases")
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_on__lte=models.F("deadline")), name="phase_starts_before_deadline"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def name(self):
        return _localized(self, "name")


class Agency(models.Model):
    """A central agency that presides over or coordinates tasks."""

    class Kind(models.TextChoices):
        PARTY = "party", _("Party body")
        GOVERNMENT = "government", _("Government body")
        MINISTRY = "ministry", _("Ministry")
        NATIONAL_ASSEMBLY = "national_assembly", _("National Assembly body")
        FRONT = "front", _("Fatherland Front and mass organisations")
        JUDICIARY = "judiciary", _("Court or procuracy")

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name_vi = models.CharField(_("name (Vietnamese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=30, blank=True)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)

    class Meta:
        ordering = ["code"]
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")

    def __str__(self):
        return self.name

    @property
    def name(self):
        return _localized(self, "name")


class Level(models.TextChoices):
    CENTRAL = "central", _("central agencies")
    PROVINCE = "province", _("every province")
    COMMUNE = "commune", _("every commune")


class Task(models.Model):
    """One of the plan's 67 tasks. `code` is the stable key used by the catalogue import."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    title_vi = models.CharField(_("title (Vietnamese)"), max_length=500)
    title_en = models.CharField(_("title (English)"), max_length=500)
    description = models.TextField(_("description"), blank=True)
    group = models.ForeignKey(TaskGroup, on_delete=models.PROTECT, related_name="tasks", verbose_name=_("group"))
    phase = models.ForeignKey(Phase, on_delete=models.PROTECT, related_name="tasks", verbose_name=_("phase"))
    deadline = models.DateField(_("deadline"))
    level = models.CharField(_("carried out by"), max_length=10, choices=Level.choices)
    lead_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="led_tasks", verbose_name=_("lead agency")
    )
    coordinating_agencies = models.ManyToManyField(
        Agency, blank=True, related_name="coordinated_tasks", verbose_name=_("coordinating agencies")
    )
    expected_product = models.TextField(_("expected product"), blank=True)
    is_official = models.BooleanField(_("official"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            # Phase-deadline dashboards group tasks by phase and group.
            models.Index(fields=["phase", "group"], name="task_phase_group_idx"),
        ]

    def __str__(self):
        return f"{self.code} {self.title}"

    @property
    def title(self):
        return _localized(self, "title")


class AssignmentStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("not started")
    IN_PROGRESS = "in_progress", _("in progress")
    BLOCKED = "blocked", _("blocked")
    COMPLETED = "completed", _("completed")


class DisplayStatus(models.TextChoices):
    """Derived from status, deadline, completion date and today; never stored."""

    COMPLETED_ON_TIME = "completed_on_time", _("completed on time")
    COMPLETED_LATE = "completed_late", _("completed late")
    ON_TRACK = "on_track", _("on track")
    OVERDUE = "overdue", _("overdue")
    NOT_STARTED = "not_started", _("not started")


DISPLAY_COLOURS = {
    DisplayStatus.COMPLETED_ON_TIME: "green",
    DisplayStatus.COMPLETED_LATE: "green",
    DisplayStatus.ON_TRACK: "amber",
    DisplayStatus.NOT_STARTED: "amber",
    DisplayStatus.OVERDUE: "red",
}


def display_status(*, status, deadline, completed_on, today: datetime.date, progress=0):
    """Python twin of AssignmentQuerySet.with_display_status(); keep the two in step."""
    if status == AssignmentStatus.COMPLETED:
        if completed_on and completed_on > deadline:
            return DisplayStatus.COMPLETED_LATE
        return DisplayStatus.COMPLETED_ON_TIME
    if today > deadline:
        return DisplayStatus.OVERDUE
    if status == AssignmentStatus.NOT_STARTED and not progress:
        return DisplayStatus.NOT_STARTED
    return DisplayStatus.ON_TRACK


class AssignmentQuerySet(models.QuerySet):
    def with_display_status(self, today: datetime.date):
        """Annotate `display_status` in SQL so lists can filter, sort and count by it."""
        deadline = models.F("task__deadline")
        return self.annotate(
            display_status=models.Case(
                models.When(
                    status=AssignmentStatus.COMPLETED,
                    completed_on__gt=deadline,
                    then=models.Value(DisplayStatus.COMPLETED_LATE.value),
                ),
                models.When(
                    status=AssignmentStatus.COMPLETED, then=models.Value(DisplayStatus.COMPLETED_ON_TIME.value)
                ),
                models.When(task__deadline__lt=today, then=models.Value(DisplayStatus.OVERDUE.value)),
                models.When(
                    status=AssignmentStatus.NOT_STARTED,
                    progress=0,
                    then=models.Value(DisplayStatus.NOT_STARTED.value),
                ),
                default=models.Value(DisplayStatus.ON_TRACK.value),
                output_field=models.CharField(),
            )
        )


class Assignment(models.Model):
    """A task × the unit responsible for it: a central agency, a province, or a commune.

    For a commune assignment `province` holds the commune's province, so "share of a province's communes
    that are green" is a GROUP BY on one table.
    """

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("task"))
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("agency")
    )
    province = models.ForeignKey(
        "localities.Province",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assignments",
        verbose_name=_("province"),
    )
    commune = models.ForeignKey(
        "localities.Commune",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assignments",
        verbose_name=_("commune"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=AssignmentStatus.choices, default=AssignmentStatus.NOT_STARTED
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    blocked_by = models.ForeignKey(
        Agency,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="blocking_assignments",
        verbose_name=_("blocked by"),
    )
    blocked_reason = models.TextField(_("blocked reason"), blank=True)
    # Optimistic concurrency: every accepted change bumps it; a write carrying an older value is refused.
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_at = models.DateTimeField(_("updated at"), null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("updated by"),
    )

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["task__code", "level", "agency__code", "province_id", "commune_id"]
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(level="central", agency__isnull=False, province__isnull=True, commune__isnull=True)
                    | Q(level="province", agency__isnull=True, province__isnull=False, commune__isnull=True)
                    | Q(level="commune", agency__isnull=True, province__isnull=False, commune__isnull=False)
                ),
                name="assignment_unit_matches_level",
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="assignment_progress_le_100"),
            models.CheckConstraint(
                condition=~Q(status="completed") | Q(progress=100, completed_on__isnull=False),
                name="assignment_completed_has_date_and_100",
            ),
            models.UniqueConstraint(
                fields=["task", "agency"], condition=Q(level="central"), name="assignment_task_agency_uniq"
            ),
            models.UniqueConstraint(
                fields=["task", "province"], condition=Q(level="province"), name="assignment_task_province_uniq"
            ),
            models.UniqueConstraint(
                fields=["task", "commune"], condition=Q(level="commune"), name="assignment_task_commune_uniq"
            ),
        ]
        indexes = [
            # Province pages and "share of communes green by province": WHERE task = ? GROUP BY province, status.
            models.Index(fields=["task", "province", "status"], name="asg_task_prov_status_idx"),
            # "My tasks" of a commune clerk or a province officer.
            models.Index(fields=["commune", "task"], name="asg_commune_task_idx"),
            models.Index(fields=["province", "level"], name="asg_province_level_idx"),
        ]

    def __str__(self):
        return f"{self.task.code} · {self.unit}"

    @property
    def unit(self):
        return self.agency or self.commune or self.province

    def get_display_status(self, today=None):
        from django.utils import timezone

        if hasattr(self, "display_status"):
            return self.display_status
        return display_status(
            status=self.status,
            deadline=self.task.deadline,
            completed_on=self.completed_on,
            today=today or timezone.localdate(),
            progress=self.progress,
        )


def evidence_upload_to(instance, filename):
    return f"evidence/{instance.assignment.task_id}/{instance.assignment_id}/{filename}"


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete a history row."""


class StatusUpdateQuerySet(models.QuerySet):
    """History is append-only: bulk changes and deletes are refused like single ones (on PostgreSQL a trigger
    of migration 0002 also refuses them for any SQL client)."""

    def update(self, **kwargs):
        raise AppendOnlyError("status updates are append-only: they cannot be changed")

    def delete(self):
        raise AppendOnlyError("status updates are append-only: they cannot be deleted")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("status updates are append-only: they cannot be changed")


class StatusUpdate(models.Model):
    """Append-only history of an assignment: one row per accepted change, written in the same transaction."""

    assignment = models.ForeignKey(
        Assignment, on_delete=models.PROTECT, related_name="updates", verbose_name=_("assignment")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="status_updates", verbose_name=_("actor")
    )
    created_at = models.DateTimeField(_("time"), db_index=True)
    old_status = models.CharField(_("old status"), max_length=20, choices=AssignmentStatus.choices)
    new_status = models.CharField(_("new status"), max_length=20, choices=AssignmentStatus.choices)
    old_progress = models.PositiveSmallIntegerField(_("old progress"))
    new_progress = models.PositiveSmallIntegerField(_("new progress"))
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    blocked_by = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("blocked by")
    )
    blocked_reason = models.TextField(_("blocked reason"), blank=True)
    note = models.TextField(_("note"), blank=True)
    evidence_url = models.URLField(_("evidence link"), max_length=500, blank=True)
    evidence_file = models.FileField(_("evidence file"), upload_to=evidence_upload_to, blank=True, max_length=300)
    # A province officer updating a commune's assignment for it.
    on_behalf = models.BooleanField(_("on the unit's behalf"), default=False)
    version = models.PositiveIntegerField(_("version after the change"))

    objects = StatusUpdateQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("status update")
        verbose_name_plural = _("status updates")
        constraints = [
            models.UniqueConstraint(fields=["assignment", "version"], name="status_update_assignment_version_uniq"),
        ]

    def __str__(self):
        return f"{self.assignment_id}: {self.old_status} → {self.new_status} ({self.created_at:%Y-%m-%d %H:%M})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("status updates are append-only: they cannot be changed")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("status updates are append-only: they cannot be deleted")


class Role(models.TextChoices):
    ADMIN = "admin", _("national admin")
    STEERING = "steering", _("steering committee")
    INSPECTOR = "inspector", _("inspector")
    AGENCY_OFFICER = "agency_officer", _("agency officer")
    PROVINCE_OFFICER = "province_officer", _("province officer")
    COMMUNE_CLERK = "commune_clerk", _("commune clerk")


class Membership(models.Model):
    """Ties a user to a role and, for officers and clerks, to their unit. One per user."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="members", verbose_name=_("agency")
    )
    province = models.ForeignKey(
        "localities.Province",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
        verbose_name=_("province"),
    )
    commune = models.ForeignKey(
        "localities.Commune",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
        verbose_name=_("commune"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["user__username"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        role__in=["admin", "steering", "inspector"],
                        agency__isnull=True,
                        province__isnull=True,
                        commune__isnull=True,
                    )
                    | Q(role="agency_officer", agency__isnull=False, province__isnull=True, commune__isnull=True)
                    | Q(role="province_officer", agency__isnull=True, province__isnull=False, commune__isnull=True)
                    | Q(role="commune_clerk", agency__isnull=True, province__isnull=True, commune__isnull=False)
                ),
                name="membership_unit_matches_role",
            ),
        ]

    def __str__(self):
        unit = self.agency or self.province or self.commune
        return f"{self.user} · {self.get_role_display()}" + (f" · {unit}" if unit else "")


class CatalogueImport(models.Model):
    """Audit row of an applied catalogue import: who, when, which file, what changed."""

    imported_by = models.CharField(_("imported by"), max_length=150)
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    filename = models.CharField(_("file"), max_length=300)
    checksum = models.CharField(_("checksum"), max_length=64)
    created = models.PositiveIntegerField(_("created"))
    updated = models.PositiveIntegerField(_("updated"))
    unchanged = models.PositiveIntegerField(_("unchanged"))

    class Meta:
        ordering = ["-imported_at"]
        verbose_name = _("catalogue import")
        verbose_name_plural = _("catalogue imports")

    def __str__(self):
        return f"{self.filename} ({self.imported_at:%Y-%m-%d %H:%M})"
