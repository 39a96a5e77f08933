"""Early warning (DESIGN.md §8): the accountable people of every unit (contacts), the alerts the rules raise
(alerts.specs), the runs that raised them, the in-portal notifications, the e-mail digests and their delivery,
each person's preferences, and the resolutions that close support requests.

Exactly once is in the database, not in Python: each alert, each notification, each digest and each mailed
alert has a unique constraint, and the code inserts with ON CONFLICT DO NOTHING and acts only on the rows it
inserted itself (see each constraint's comment for the race it closes).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from alerts import specs
from core.models import ImportRecord
from reports.figures import OUTAGE_SYSTEMS
from tasks.models import Assignment
from tasks.roles import Scope


class Language(models.TextChoices):
    VI = "vi", _("Vietnamese")
    EN = "en", _("English")


# --- contacts ---------------------------------------------------------------------------------------------


class ContactQuerySet(models.QuerySet):
    def heads(self) -> "ContactQuerySet":
        return self.filter(role=Contact.Role.HEAD)


class Contact(models.Model):
    """The accountable head or a focal point of an agency, a province or a commune (the plan holds the head of
    each unit personally accountable). Contacts get e-mail without needing a portal account."""

    class Role(models.TextChoices):
        HEAD = "head", _("accountable head")
        FOCAL_POINT = "focal_point", _("focal point")
        # The owner or vendor of a system (§5's outage_systems: Viettel, VNPT, FPT, CMC …): told when an incident
        # of that system is escalated (support.services). National, or for one province's deployment.
        VENDOR = "vendor", _("system owner or vendor")

    agency = models.ForeignKey(
        "tasks.Agency",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="contacts",
        verbose_name=_("agency"),
    )
    province = models.ForeignKey(
        "localities.Province",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="contacts",
        verbose_name=_("province"),
    )
    commune = models.ForeignKey(
        "localities.Commune",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="contacts",
        verbose_name=_("commune"),
    )
    # A solution provider's people: told of the work it blocks (DESIGN.md §13), by e-mail only.
    vendor = models.ForeignKey(
        "tasks.Vendor",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="contacts",
        verbose_name=_("vendor"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    system = models.CharField(_("system"), max_length=40, choices=OUTAGE_SYSTEMS, blank=True)
    name = models.CharField(_("name"), max_length=200)
    title = models.CharField(_("title"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), max_length=254)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.VI)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["agency__code", "province_id", "commune_id", "role", "name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            # A head or a focal point belongs to one unit; a vendor to one system, nationally or in one province.
            models.CheckConstraint(
                # A head or a focal point belongs to one unit (an agency, a province, a commune, or a solution
                # provider of tasks.Vendor that blocks work); a system's owner or vendor (role vendor) to one system,
                # nationally or in one province.
                condition=(
                    ~Q(role="vendor")
                    & Q(system="")
                    & (
                        Q(agency__isnull=False, province__isnull=True, commune__isnull=True, vendor__isnull=True)
                        | Q(agency__isnull=True, province__isnull=False, commune__isnull=True, vendor__isnull=True)
                        | Q(agency__isnull=True, province__isnull=True, commune__isnull=False, vendor__isnull=True)
                        | Q(agency__isnull=True, province__isnull=True, commune__isnull=True, vendor__isnull=False)
                    )
                )
                | (
                    Q(role="vendor") & ~Q(system="") & Q(agency__isnull=True, commune__isnull=True, vendor__isnull=True)
                ),
                name="contact_one_unit_or_system",
            ),
            models.UniqueConstraint(
                fields=["system", "email"], condition=Q(province__isnull=True), name="contact_national_vendor_uniq"
            ),
            # One accountable head per unit (the import refuses a file naming two).
            models.UniqueConstraint(fields=["agency"], condition=Q(role="head"), name="contact_one_head_per_agency"),
            models.UniqueConstraint(
                fields=["province"], condition=Q(role="head"), name="contact_one_head_per_province"
            ),
            models.UniqueConstraint(fields=["commune"], condition=Q(role="head"), name="contact_one_head_per_commune"),
            # A person is listed once per unit (the import's key for focal points).
            models.UniqueConstraint(fields=["agency", "email"], name="contact_agency_email_uniq"),
            models.UniqueConstraint(fields=["province", "email"], name="contact_province_email_uniq"),
            models.UniqueConstraint(fields=["commune", "email"], name="contact_commune_email_uniq"),
            models.UniqueConstraint(fields=["vendor", "email"], name="contact_vendor_email_uniq"),
        ]

    def __str__(self):
        return f"{self.name} · {self.get_role_display()} · {self.unit}"

    @property
    def unit(self):
        return self.agency or self.province or self.commune or self.vendor or self.get_system_display()

    @property
    def unit_kind(self) -> str:
        if self.role == self.Role.VENDOR:
            return "system"
        if self.vendor_id:
            return "vendor"
        return "agency" if self.agency_id else "commune" if self.commune_id else "province"


class ContactImport(ImportRecord):
    """Audit row of an applied contacts import: who, when, which file, what changed."""

    class Meta(ImportRecord.Meta):
        verbose_name = _("contacts import")
        verbose_name_plural = _("contacts imports")


# --- runs and alerts --------------------------------------------------------------------------------------


class AlertRun(models.Model):
    """One evaluation of the rules (`manage.py alerts_run`, the beat, bootstrap): its history row."""

    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    as_of = models.DateField(_("as of"))
    # The moment evaluated: now for today, the midnight that ends the day for --as-of.
    moment = models.DateTimeField(_("moment evaluated"))
    rules = models.JSONField(_("rules"), default=list)
    trigger = models.CharField(_("started by"), max_length=100, blank=True)
    raised = models.PositiveIntegerField(_("alerts raised"), default=0)
    reopened = models.PositiveIntegerField(_("alerts reopened"), default=0)
    closed = models.PositiveIntegerField(_("alerts closed"), default=0)
    notifications = models.PositiveIntegerField(_("notifications"), default=0)
    digests = models.PositiveIntegerField(_("e-mail digests"), default=0)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("alert run")
        verbose_name_plural = _("alert runs")

    def __str__(self):
        return f"{self.as_of} ({self.started_at:%Y-%m-%d %H:%M})"


class AlertQuerySet(models.QuerySet):
    def open(self) -> "AlertQuerySet":
        return self.filter(closed_at__isnull=True)

    def visible_to(self, scope: Scope) -> "AlertQuerySet":
        """The alerts about what the scope may see: everything for read-all roles; a province's and its
        communes' (assignments, reports, silent communes); a commune's own; for an agency officer the alerts
        addressed to its agency (its own assignments, the ones it blocks, the overdue tasks it leads) and those
        on any assignment it may see (tasks.models.AssignmentQuerySet.visible_to)."""
        if scope.reads_all:
            return self
        if scope.is_province:
            return self.filter(province_id=scope.province_id)
        if scope.is_commune:
            return self.filter(commune_id=scope.commune_id)
        if scope.is_agency:
            visible = Assignment.objects.visible_to(scope).values("pk")
            return self.filter(Q(agency_id=scope.agency_id) | Q(assignment__in=visible))
        return self.none()


class Alert(models.Model):
    """A condition a rule found (alerts.specs): raised once, open while the condition holds, closed by the
    run that finds it ended (or at once, by the service that ended it)."""

    # Choices: the rules every app registered (alerts.specs), read when used, so a new rule needs no migration.
    rule = models.CharField(_("rule"), max_length=specs.RULE_MAX_LENGTH, choices=specs.rule_choices)
    threshold = models.PositiveSmallIntegerField(_("threshold (days)"))
    subject_kind = models.CharField(_("subject"), max_length=specs.SUBJECT_MAX_LENGTH, choices=specs.subject_choices)
    # The subject's identity for this rule: "assignment:812", "assignment:812:blocked_by:7", "commune:00004",
    # "report:5501". Wide enough for the longest a rule makes: a bigint id and the longest system code
    # ("assignment:…:blocked_by_system:provincial_procedure_system").
    subject_key = models.CharField(_("subject key"), max_length=100)
    # The day that makes the alert: the deadline, the last update, the day a block or a streak began, the
    # report's day. A later streak or block of the same subject is a new alert.
    day = models.DateField(_("day"))
    since = models.DateField(_("since"))
    assignment = models.ForeignKey(
        "tasks.Assignment", null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    # Indexed by alert_commune_idx below, not by db_index: Django would add a second, `varchar_pattern_ops`
    # copy for LIKE, which nothing asks of a code (every index is written by each of a national run's inserts).
    commune = models.ForeignKey(
        "localities.Commune", null=True, blank=True, on_delete=models.PROTECT, related_name="alerts", db_index=False
    )
    report = models.ForeignKey(
        "reports.DailyReport", null=True, blank=True, on_delete=models.PROTECT, related_name="alerts"
    )
    # The province and the agency lead the (…, rule) indexes below, which serve their lookups too.
    province = models.ForeignKey(
        "localities.Province",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alerts",
        verbose_name=_("province"),
        db_index=False,
    )
    agency = models.ForeignKey(
        "tasks.Agency",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alerts",
        verbose_name=_("agency"),
        db_index=False,
    )
    # The vendor an assignment waits on (rule blocked_vendor): told through its contacts.
    vendor = models.ForeignKey(
        "tasks.Vendor", null=True, blank=True, on_delete=models.PROTECT, related_name="alerts", verbose_name=_("vendor")
    )
    # A person told besides the units (the inspector of an overdue follow-up item, DESIGN.md §13).
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("person told"),
    )
    run = models.ForeignKey(AlertRun, on_delete=models.PROTECT, related_name="alerts", verbose_name=_("raised by run"))
    raised_at = models.DateTimeField(_("raised at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-raised_at", "-id"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        constraints = [
            # Exactly once. Two runs at once (two workers, a retry while the first still runs) both find the
            # condition and both insert: ON CONFLICT DO NOTHING lets the first insert win and the second skip
            # (on PostgreSQL it waits for the first to commit), and each run notifies only about the alerts
            # whose `run` is itself.
            models.UniqueConstraint(fields=["rule", "subject_key", "threshold", "day"], name="alert_once_uniq"),
        ]
        indexes = [
            # The run reads the open alerts of the rules it evaluates; the lists show open alerts first.
            models.Index(fields=["rule"], condition=Q(closed_at__isnull=True), name="alert_open_rule_idx"),
            # Lists filtered by province or agency.
            models.Index(fields=["province", "rule"], name="alert_province_rule_idx"),
            models.Index(fields=["agency", "rule"], name="alert_agency_rule_idx"),
            models.Index(fields=["commune"], name="alert_commune_idx"),
        ]

    def __str__(self):
        return f"{self.rule}@{self.threshold} {self.subject_key} {self.day}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


# --- delivery -----------------------------------------------------------------------------------------------


class NotificationQuerySet(models.QuerySet):
    def visible_to(self, scope: Scope) -> "NotificationQuerySet":
        """A person's own notifications only (API keys have none)."""
        if scope.user_id is None or scope.is_api_client:
            return self.none()
        return self.filter(user_id=scope.user_id)

    def unread(self) -> "NotificationQuerySet":
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """An alert shown to one user in the portal (the bell)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("user")
    )
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("alert"))
    run = models.ForeignKey(AlertRun, on_delete=models.PROTECT, related_name="+", verbose_name=_("run"))
    created_at = models.DateTimeField(_("created at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            # A user is told about an alert once, whatever runs, retries or reopenings happen.
            models.UniqueConstraint(fields=["user", "alert"], name="notification_once_uniq"),
        ]
        indexes = [
            # The bell: COUNT(*) WHERE user = ? AND read_at IS NULL, on every page.
            models.Index(fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread_idx"),
            # A person's list, newest first.
            models.Index(fields=["user", "-created_at"], name="notification_user_created_idx"),
        ]

    def __str__(self):
        return f"{self.user} · {self.alert}"


class Digest(models.Model):
    """The one e-mail of one person (an address) for one run, listing the alerts that run raised for them.

    Sending is at most once: a sender claims pending digests (row locks skipped, then a compare-and-set on
    `status`), sends, and marks each one sent. A failed send goes back to pending and is retried by the next
    sender (the next run, the beat's retry job); one that stays `sending` (its sender died mid-send) may or may
    not have gone, so it is never resent by itself: an administrator decides (admin: "send again")."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed (gave up)")

    run = models.ForeignKey(AlertRun, on_delete=models.PROTECT, related_name="digest_set", verbose_name=_("run"))
    email = models.EmailField(_("e-mail"), max_length=254)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.VI)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(_("name"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claim = models.CharField(_("claimed by"), max_length=36, blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"))
    alerts = models.ManyToManyField(Alert, through="DigestItem", related_name="digests")

    class Meta:
        ordering = ["-created_at", "email"]
        verbose_name = _("e-mail digest")
        verbose_name_plural = _("e-mail digests")
        constraints = [
            # One digest per person per run, even if the run's recipient list named the address twice (a user
            # who is also a unit's head).
            models.UniqueConstraint(fields=["run", "email"], name="digest_person_run_uniq"),
        ]
        indexes = [
            # Senders pick the pending digests.
            models.Index(fields=["created_at"], condition=Q(status="pending"), name="digest_pending_idx"),
        ]

    def __str__(self):
        return f"{self.email} · {self.run_id} · {self.status}"


class DigestItem(models.Model):
    """An alert listed in a digest. `email` is repeated here for the constraint below."""

    digest = models.ForeignKey(Digest, on_delete=models.CASCADE, related_name="items")
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="+")
    email = models.EmailField(max_length=254)

    class Meta:
        ordering = ["digest", "alert"]
        verbose_name = _("digest item")
        verbose_name_plural = _("digest items")
        constraints = [
            # An alert is mailed to an address once: two runs at once, or a run retried after a crash, can
            # never put it in two digests of the same person.
            models.UniqueConstraint(fields=["email", "alert"], name="digest_item_once_uniq"),
        ]

    def __str__(self):
        return f"{self.email} · {self.alert_id}"


class Preference(models.Model):
    """A user's e-mail language and the rules they do not want by e-mail (in-portal notifications stay)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_preference", verbose_name=_("user")
    )
    language = models.CharField(_("e-mail language"), max_length=2, choices=Language.choices, default=Language.VI)
    email_off = models.JSONField(_("no e-mail for"), default=list, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["user__username"]
        verbose_name = _("alert preference")
        verbose_name_plural = _("alert preferences")

    def __str__(self):
        return str(self.user)


# --- support requests ---------------------------------------------------------------------------------------


class SupportResolution(models.Model):
    """How a province officer closed a report's request for support (`support_needed`): the request itself is
    the report (reports.DailyReport); it is open until this row exists. Written once, never changed."""

    report = models.OneToOneField(
        "reports.DailyReport",
        primary_key=True,
        on_delete=models.PROTECT,
        related_name="support_resolution",
        verbose_name=_("report"),
    )
    resolution = models.TextField(_("resolution"))
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("closed by")
    )
    closed_at = models.DateTimeField(_("closed at"))

    class Meta:
        ordering = ["-closed_at"]
        verbose_name = _("support resolution")
        verbose_name_plural = _("support resolutions")

    def __str__(self):
        return f"{self.report} · {self.closed_at:%Y-%m-%d}"
