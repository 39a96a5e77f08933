"""Inspections (DESIGN.md §13): an inspector records an inspection plan (the units inspected, the dates, the
tasks in scope), then a visit's findings (finding, severity, recommendation, deadline). Each finding's
recommendation becomes a follow-up item of the inspected unit: a workflow item (tasks.models.WorkflowState)
changed only through tasks.services.workflow_update(), with its own append-only history."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import AppendOnlyQuerySet
from tasks.models import ONE_BLOCKER, WorkflowHistory, WorkflowState, blocking_q
from tasks.roles import Role, Scope


class UnitKind(models.TextChoices):
    AGENCY = "agency", _("agency")
    PROVINCE = "province", _("province")
    COMMUNE = "commune", _("commune")


class Severity(models.TextChoices):
    LOW = "low", _("low")
    MEDIUM = "medium", _("medium")
    HIGH = "high", _("high")


def _unit_q(scope: Scope, prefix: str = "") -> Q | None:
    """The rows of the scope's own unit (a province's include its communes'); None for no unit."""
    if scope.is_agency:
        return Q(**{f"{prefix}agency_id": scope.agency_id})
    if scope.is_province:
        return Q(**{f"{prefix}province_id": scope.province_id})
    if scope.is_commune:
        return Q(**{f"{prefix}commune_id": scope.commune_id})
    return None


class InspectionQuerySet(models.QuerySet):
    def visible_to(self, scope: Scope) -> "InspectionQuerySet":
        """Everything for read-all roles (inspectors, steering, admin); an inspected unit the inspections of
        its own unit (a province also those of its communes)."""
        if scope.reads_all:
            return self
        if scope.is_agency:
            return self.filter(
                pk__in=Inspection.agencies.through.objects.filter(agency_id=scope.agency_id).values("inspection_id")
            )
        if scope.is_province:
            return self.filter(
                Q(
                    pk__in=Inspection.provinces.through.objects.filter(province_id=scope.province_id).values(
                        "inspection_id"
                    )
                )
                | Q(
                    pk__in=Inspection.communes.through.objects.filter(commune__province_id=scope.province_id).values(
                        "inspection_id"
                    )
                )
            )
        if scope.is_commune:
            return self.filter(
                pk__in=Inspection.communes.through.objects.filter(commune_id=scope.commune_id).values("inspection_id")
            )
        return self.none()


def may_inspect(scope: Scope) -> bool:
    """Inspectors record inspections and findings; nobody else does (they read everything, record only these)."""
    return scope.role == Role.INSPECTOR and not scope.is_api_client


class Inspection(models.Model):
    title = models.CharField(_("title"), max_length=300)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    provinces = models.ManyToManyField(
        "localities.Province", blank=True, related_name="inspections", verbose_name=_("provinces inspected")
    )
    agencies = models.ManyToManyField(
        "tasks.Agency", blank=True, related_name="inspections", verbose_name=_("agencies inspected")
    )
    communes = models.ManyToManyField(
        "localities.Commune", blank=True, related_name="inspections", verbose_name=_("communes inspected")
    )
    tasks = models.ManyToManyField(
        "tasks.Task", blank=True, related_name="inspections", verbose_name=_("tasks in scope")
    )
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("inspector")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = InspectionQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "-pk"]
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        constraints = [
            models.CheckConstraint(condition=Q(starts_on__lte=models.F("ends_on")), name="inspection_dates_ordered"),
        ]

    def __str__(self):
        return self.title


UNIT_CONSTRAINT = (
    Q(unit_kind="agency", agency__isnull=False, province__isnull=True, commune__isnull=True)
    | Q(unit_kind="province", agency__isnull=True, province__isnull=False, commune__isnull=True)
    | Q(unit_kind="commune", agency__isnull=True, province__isnull=False, commune__isnull=False)
)


class UnitFields(models.Model):
    """The inspected unit of a finding or a follow-up item: an agency, a province or a commune (a commune's
    row carries its province too, as an assignment's does)."""

    unit_kind = models.CharField(_("unit kind"), max_length=10, choices=UnitKind.choices)
    agency = models.ForeignKey(
        "tasks.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency")
    )
    province = models.ForeignKey(
        "localities.Province",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("province"),
    )
    commune = models.ForeignKey(
        "localities.Commune",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("commune"),
    )

    class Meta:
        abstract = True

    @property
    def unit(self):
        return self.agency or self.commune or self.province

    @property
    def unit_code(self) -> str:
        return self.agency.code if self.agency_id else (self.commune_id or self.province_id or "")


class FindingQuerySet(models.QuerySet):
    def visible_to(self, scope: Scope) -> "FindingQuerySet":
        """Everything for read-all roles; an inspected unit its own findings (a province its communes' too)."""
        if scope.reads_all:
            return self
        condition = _unit_q(scope)
        return self.none() if condition is None else self.filter(condition)


class Finding(UnitFields):
    inspection = models.ForeignKey(
        Inspection, on_delete=models.CASCADE, related_name="findings", verbose_name=_("inspection")
    )
    visited_on = models.DateField(_("visited on"))
    text = models.TextField(_("finding"))
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    recommendation = models.TextField(_("recommendation"))
    deadline = models.DateField(_("deadline"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = FindingQuerySet.as_manager()

    class Meta:
        ordering = ["inspection_id", "visited_on", "pk"]
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        constraints = [models.CheckConstraint(condition=UNIT_CONSTRAINT, name="finding_unit_matches_kind")]

    def __str__(self):
        return f"{self.inspection} · {self.unit}"


class FollowUpQuerySet(models.QuerySet):
    def visible_to(self, scope: Scope) -> "FollowUpQuerySet":
        """Everything for read-all roles; the inspected unit its own (a province its communes' too); an agency or a
        province those it is named as blocking (tasks.models.blocking_q)."""
        if scope.reads_all:
            return self
        condition, blocking = _unit_q(scope), blocking_q(scope)
        if condition is None:
            return self.none() if blocking is None else self.filter(blocking)
        return self.filter(condition if blocking is None else condition | blocking)

    def updatable_q(self, scope: Scope) -> Q | None:
        """The inspected unit carries its follow-up items out (a province officer also its communes', on their
        behalf); read-only roles (inspectors included) and API keys change nothing."""
        if scope.is_api_client:
            return None
        return _unit_q(scope)

    def updatable_by(self, scope: Scope) -> "FollowUpQuerySet":
        condition = self.updatable_q(scope)
        return self.none() if condition is None else self.filter(condition)


class FollowUp(UnitFields, WorkflowState):
    """A recommendation to carry out: the inspected unit's item, with the workflow of an assignment."""

    finding = models.OneToOneField(
        Finding, on_delete=models.CASCADE, related_name="followup", verbose_name=_("finding")
    )
    deadline = models.DateField(_("deadline"))

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        ordering = ["deadline", "pk"]
        verbose_name = _("follow-up item")
        verbose_name_plural = _("follow-up items")
        constraints = [
            models.CheckConstraint(condition=UNIT_CONSTRAINT, name="followup_unit_matches_kind"),
            models.CheckConstraint(condition=Q(progress__lte=100), name="followup_progress_le_100"),
            models.CheckConstraint(
                condition=~Q(status="completed") | Q(progress=100, completed_on__isnull=False),
                name="followup_completed_has_date_and_100",
            ),
            models.CheckConstraint(condition=ONE_BLOCKER, name="followup_one_blocker"),
        ]

    def __str__(self):
        return f"{self.finding.recommendation[:60]} · {self.unit}"


class FollowUpUpdate(WorkflowHistory):
    """Append-only history of a follow-up item, written by the workflow service."""

    ITEM_FIELD = "followup"

    followup = models.ForeignKey(
        FollowUp, on_delete=models.PROTECT, related_name="updates", verbose_name=_("follow-up item")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("actor")
    )

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("follow-up update")
        verbose_name_plural = _("follow-up updates")
        constraints = [models.UniqueConstraint(fields=["followup", "version"], name="followup_update_version_uniq")]

    def __str__(self):
        return f"{self.followup_id}: {self.old_status} → {self.new_status}"
