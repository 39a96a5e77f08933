"""The operations desk (DESIGN.md §12): incident categories (data), intervention teams, incidents, their
history (one row per step, comments included) and their files.

Who holds an incident is its province's desk (the province's officers and teams) until it is escalated to the
central support team (tasks.roles.Role.SUPPORT). Every write goes through support.services, which locks the
incident row, checks its `version` and writes the history row in the same transaction.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.models import AppendOnlyModel, AppendOnlyQuerySet, UndeletableModel, UndeletableQuerySet
from reports.figures import OUTAGE_SYSTEMS
from tasks.roles import Scope


class Severity(models.TextChoices):
    BLOCKING = "blocking", _("blocking a service")
    DEGRADED = "degraded", _("degraded")
    QUESTION = "question", _("question")


class State(models.TextChoices):
    OPEN = "open", _("open")
    ACKNOWLEDGED = "acknowledged", _("acknowledged")
    IN_PROGRESS = "in_progress", _("in progress")
    RESOLVED = "resolved", _("resolved")
    CLOSED = "closed", _("closed")


# The states in which an incident still needs someone (counted on the board, checked for breaches).
ACTIVE_STATES = (State.OPEN, State.ACKNOWLEDGED, State.IN_PROGRESS)


class IncidentCategory(models.Model):
    """One category of the closed list of §12 (data: loaded by a migration, editable in the admin)."""

    code = models.SlugField(_("code"), max_length=40, primary_key=True)
    name_vi = models.CharField(_("name (Vietnamese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("offered"), default=True)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("incident category")
        verbose_name_plural = _("incident categories")

    def __str__(self):
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "vi").startswith("en") else self.name_vi


class TeamQuerySet(models.QuerySet):
    def visible_to(self, scope: Scope) -> "TeamQuerySet":
        """Every team for read-all roles (the support team among them); a province its own and the central
        ones; a commune its province's and the central ones (whom to call)."""
        if scope.reads_all:
            return self
        province = scope.province_id or scope.commune_province_id
        if province:
            return self.filter(Q(province_id=province) | Q(province__isnull=True))
        return self.none()


class Team(models.Model):
    """An intervention team of a province (or of the centre: no province), with its members and skills."""

    name = models.CharField(_("name"), max_length=200)
    province = models.ForeignKey(
        "localities.Province",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="teams",
        verbose_name=_("province"),
        help_text=_("Empty for a central team."),
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="support_teams", verbose_name=_("members")
    )
    skills = models.ManyToManyField(IncidentCategory, blank=True, related_name="teams", verbose_name=_("skills"))
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["province_id", "name"]
        verbose_name = _("intervention team")
        verbose_name_plural = _("intervention teams")
        constraints = [
            models.UniqueConstraint(fields=["province", "name"], name="support_team_province_name_uniq"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(province__isnull=True), name="support_team_central_uniq"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.province_id or _('central')})"


class IncidentQuerySet(UndeletableQuerySet):
    def visible_to(self, scope: Scope) -> "IncidentQuerySet":
        """Everything for read-all roles (the support team among them); a province's desk its province's
        incidents; a commune its own; anyone also those assigned to them or to a team they are in; keys none."""
        if scope.is_api_client:
            return self.none()
        if scope.reads_all:
            return self
        held = Q(pk__in=[])
        if scope.user_id is not None:
            teams = Team.objects.filter(members=scope.user_id).values("pk")
            held = Q(assignee_id=scope.user_id) | Q(team__in=teams)
        if scope.is_province:
            return self.filter(Q(province_id=scope.province_id) | held)
        if scope.is_commune:
            return self.filter(Q(commune_id=scope.commune_id) | held)
        return self.filter(held)

    def active(self) -> "IncidentQuerySet":
        return self.filter(state__in=ACTIVE_STATES)

    def breached_q(self, now) -> Q:
        return breached_q(now)

    def breached(self, now=None) -> "IncidentQuerySet":
        return self.filter(breached_q(now or timezone.now()))


def breached_q(now) -> Q:
    """Past its time: not acknowledged by `acknowledge_by`, or not resolved by `resolve_by` (the same rule
    as support.rules' detection and the board's count)."""
    return Q(state=State.OPEN, acknowledge_by__lt=now) | Q(state__in=ACTIVE_STATES, resolve_by__lt=now)


class Incident(UndeletableModel):
    """A problem a commune or a province reported (or a daily report's `support_needed`). Never deleted."""

    category = models.ForeignKey(
        IncidentCategory, on_delete=models.PROTECT, related_name="incidents", verbose_name=_("category")
    )
    system = models.CharField(_("system affected"), max_length=40, choices=OUTAGE_SYSTEMS, blank=True)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    description = models.TextField(_("description"))
    province = models.ForeignKey(
        "localities.Province", on_delete=models.PROTECT, related_name="incidents", verbose_name=_("province")
    )
    commune = models.ForeignKey(
        "localities.Commune",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents",
        verbose_name=_("commune"),
    )
    # The daily report that asked for support (`support_needed`): one incident per report, whoever opens it
    # (the listener, the sweep, the data migration) — the constraint, not a check, makes it once.
    report = models.OneToOneField(
        "reports.DailyReport",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incident",
        verbose_name=_("daily report"),
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("reported by"),
    )
    created_at = models.DateTimeField(_("reported at"), default=timezone.now)
    state = models.CharField(_("state"), max_length=15, choices=State.choices, default=State.OPEN)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="incidents", verbose_name=_("team")
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("assigned to"),
    )
    acknowledge_by = models.DateTimeField(_("acknowledge by"))
    resolve_by = models.DateTimeField(_("resolve by"))
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    escalated = models.BooleanField(_("escalated to the central support team"), default=False)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        constraints = [
            models.CheckConstraint(condition=Q(severity__in=Severity.values), name="support_incident_severity_valid"),
            models.CheckConstraint(condition=Q(state__in=State.values), name="support_incident_state_valid"),
        ]
        indexes = [
            # The board and the breach detection: the active incidents, by province.
            models.Index(fields=["province", "state"], name="support_inc_prov_state_idx"),
            # A commune's own list.
            models.Index(fields=["commune", "-created_at"], name="support_inc_commune_idx"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.category_id} · {self.locality}"

    @property
    def locality(self) -> str:
        return self.commune_id or self.province_id

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    def is_breached(self, now=None) -> bool:
        now = now or timezone.now()
        if self.state == State.OPEN and self.acknowledge_by < now:
            return True
        return self.state in ACTIVE_STATES and self.resolve_by < now


class Action(models.TextChoices):
    OPENED = "opened", _("opened")
    ACKNOWLEDGED = "acknowledged", _("acknowledged")
    ASSIGNED = "assigned", _("assigned")
    STARTED = "started", _("work started")
    ESCALATED = "escalated", _("escalated")
    RESOLVED = "resolved", _("resolved")
    CLOSED = "closed", _("closed")
    REOPENED = "reopened", _("reopened")
    COMMENTED = "commented", _("commented")
    ATTACHED = "attached", _("file attached")
    # The incident's daily report asked for support (§8): resolving the incident answered that request.
    REQUEST_ANSWERED = "answered", _("support request answered")
    # An escalated incident of a system: the system's owner or vendor told (VendorNotice).
    VENDOR_TOLD = "vendor", _("system vendor told")


class IncidentEventQuerySet(AppendOnlyQuerySet):
    def comments(self) -> "IncidentEventQuerySet":
        return self.filter(action=Action.COMMENTED)


class IncidentEvent(AppendOnlyModel):
    """One step of an incident (or a comment of its thread): who, when, what, from → to. Never changed; on
    PostgreSQL a trigger refuses UPDATE and DELETE for any client (migration 0002)."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="events", verbose_name=_("incident"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    action = models.CharField(_("action"), max_length=15, choices=Action.choices)
    from_state = models.CharField(_("from"), max_length=15, choices=State.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=15, choices=State.choices, blank=True)
    text = models.TextField(_("text"), blank=True)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The incident's version this step made (a comment leaves it unchanged).
    version = models.PositiveIntegerField(_("version"))

    objects = IncidentEventQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("incident event")
        verbose_name_plural = _("incident events")
        indexes = [
            # An incident's thread, in order.
            models.Index(fields=["incident", "at"], name="support_event_incident_idx"),
        ]

    def __str__(self):
        return f"#{self.incident_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


def attachment_upload_to(instance, filename):
    return f"incidents/{instance.incident_id}/{filename}"


class IncidentAttachment(UndeletableModel):
    """A photo or a file of an incident, checked like evidence (tasks.services.validate_evidence_file) and
    downloaded through the incident's scope, never served as a page."""

    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="attachments", verbose_name=_("incident")
    )
    file = models.FileField(_("file"), upload_to=attachment_upload_to, max_length=300)
    name = models.CharField(_("file name"), max_length=150)
    size = models.PositiveIntegerField(_("size"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    objects = UndeletableQuerySet.as_manager()

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("incident file")
        verbose_name_plural = _("incident files")

    def __str__(self):
        return self.name


class NotifyRequest(models.Model):
    """The desk has steps whose people must be told: written after a step commits when none is pending (one
    row at most, pk 1), taken (deleted) by the job that tells them (support.jobs.incidents_notify) before it
    reads anything. Steps made while it is pending share that job, as the dashboards' SnapshotRequest does for
    task updates; a request left by a broker that was down is taken by the check on the beat."""

    requested_at = models.DateTimeField(_("requested at"))

    class Meta:
        verbose_name = _("pending desk notification")
        verbose_name_plural = _("pending desk notifications")

    def __str__(self):
        return f"{self.requested_at:%Y-%m-%d %H:%M:%S}"


class VendorNotice(models.Model):
    """The owner or vendor of the system an escalated incident is about (alerts.Contact of role `vendor`, for
    the incident's province or national), told once: one row per incident and address, written in the
    escalation's transaction (the unique constraint makes it once however often or however concurrently the
    incident is escalated), e-mailed by the desk's job after commit, which sets `sent_at`. The contact's
    name, e-mail and phone are copied: the incident shows whom it went to even after the contact changes."""

    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="vendor_notices", verbose_name=_("incident")
    )
    contact = models.ForeignKey(
        "alerts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("contact")
    )
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"), max_length=254)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("told at"))
    sent_at = models.DateTimeField(_("e-mail sent at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("vendor notice")
        verbose_name_plural = _("vendor notices")
        constraints = [models.UniqueConstraint(fields=["incident", "email"], name="vendor_notice_once")]

    def __str__(self):
        return f"#{self.incident_id} → {self.name}"
