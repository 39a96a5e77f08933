"""Plan 02's catalogue (groups, phases, agencies, tasks), who carries each task out (assignments), the
append-only history of their changes, and memberships that give users a role and a unit."""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.dates import end_of_day
from core.models import AppendOnlyModel, AppendOnlyQuerySet, ImportRecord
from core.systems import SYSTEMS
from tasks.roles import Role, Scope
from tasks.status import (  # noqa: F401 - the status vocabulary is part of the models' interface
    CURRENT,
    DISPLAY_COLOURS,
    AssignmentStatus,
    DisplayStatus,
    StateFields,
    display_status,
    display_status_sql,
)


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


class AgencyQuerySet(models.QuerySet):
    def followed_by(self, scope: Scope) -> "AgencyQuerySet":
        """The agencies whose task pages a scope follows: every one for read-all roles, an officer's own."""
        if scope.reads_all:
            return self
        if scope.is_agency:
            return self.filter(pk=scope.agency_id)
        return self.none()


class Agency(models.Model):
    """A central body of the political system that presides over or coordinates tasks: the Party's commissions
    and offices, the National Assembly's bodies, the Government's, the ministries and ministry-level agencies,
    the Fatherland Front, the Supreme Court and Procuracy. `source` names the public document its name comes
    from; "demo" marks a name the reference data could not source (like the demo catalogue)."""

    # The value of `source` for a name no document in DOMAIN.md vouches for.
    DEMO_SOURCE = "demo"

    class Kind(models.TextChoices):
        PARTY = "party", _("Party body")
        GOVERNMENT = "government", _("Government body")
        MINISTRY = "ministry", _("Ministry")
        MINISTRY_LEVEL = "ministry_level", _("Ministry-level agency")
        NATIONAL_ASSEMBLY = "national_assembly", _("National Assembly body")
        FRONT = "front", _("Fatherland Front and mass organisations")
        JUDICIARY = "judiciary", _("Court or procuracy")

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name_vi = models.CharField(_("name (Vietnamese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=30, blank=True)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    source = models.CharField(
        _("source of the name"),
        max_length=200,
        default=DEMO_SOURCE,
        help_text=_('The public document the name comes from; "demo" when none could be found.'),
    )

    objects = AgencyQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")

    def __str__(self):
        return self.name

    @property
    def name(self):
        return _localized(self, "name")

    @property
    def is_demo(self) -> bool:
        return self.source == self.DEMO_SOURCE


class Vendor(models.Model):
    """A solution provider the work may wait on (DESIGN.md §13). It has no portal users: it is told of what it
    blocks through its contacts (alerts.models.Contact.vendor)."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        ordering = ["code"]
        verbose_name = _("vendor")
        verbose_name_plural = _("vendors")

    def __str__(self):
        return self.name


class Level(models.TextChoices):
    """The kind of unit an assignment belongs to."""

    CENTRAL = "central", _("central agencies")
    PROVINCE = "province", _("every province")
    COMMUNE = "commune", _("every commune")


class TaskLevel(models.TextChoices):
    """Who carries a task out. An `all_ministries` task has one (central) assignment per ministry and
    ministry-level agency (ALL_MINISTRIES_KINDS), besides its lead and coordinating agencies."""

    CENTRAL = "central", _("central agencies")
    ALL_MINISTRIES = "all_ministries", _("every ministry")
    PROVINCE = "province", _("every province")
    COMMUNE = "commune", _("every commune")


ALL_MINISTRIES_KINDS = (Agency.Kind.MINISTRY, Agency.Kind.MINISTRY_LEVEL)


class Task(models.Model):
    """One of the plan's 67 tasks. `code` is the stable key used by the catalogue import."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    title_vi = models.CharField(_("title (Vietnamese)"), max_length=500)
    title_en = models.CharField(_("title (English)"), max_length=500)
    description = models.TextField(_("description"), blank=True)
    group = models.ForeignKey(TaskGroup, on_delete=models.PROTECT, related_name="tasks", verbose_name=_("group"))
    phase = models.ForeignKey(Phase, on_delete=models.PROTECT, related_name="tasks", verbose_name=_("phase"))
    deadline = models.DateField(_("deadline"))
    level = models.CharField(_("carried out by"), max_length=20, choices=TaskLevel.choices)
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


# The fields that name what an item waits on, and the kind each names (one at most is set).
BLOCKER_FIELDS = {
    "blocked_by": "agency",
    "blocked_by_province": "province",
    "blocked_by_vendor": "vendor",
    "blocked_by_system": "system",
}
# The database's check of it, for each concrete workflow item.
ONE_BLOCKER = (
    Q(blocked_by__isnull=True, blocked_by_province__isnull=True, blocked_by_vendor__isnull=True)
    | Q(
        blocked_by__isnull=False, blocked_by_province__isnull=True, blocked_by_vendor__isnull=True, blocked_by_system=""
    )
    | Q(
        blocked_by__isnull=True, blocked_by_province__isnull=False, blocked_by_vendor__isnull=True, blocked_by_system=""
    )
    | Q(
        blocked_by__isnull=True, blocked_by_province__isnull=True, blocked_by_vendor__isnull=False, blocked_by_system=""
    )
)


def blocker_of(item) -> dict | None:
    """{"kind", "code", "name"} of what an item (or a history row) waits on; None when nothing. Reads the
    related rows: select them with the item."""
    if item.blocked_by_id:
        return {"kind": "agency", "code": item.blocked_by.code, "name": item.blocked_by.name}
    if item.blocked_by_province_id:
        return {"kind": "province", "code": item.blocked_by_province_id, "name": item.blocked_by_province.name}
    if item.blocked_by_vendor_id:
        return {"kind": "vendor", "code": item.blocked_by_vendor.code, "name": item.blocked_by_vendor.name}
    if item.blocked_by_system:
        return {"kind": "system", "code": item.blocked_by_system, "name": str(item.get_blocked_by_system_display())}
    return None


def blocker_codes(item) -> dict[str, str | None]:
    """Each blocker field of an item (or a history row) with the code it names, None for the empty ones: what
    the version diffs (409) and the bulk round trip compare, field by field."""
    blocker = blocker_of(item) or {}
    return {field: blocker["code"] if blocker.get("kind") == kind else None for field, kind in BLOCKER_FIELDS.items()}


class Blockable(models.Model):
    """What a workflow item, and each row of its history, says it waits on: at most one of an agency, a province,
    a vendor or a system (BLOCKER_FIELDS; each concrete model checks it with ONE_BLOCKER), and why. One
    definition for the items (WorkflowState) and their history (WorkflowHistory)."""

    blocked_by = models.ForeignKey(
        "tasks.Agency",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("blocked by"),
    )
    # Besides an agency (blocked_by), the work may wait on a province, a vendor or a system: one of the four.
    blocked_by_province = models.ForeignKey(
        "localities.Province",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("blocked by (province)"),
    )
    blocked_by_vendor = models.ForeignKey(
        "tasks.Vendor",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("blocked by (vendor)"),
    )
    blocked_by_system = models.CharField(_("blocked by (system)"), max_length=40, blank=True, choices=SYSTEMS)
    blocked_reason = models.TextField(_("blocked reason"), blank=True)

    class Meta:
        abstract = True

    @property
    def blocked_by_code(self) -> str | None:
        """The blocking agency's code (no query when there is none)."""
        return getattr(self.blocked_by, "code", None) if self.blocked_by_id else None

    @property
    def blocker(self) -> dict | None:
        return blocker_of(self)


def blocking_q(scope: Scope) -> Q | None:
    """The workflow items that name the scope's own agency or province as their blocker: the party told of a
    block sees what it blocks (DESIGN.md §8), as it is told; it changes nothing. None for other scopes."""
    if scope.is_agency:
        return Q(blocked_by_id=scope.agency_id)
    if scope.is_province:
        return Q(blocked_by_province_id=scope.province_id)
    return None


class WorkflowState(Blockable):
    """The state every workflow item carries (assignments, sub-tasks of local plans, inspections' follow-up
    items): status, progress, completion, blocker, and the version for optimistic concurrency. Changed only
    by tasks.services.workflow_update(), which writes the item's history row (a WorkflowHistory) with it."""

    status = models.CharField(
        _("status"), max_length=20, choices=AssignmentStatus.choices, default=AssignmentStatus.NOT_STARTED
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
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

    class Meta:
        abstract = True


class AssignmentQuerySet(models.QuerySet):
    """Who may see and change which assignments (DESIGN.md §3), and the derived display status."""

    def with_display_status(self, today: datetime.date, *, fields: StateFields = CURRENT) -> "AssignmentQuerySet":
        """Annotate `display_status` in SQL (tasks.status) so lists can filter, sort and count by it; with
        `fields=AS_OF`, of the state annotated by as_of()."""
        return self.annotate(display_status=display_status_sql(today, fields=fields))

    def as_of(self, day: datetime.date) -> "AssignmentQuerySet":
        """Annotate the state each assignment had at the end of `day`, replayed from its append-only history
        (the latest StatusUpdate before the midnight that ends the day; not started when there is none):
        status_at, progress_at, completed_on_at, blocked_by_at (agency id), blocked_by_province_at,
        blocked_by_vendor_at, blocked_by_system_at, blocked_reason_at, version_at,
        updated_at_at and updated_by_at (user id). The names are tasks.status.AS_OF's."""
        latest = StatusUpdate.objects.filter(assignment=OuterRef("pk"), created_at__lt=end_of_day(day)).order_by(
            "-version"
        )

        def last(field):
            return Subquery(latest.values(field)[:1])

        return self.annotate(
            status_at=Coalesce(last("new_status"), Value(AssignmentStatus.NOT_STARTED.value)),
            progress_at=Coalesce(last("new_progress"), Value(0)),
            completed_on_at=last("completed_on"),
            blocked_by_at=last("blocked_by"),
            blocked_by_province_at=last("blocked_by_province"),
            blocked_by_vendor_at=last("blocked_by_vendor"),
            blocked_by_system_at=Coalesce(last("blocked_by_system"), Value(""), output_field=models.CharField()),
            blocked_reason_at=Coalesce(last("blocked_reason"), Value(""), output_field=models.TextField()),
            version_at=Coalesce(last("version"), Value(1)),
            updated_at_at=last("created_at"),
            updated_by_at=last("actor"),
        )

    def visible_to(self, scope: Scope) -> "AssignmentQuerySet":
        """Everything for read-all roles; for an agency officer its own assignments, those of the tasks it
        leads or coordinates, and those it is named as blocking (its head answers for the blocker); a
        province's and its communes', and those it is named as blocking; a commune's own."""
        if scope.reads_all:
            return self
        if scope.is_agency:
            coordinated = Task.objects.filter(coordinating_agencies=scope.agency_id).values("pk")
            return self.filter(
                Q(agency_id=scope.agency_id)
                | Q(task__lead_agency_id=scope.agency_id)
                | Q(task__in=coordinated)
                | Q(blocked_by_id=scope.agency_id)
            )
        if scope.is_province:
            # Its own and its communes' (both carry the province), and those it is named as blocking.
            return self.filter(Q(province_id=scope.province_id) | Q(blocked_by_province_id=scope.province_id))
        if scope.is_commune:
            return self.filter(commune_id=scope.commune_id)
        return self.none()

    def updatable_q(self, scope: Scope) -> Q | None:
        """The rule of updatable_by() as a Q, so a list can annotate "may update" per row in SQL. None when
        the scope may change nothing (read-only roles and API keys)."""
        if scope.is_api_client:
            return None
        if scope.is_agency:
            return Q(agency_id=scope.agency_id)
        if scope.is_province:
            return Q(province_id=scope.province_id)
        if scope.is_commune:
            return Q(commune_id=scope.commune_id)
        return None

    def updatable_by(self, scope: Scope) -> "AssignmentQuerySet":
        """Its own unit's; a province officer also its communes' (on their behalf)."""
        condition = self.updatable_q(scope)
        return self.none() if condition is None else self.filter(condition)


class Assignment(WorkflowState):
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
    blocked_by = models.ForeignKey(
        Agency,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="blocking_assignments",
        verbose_name=_("blocked by"),
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
            models.CheckConstraint(condition=ONE_BLOCKER, name="assignment_one_blocker"),
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

    def get_display_status(self, today: datetime.date | None = None) -> str:
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
    """Where a history row's evidence file is stored: each history model says (evidence_path)."""
    return instance.evidence_path(filename)


class WorkflowHistory(AppendOnlyModel, Blockable):
    """Append-only history of a workflow item (WorkflowState): one row per accepted change, written in the
    same transaction as the change by tasks.services.workflow_update(). Each concrete model adds the link to
    its item (named by ITEM_FIELD) and the actor."""

    ITEM_FIELD = ""

    created_at = models.DateTimeField(_("time"), db_index=True)
    old_status = models.CharField(_("old status"), max_length=20, choices=AssignmentStatus.choices)
    new_status = models.CharField(_("new status"), max_length=20, choices=AssignmentStatus.choices)
    old_progress = models.PositiveSmallIntegerField(_("old progress"))
    new_progress = models.PositiveSmallIntegerField(_("new progress"))
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    evidence_url = models.URLField(_("evidence link"), max_length=500, blank=True)
    evidence_file = models.FileField(_("evidence file"), upload_to=evidence_upload_to, blank=True, max_length=300)
    # A province officer updating a commune's item for it.
    on_behalf = models.BooleanField(_("on the unit's behalf"), default=False)
    version = models.PositiveIntegerField(_("version after the change"))

    # Bulk changes and deletes are refused like single ones.
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def item_id(self) -> int:
        return getattr(self, f"{self.ITEM_FIELD}_id")

    def evidence_path(self, filename: str) -> str:
        return f"evidence/{self.ITEM_FIELD}s/{self.item_id}/{filename}"


class StatusUpdate(WorkflowHistory):
    """Append-only history of an assignment: one row per accepted change, written in the same transaction."""

    ITEM_FIELD = "assignment"

    assignment = models.ForeignKey(
        Assignment, on_delete=models.PROTECT, related_name="updates", verbose_name=_("assignment")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="status_updates", verbose_name=_("actor")
    )

    # On PostgreSQL a trigger of migration 0002 also refuses changes and deletes for any SQL client.
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("status update")
        verbose_name_plural = _("status updates")
        constraints = [
            models.UniqueConstraint(fields=["assignment", "version"], name="status_update_assignment_version_uniq"),
        ]

    def __str__(self):
        return f"{self.assignment_id}: {self.old_status} → {self.new_status} ({self.created_at:%Y-%m-%d %H:%M})"

    def evidence_path(self, filename: str) -> str:
        return f"evidence/{self.assignment.task_id}/{self.assignment_id}/{filename}"


# --- local plans and their sub-tasks (DESIGN.md §13) -------------------------------------------------------


def plan_document_upload_to(instance, filename):
    return f"plans/{instance.unit_code}/{filename}"


class LocalPlanQuerySet(models.QuerySet):
    def visible_to(self, scope: Scope) -> "LocalPlanQuerySet":
        """Everything for read-all roles; an agency its own plans and those with sub-tasks of the assignments it
        follows (the tasks it leads or coordinates); a province its own; a commune the plans that give it a
        sub-task."""
        if scope.reads_all:
            return self
        if scope.is_agency:
            followed = SubTask.objects.filter(parent__in=Assignment.objects.visible_to(scope).values("pk"))
            return self.filter(Q(agency_id=scope.agency_id) | Q(pk__in=followed.values("plan_id")))
        if scope.is_province:
            return self.filter(province_id=scope.province_id)
        if scope.is_commune:
            return self.filter(pk__in=SubTask.objects.filter(commune_id=scope.commune_id).values("plan_id"))
        return self.none()

    def editable_by(self, scope: Scope) -> "LocalPlanQuerySet":
        """A province officer edits its province's plans, an agency officer its agency's; nobody else (keys
        neither)."""
        if scope.is_api_client:
            return self.none()
        if scope.is_agency:
            return self.filter(agency_id=scope.agency_id)
        if scope.is_province:
            return self.filter(province_id=scope.province_id)
        return self.none()


class LocalPlan(models.Model):
    """A province's or a central agency's own implementation plan of Plan 02 (e.g. Huế's Plan 98)."""

    province = models.ForeignKey(
        "localities.Province",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="local_plans",
        verbose_name=_("province"),
    )
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="local_plans", verbose_name=_("agency")
    )
    number = models.CharField(_("number"), max_length=50)
    issued_on = models.DateField(_("date"))
    title = models.CharField(_("title"), max_length=500)
    document = models.FileField(_("document"), upload_to=plan_document_upload_to, blank=True, max_length=300)
    document_url = models.URLField(_("document link"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = LocalPlanQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_on", "pk"]
        verbose_name = _("local plan")
        verbose_name_plural = _("local plans")
        constraints = [
            models.CheckConstraint(
                condition=Q(province__isnull=False, agency__isnull=True)
                | Q(province__isnull=True, agency__isnull=False),
                name="local_plan_one_unit",
            ),
            models.UniqueConstraint(fields=["province", "number"], name="local_plan_province_number_uniq"),
            models.UniqueConstraint(fields=["agency", "number"], name="local_plan_agency_number_uniq"),
        ]

    def __str__(self):
        return f"{self.number} · {self.title}"

    @property
    def unit(self):
        return self.agency or self.province

    @property
    def unit_code(self) -> str:
        return self.province_id or (self.agency.code if self.agency_id else "")


class SubTaskQuerySet(models.QuerySet):
    def with_display_status(self, today: datetime.date) -> "SubTaskQuerySet":
        return self.annotate(display_status=display_status_sql(today, deadline="deadline"))

    def visible_to(self, scope: Scope) -> "SubTaskQuerySet":
        """Whoever sees the parent assignment sees its sub-tasks (the province or agency, and everyone above:
        read-all roles, the agency that leads or coordinates the task); a commune clerk its commune's own; an
        agency or a province those it is named as blocking (blocking_q)."""
        if scope.reads_all:
            return self
        condition = Q(parent__in=Assignment.objects.visible_to(scope).values("pk"))
        if scope.is_commune:
            condition = Q(commune_id=scope.commune_id)
        blocking = blocking_q(scope)
        return self.filter(condition if blocking is None else condition | blocking)

    def updatable_q(self, scope: Scope) -> Q | None:
        """The province or agency updates its own plans' sub-tasks (a commune's on its behalf), a commune
        clerk its commune's; read-only roles and API keys nothing."""
        if scope.is_api_client:
            return None
        if scope.is_agency:
            return Q(plan__agency_id=scope.agency_id)
        if scope.is_province:
            return Q(plan__province_id=scope.province_id)
        if scope.is_commune:
            return Q(commune_id=scope.commune_id)
        return None

    def updatable_by(self, scope: Scope) -> "SubTaskQuerySet":
        condition = self.updatable_q(scope)
        return self.none() if condition is None else self.filter(condition)


class SubTask(WorkflowState):
    """A part of a Plan 02 assignment in a local plan: owned by one of the unit's departments (free text) or
    one of the province's communes, with a deadline and a weight in the parent's roll-up. Sub-tasks are one
    level deep: a sub-task's parent is always an assignment."""

    plan = models.ForeignKey(LocalPlan, on_delete=models.CASCADE, related_name="subtasks", verbose_name=_("plan"))
    parent = models.ForeignKey(
        Assignment, on_delete=models.PROTECT, related_name="subtasks", verbose_name=_("parent assignment")
    )
    title = models.CharField(_("title"), max_length=500)
    department = models.CharField(_("department"), max_length=200, blank=True)
    commune = models.ForeignKey(
        "localities.Commune",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="subtasks",
        verbose_name=_("commune"),
    )
    deadline = models.DateField(_("deadline"))
    weight = models.DecimalField(_("weight"), max_digits=7, decimal_places=2, default=1)

    objects = SubTaskQuerySet.as_manager()

    class Meta:
        ordering = ["parent_id", "deadline", "pk"]
        verbose_name = _("sub-task")
        verbose_name_plural = _("sub-tasks")
        constraints = [
            models.CheckConstraint(
                condition=Q(department="", commune__isnull=False) | (~Q(department="") & Q(commune__isnull=True)),
                name="subtask_one_owner",
            ),
            models.CheckConstraint(condition=Q(weight__gt=0), name="subtask_weight_positive"),
            models.CheckConstraint(condition=Q(progress__lte=100), name="subtask_progress_le_100"),
            models.CheckConstraint(
                condition=~Q(status="completed") | Q(progress=100, completed_on__isnull=False),
                name="subtask_completed_has_date_and_100",
            ),
            models.CheckConstraint(condition=ONE_BLOCKER, name="subtask_one_blocker"),
        ]
        indexes = [models.Index(fields=["commune", "deadline"], name="subtask_commune_idx")]

    def __str__(self):
        return f"{self.title} · {self.owner_name}"

    @property
    def owner_name(self) -> str:
        return self.commune.name if self.commune_id else self.department

    def get_display_status(self, today: datetime.date | None = None) -> str:
        if hasattr(self, "display_status"):
            return self.display_status
        return display_status(
            status=self.status,
            deadline=self.deadline,
            completed_on=self.completed_on,
            today=today or timezone.localdate(),
            progress=self.progress,
        )


class SubTaskUpdate(WorkflowHistory):
    """Append-only history of a sub-task, written by the same service as an assignment's."""

    ITEM_FIELD = "subtask"

    subtask = models.ForeignKey(SubTask, on_delete=models.PROTECT, related_name="updates", verbose_name=_("sub-task"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("actor")
    )

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("sub-task update")
        verbose_name_plural = _("sub-task updates")
        constraints = [
            models.UniqueConstraint(fields=["subtask", "version"], name="subtask_update_version_uniq"),
        ]

    def __str__(self):
        return f"{self.subtask_id}: {self.old_status} → {self.new_status} ({self.created_at:%Y-%m-%d %H:%M})"


class WorkingGroup(models.Model):
    """One of the steering committee's six working groups: it follows some task groups, and its members (steering
    members, Membership.working_group) land on its view of phases, tasks and meetings, still reading everything.
    The Handbook names six groups without a public list: the shipped names are demo (`source`), editable."""

    number = models.PositiveSmallIntegerField(_("number"), unique=True)
    name_vi = models.CharField(_("name (Vietnamese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    task_groups = models.ManyToManyField(
        TaskGroup, blank=True, related_name="working_groups", verbose_name=_("task groups followed")
    )
    source = models.CharField(_("source of the name"), max_length=200, default=Agency.DEMO_SOURCE)

    class Meta:
        ordering = ["number"]
        verbose_name = _("working group")
        verbose_name_plural = _("working groups")

    def __str__(self):
        return f"{self.number}. {self.name}"

    @property
    def name(self):
        return _localized(self, "name")

    @property
    def is_demo(self) -> bool:
        return self.source == Agency.DEMO_SOURCE


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
    # A steering member's working group: where the member lands (still reading everything).
    working_group = models.ForeignKey(
        WorkingGroup,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
        verbose_name=_("working group"),
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
                        role__in=["admin", "steering", "inspector", "support"],
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
            models.CheckConstraint(
                condition=Q(working_group__isnull=True) | Q(role="steering"),
                name="membership_working_group_steering_only",
            ),
        ]

    def __str__(self):
        unit = self.agency or self.province or self.commune
        return f"{self.user} · {self.get_role_display()}" + (f" · {unit}" if unit else "")


class CatalogueImport(ImportRecord):
    """Audit row of an applied catalogue import: who, when, which file, what changed."""

    class Meta(ImportRecord.Meta):
        verbose_name = _("catalogue import")
        verbose_name_plural = _("catalogue imports")
