"""Daily reports of communes and provinces, their revisions, lock exceptions, the API clients that send
them, and the outbox of (province, day) pairs whose rollups must be rebuilt."""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import TransactionId, UndeletableModel, UndeletableQuerySet
from reports import figures, formspec
from reports.figures import INTEGER_FIELDS, figure_relations
from tasks.roles import Role, Scope


class ReportFigures(models.Model):
    """The integer figures of DESIGN.md §5 (same names and order as reports.figures.INTEGER_FIELDS)."""

    received_online = models.PositiveIntegerField(_("received online"))
    received_direct = models.PositiveIntegerField(_("received at the desk"))
    received_postal = models.PositiveIntegerField(_("received by post"))
    received_fully_online = models.PositiveIntegerField(_("received fully online"))
    resolved_early = models.PositiveIntegerField(_("resolved early"))
    resolved_on_time = models.PositiveIntegerField(_("resolved on time"))
    resolved_late = models.PositiveIntegerField(_("resolved late"))
    returned = models.PositiveIntegerField(_("returned"))
    pending_within_deadline = models.PositiveIntegerField(_("pending within deadline"))
    pending_overdue = models.PositiveIntegerField(_("pending overdue"))
    online_payments = models.PositiveIntegerField(_("online payments"))
    digitized_dossiers = models.PositiveIntegerField(_("digitised dossiers"))
    e_results_issued = models.PositiveIntegerField(_("electronic results issued"))
    staff_assigned = models.PositiveIntegerField(_("staff assigned"))
    staff_present = models.PositiveIntegerField(_("staff present"))
    staff_with_digital_signature = models.PositiveIntegerField(_("staff with a digital signature"))
    documents_issued = models.PositiveIntegerField(_("documents issued"))
    documents_e_signed = models.PositiveIntegerField(_("documents e-signed"))
    outage_minutes = models.PositiveIntegerField(_("outage minutes"))

    class Meta:
        abstract = True


assert [f.name for f in ReportFigures._meta.fields] == INTEGER_FIELDS, "ReportFigures drifted from figures.py"


# --- report forms as data (DESIGN.md §11) -------------------------------------------------------------------


class ReportForm(models.Model):
    """A reporting regime's form (the daily report is `daily`): its title and whether the standing agency has
    made it official (the shipped default is `proposed` until an official version is imported)."""

    class Status(models.TextChoices):
        PROPOSED = formspec.PROPOSED, _("proposed")
        OFFICIAL = formspec.OFFICIAL, _("official")

    code = models.CharField(_("code"), max_length=40, unique=True)
    title_vi = models.CharField(_("title (Vietnamese)"), max_length=300)
    title_en = models.CharField(_("title (English)"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PROPOSED)

    class Meta:
        ordering = ["code"]
        verbose_name = _("report form")
        verbose_name_plural = _("report forms")

    def __str__(self):
        return self.code


class FormVersion(models.Model):
    """One version of a form, in force from `effective_from` until the next version's day. Never changed once
    imported (reports.formimport writes it with its rows in one transaction): reports keep the version in
    force on their day, and processes cache the compiled version by its id (reports.formspec)."""

    form = models.ForeignKey(ReportForm, on_delete=models.PROTECT, related_name="versions", verbose_name=_("form"))
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=10, choices=ReportForm.Status.choices)
    title_vi = models.CharField(_("title (Vietnamese)"), max_length=300)
    title_en = models.CharField(_("title (English)"), max_length=300, blank=True)
    effective_from = models.DateField(_("in force from"))
    imported_at = models.DateTimeField(_("imported at"))
    imported_by = models.CharField(_("imported by"), max_length=150)
    source_file = models.CharField(_("source file"), max_length=255, blank=True)
    checksum = models.CharField(_("checksum"), max_length=64, blank=True)

    class Meta:
        ordering = ["form", "effective_from"]
        verbose_name = _("form version")
        verbose_name_plural = _("form versions")
        constraints = [
            models.UniqueConstraint(fields=["form", "number"], name="form_version_number_uniq"),
            models.UniqueConstraint(fields=["form", "effective_from"], name="form_version_effective_uniq"),
        ]

    def __str__(self):
        return f"{self.form_id} v{self.number} ({self.effective_from})"

    def as_data(self) -> dict[str, Any]:
        """The version as the rows formspec.build_spec reads."""
        return {
            "form": {
                "code": self.form.code,
                "title_vi": self.title_vi,
                "title_en": self.title_en,
                "status": self.status,
                "version": self.number,
                "effective_from": self.effective_from,
            },
            "indicators": [
                {
                    "code": i.code,
                    "series": i.series,
                    "label_vi": i.label_vi,
                    "label_en": i.label_en,
                    "help_vi": i.help_vi,
                    "help_en": i.help_en,
                    "type": i.type,
                    "unit": i.unit,
                    "minimum": i.minimum,
                    "maximum": i.maximum,
                    "required": i.required,
                    "aggregation": i.aggregation,
                    "section": i.section,
                    "choices": i.choices or None,
                }
                for i in self.indicators.all()
            ],
            "rules": [
                {
                    "code": r.code,
                    "kind": r.kind,
                    "left": r.left,
                    "op": r.op,
                    "right": r.right,
                    "field": r.field,
                    "severity": r.severity,
                    "message_vi": r.message_vi,
                    "message_en": r.message_en,
                }
                for r in self.rules.all()
            ],
            "rates": [
                {
                    "code": r.code,
                    "numerator": r.numerator,
                    "denominator": r.denominator,
                    "label_vi": r.label_vi,
                    "label_en": r.label_en,
                }
                for r in self.rates.all()
            ],
        }

    def spec(self) -> formspec.FormSpec:
        """The compiled version (it was checked when imported; every series is known by then)."""
        data = self.as_data()
        return formspec.build_spec(data, known_series=[i["series"] for i in data["indicators"]], version_id=self.pk)


class FormIndicator(models.Model):
    """An indicator of a version: `code` is the API's field name; `series` the storage it continues."""

    version = models.ForeignKey(FormVersion, on_delete=models.CASCADE, related_name="indicators")
    order = models.PositiveIntegerField(_("order"))
    code = models.CharField(_("code"), max_length=40)
    series = models.CharField(_("series"), max_length=40)
    label_vi = models.CharField(_("label (Vietnamese)"), max_length=300)
    label_en = models.CharField(_("label (English)"), max_length=300, blank=True)
    help_vi = models.TextField(_("help (Vietnamese)"), blank=True)
    help_en = models.TextField(_("help (English)"), blank=True)
    type = models.CharField(_("type"), max_length=10)
    unit = models.CharField(_("unit"), max_length=40, blank=True)
    minimum = models.IntegerField(_("minimum"), null=True, blank=True)
    maximum = models.IntegerField(_("maximum"), null=True, blank=True)
    required = models.BooleanField(_("required"), default=False)
    aggregation = models.CharField(_("aggregation"), max_length=10)
    section = models.CharField(_("section"), max_length=40, blank=True)
    choices = models.JSONField(_("choices"), default=list, blank=True)

    class Meta:
        ordering = ["version", "order"]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        constraints = [models.UniqueConstraint(fields=["version", "code"], name="form_indicator_code_uniq")]

    def __str__(self):
        return self.code


class FormRule(models.Model):
    """A rule of a version (formspec.Rule): expressions of indicators, an operator, a severity, messages."""

    version = models.ForeignKey(FormVersion, on_delete=models.CASCADE, related_name="rules")
    order = models.PositiveIntegerField(_("order"))
    code = models.CharField(_("code"), max_length=40)
    kind = models.CharField(_("kind"), max_length=20)
    left = models.CharField(_("left"), max_length=500)
    op = models.CharField(_("operator"), max_length=2, blank=True)
    right = models.CharField(_("right"), max_length=500)
    field = models.CharField(_("field"), max_length=40, blank=True)
    severity = models.CharField(_("severity"), max_length=10)
    message_vi = models.TextField(_("message (Vietnamese)"), blank=True)
    message_en = models.TextField(_("message (English)"), blank=True)

    class Meta:
        ordering = ["version", "order"]
        verbose_name = _("rule")
        verbose_name_plural = _("rules")

    def __str__(self):
        return self.code


class FormRate(models.Model):
    """A rate of a version: numerator / denominator (null on 0), or a total without a denominator."""

    version = models.ForeignKey(FormVersion, on_delete=models.CASCADE, related_name="rates")
    order = models.PositiveIntegerField(_("order"))
    code = models.CharField(_("code"), max_length=40)
    numerator = models.CharField(_("numerator"), max_length=500)
    denominator = models.CharField(_("denominator"), max_length=500, blank=True)
    label_vi = models.CharField(_("label (Vietnamese)"), max_length=300, blank=True)
    label_en = models.CharField(_("label (English)"), max_length=300, blank=True)

    class Meta:
        ordering = ["version", "order"]
        verbose_name = _("rate")
        verbose_name_plural = _("rates")
        constraints = [models.UniqueConstraint(fields=["version", "code"], name="form_rate_code_uniq")]

    def __str__(self):
        return self.code


class ApiClient(models.Model):
    """A system or clerk allowed to send daily reports with an API key, for one commune or one province
    (a province key may also send for the province's communes). Only a hash of the key is stored.

    A key of kind `national` belongs to no locality: the national monitoring system reads everything (the
    changes feed, the lists, the dashboards) and sends nothing (DESIGN.md §14)."""

    class Kind(models.TextChoices):
        LOCALITY = "locality", _("a commune or a province")
        NATIONAL = "national", _("national (reads everything, sends nothing)")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.LOCALITY)
    province = models.ForeignKey(
        "localities.Province",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="api_clients",
        verbose_name=_("province"),
    )
    commune = models.ForeignKey(
        "localities.Commune",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="api_clients",
        verbose_name=_("commune"),
    )
    # The first characters of the key, shown in lists so a key can be recognised without being stored.
    key_prefix = models.CharField(_("key prefix"), max_length=12)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="locality", province__isnull=False, commune__isnull=True)
                | Q(kind="locality", province__isnull=True, commune__isnull=False)
                | Q(kind="national", province__isnull=True, commune__isnull=True),
                name="api_client_one_locality",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.locality_code or self.kind})"

    @property
    def locality_code(self):
        return self.commune_id or self.province_id

    def as_scope(self) -> Scope:
        """A key acts for its commune, or for its province and the province's communes; it reads what they
        read and changes no assignment (tasks.scoping.scope_for_request asks for this). A national key reads
        what the steering committee reads; as a key it writes nothing (every write refuses API clients but
        the reports of their own locality, and it has none)."""
        if self.kind == self.Kind.NATIONAL:
            return Scope(role=Role.STEERING, client_id=self.pk)
        if self.commune_id:
            return Scope(
                role=Role.COMMUNE_CLERK,
                commune_id=self.commune_id,
                commune_province_id=self.commune.province_id,
                client_id=self.pk,
            )
        return Scope(role=Role.PROVINCE_OFFICER, province_id=self.province_id, client_id=self.pk)


class LocalityScoped:
    """`visible_to(scope)` of what belongs to a locality's daily report (the reports, their quality warnings,
    their approvals): all for read-all roles; a province officer (or key) its province's and its communes'; a
    commune its own. Agencies follow tasks, not localities' daily figures: nothing. `COMMUNE` names the commune's
    field."""

    COMMUNE = "commune_id"

    def visible_to(self, scope: Scope) -> Any:
        queryset: Any = self
        if scope.reads_all:
            return queryset
        if scope.is_province:
            return queryset.filter(province_id=scope.province_id)
        if scope.is_commune:
            return queryset.filter(**{self.COMMUNE: scope.commune_id})
        return queryset.none()


class DailyReportQuerySet(LocalityScoped, UndeletableQuerySet):
    """Refuses delete() (core.models; on PostgreSQL the triggers of migrations 0004 and 0007 also refuse DELETE
    and TRUNCATE for any SQL client but the tables' owner). The benchmark empties days of its own database
    past them as the database's superuser (bench/purge.py); the portal has no way around them."""


class DailyReport(ReportFigures, UndeletableModel):
    """The figures of one locality (a commune or a province itself) for one day: the current revision.

    `province` is the province of the locality (the province itself for a province report), so rollups of a
    (province, day) read one index range.
    """

    locality = models.CharField(_("locality code"), max_length=5)
    # No index of their own (each insert writes every index): report_province_date_idx starts with the
    # province, report_commune_idx is the commune's without the LIKE twin a key to a text column gets.
    province = models.ForeignKey(
        "localities.Province",
        on_delete=models.PROTECT,
        related_name="daily_reports",
        verbose_name=_("province"),
        db_index=False,
    )
    commune = models.ForeignKey(
        "localities.Commune",
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="daily_reports",
        verbose_name=_("commune"),
    )
    # The commune's slot in its province (null for a province's own report), copied at insert so the rollup
    # records who reported as a bitmap in the same pass as the sums, without a join per report.
    slot = models.PositiveSmallIntegerField(_("slot"), null=True, blank=True)
    date = models.DateField(_("date"))
    outage_systems = models.JSONField(_("systems down"), default=list, blank=True)
    difficulties = models.TextField(_("difficulties"), blank=True)
    proposals = models.TextField(_("proposals"), blank=True)
    support_needed = models.BooleanField(_("support needed"), default=False)
    # The version of the form in force on the report's day (null: the default form's fixture, version 1), and
    # the values of its indicators that are no series of the default form ({series: value}; null for a report
    # of the default form, whose figures are all columns). A correction keeps the version.
    form_version = models.ForeignKey(
        FormVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("form version"),
        db_index=False,
    )
    extra = models.JSONField(_("other indicators"), null=True, blank=True)

    # Stable for the same content: derived from locality, date and the canonical payload hash.
    receipt = models.CharField(_("receipt"), max_length=40)
    payload_hash = models.CharField(_("payload hash"), max_length=64)
    revision = models.PositiveIntegerField(_("revision"), default=1)
    # Received after the due time (REPORT_DUE_HOUR of the next day); decided at the first submission.
    late = models.BooleanField(_("late"), default=False)
    received_at = models.DateTimeField(_("first received at"))
    updated_at = models.DateTimeField(_("last changed at"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    client = models.ForeignKey(
        ApiClient,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reports",
        verbose_name=_("API client"),
    )

    objects = DailyReportQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "locality"]
        verbose_name = _("daily report")
        verbose_name_plural = _("daily reports")
        constraints = [
            # The service relies on this under concurrency: two submissions of one report give one row.
            models.UniqueConstraint(fields=["locality", "date"], name="daily_report_locality_date_uniq"),
            # The default form's relations and maximums (reports.figures), for every SQL client too. A report of
            # another version (its `extra` set) is held to that version's rules by the validator: a series the
            # version dropped is stored as 0, which the default form's relations would misjudge.
            models.CheckConstraint(
                condition=Q(extra__isnull=False) | figure_relations(), name="daily_report_figure_relations"
            ),
        ]
        indexes = [
            # Rollup of one (province, day) and the province's completeness.
            models.Index(fields=["province", "date"], name="report_province_date_idx"),
            # National list by day and the date filters of the API.
            models.Index(fields=["date"], name="daily_report_date_idx"),
            # A commune's reports.
            models.Index(fields=["commune"], name="report_commune_idx"),
        ]

    def __str__(self):
        return f"{self.locality} {self.date}"

    @property
    def derived(self):
        """received_total, resolved_total and the three rates of §5 (None on a zero denominator)."""
        return figures.rates(self.figures())

    def figures(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in INTEGER_FIELDS}

    @property
    def received_total(self):
        return figures.received_total(self.figures())

    @property
    def resolved_total(self):
        return figures.resolved_total(self.figures())

    @property
    def rates(self):
        return figures.rate_block(self.figures())


class ReportRevision(UndeletableModel):
    """Every accepted version of a report (the first submission is revision 1), never changed."""

    # Its index is report_revision_number_uniq's (report, number).
    report = models.ForeignKey(
        DailyReport, on_delete=models.PROTECT, related_name="revisions", verbose_name=_("report"), db_index=False
    )
    number = models.PositiveIntegerField(_("revision"))
    payload = models.JSONField(_("payload"))
    payload_hash = models.CharField(_("payload hash"), max_length=64)
    receipt = models.CharField(_("receipt"), max_length=40)
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("time"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("author"),
    )
    client = models.ForeignKey(
        ApiClient, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("API client")
    )

    objects = UndeletableQuerySet.as_manager()

    class Meta:
        ordering = ["report", "number"]
        verbose_name = _("report revision")
        verbose_name_plural = _("report revisions")
        constraints = [
            models.UniqueConstraint(fields=["report", "number"], name="report_revision_number_uniq"),
        ]

    def __str__(self):
        return f"{self.report} r{self.number}"


class LockException(models.Model):
    """A province officer's permission for one locality to submit or correct a report past the lock window."""

    locality = models.CharField(_("locality code"), max_length=5)
    date = models.DateField(_("date"))
    reason = models.TextField(_("reason"), blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("granted by")
    )
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)

    class Meta:
        ordering = ["-date", "locality"]
        verbose_name = _("lock exception")
        verbose_name_plural = _("lock exceptions")
        constraints = [
            models.UniqueConstraint(fields=["locality", "date"], name="lock_exception_locality_date_uniq"),
        ]

    def __str__(self):
        return f"{self.locality} {self.date}"


class RollupRequest(models.Model):
    """The outbox of intake: a (province, day) whose rollup must be rebuilt, written in the same transaction
    as the report that changed it (reports.outbox) and deleted by the rebuild (dashboards.rollups). If the
    broker is down when the job is enqueued, the row stays and the catch-up job rebuilds it later, so no
    accepted report is left out of the dashboards. `requested_at` is the first request still pending: a
    request that has waited longer than the catch-up's bound is picked up whatever keeps arriving."""

    # Its index is rollup_request_province_date_uniq's (province, date).
    province = models.ForeignKey("localities.Province", on_delete=models.CASCADE, related_name="+", db_index=False)
    date = models.DateField()
    requested_at = models.DateTimeField()
    # The transaction that wrote the request last (PostgreSQL; NULL on SQLite): a rebuild deletes only the
    # requests whose last writer its snapshot saw, so it never holds their locks while it aggregates.
    txid = models.BigIntegerField(null=True, db_default=TransactionId(), editable=False)

    class Meta:
        ordering = ["requested_at"]
        verbose_name = _("pending rollup")
        verbose_name_plural = _("pending rollups")
        constraints = [
            models.UniqueConstraint(fields=["province", "date"], name="rollup_request_province_date_uniq"),
        ]

    def __str__(self):
        return f"{self.province_id} {self.date}"


# --- data quality and approval (DESIGN.md §11) ---------------------------------------------------------------


class QualityBand(models.Model):
    """The usual range of one indicator of one locality: median ± k × MAD over its last N reported days, or
    over its province's communes in the same days when its own history is short or flat (reports.quality).
    Rebuilt by a set-based job, nightly and after a correction; the POST only reads it."""

    class Source(models.TextChoices):
        OWN = "own", _("own history")
        PEERS = "peers", _("the province's communes")

    # Its index is quality_band_locality_indicator_uniq's (locality, indicator): the POST reads a locality's.
    locality = models.CharField(_("locality code"), max_length=5)
    province = models.ForeignKey(
        "localities.Province", on_delete=models.CASCADE, related_name="+", verbose_name=_("province"), db_index=False
    )
    indicator = models.CharField(_("indicator"), max_length=40)
    median = models.FloatField(_("median"))
    mad = models.FloatField(_("median absolute deviation"))
    low = models.FloatField(_("lowest expected"))
    high = models.FloatField(_("highest expected"))
    days = models.PositiveIntegerField(_("values"))
    source = models.CharField(_("source"), max_length=5, choices=Source.choices)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        ordering = ["locality", "indicator"]
        verbose_name = _("quality band")
        verbose_name_plural = _("quality bands")
        constraints = [
            models.UniqueConstraint(fields=["locality", "indicator"], name="quality_band_locality_indicator_uniq"),
        ]

    def __str__(self):
        return f"{self.locality} {self.indicator} [{self.low:g}, {self.high:g}]"


class QualityWarningQuerySet(LocalityScoped, models.QuerySet):
    """Seen as the reports are (LocalityScoped)."""


class QualityWarning(models.Model):
    """A figure of a report outside its locality's usual range (DESIGN.md §11): accepted, and waiting for the
    clerk's explanation or a correction; the province may confirm it or flag it for follow-up."""

    class State(models.TextChoices):
        OPEN = "open", _("waiting")
        EXPLAINED = "explained", _("explained")
        CORRECTED = "corrected", _("corrected")
        CONFIRMED = "confirmed", _("confirmed by the province")

    report = models.ForeignKey(
        DailyReport,
        on_delete=models.CASCADE,
        related_name="quality_warnings",
        verbose_name=_("report"),
        db_index=False,
    )
    locality = models.CharField(_("locality code"), max_length=5)
    province = models.ForeignKey(
        "localities.Province", on_delete=models.PROTECT, related_name="+", verbose_name=_("province"), db_index=False
    )
    commune = models.ForeignKey(
        "localities.Commune",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("commune"),
        db_index=False,
    )
    date = models.DateField(_("date"))
    code = models.CharField(_("code"), max_length=40, default="outlier")
    indicator = models.CharField(_("indicator"), max_length=40)
    value = models.BigIntegerField(_("value"))
    expected_low = models.FloatField(_("lowest expected"))
    expected_high = models.FloatField(_("highest expected"))
    median = models.FloatField(_("median"))
    # |value − median| (a warning rule: the gap to its bound, reports.quality.rule_gap): how far the figure
    # moves the national total; the queue's order.
    effect = models.FloatField(_("effect on the total"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    explanation = models.TextField(_("explanation"), blank=True)
    explained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("explained by"),
    )
    explained_client = models.ForeignKey(
        ApiClient, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("explained by key")
    )
    explained_at = models.DateTimeField(_("explained at"), null=True, blank=True)
    follow_up = models.BooleanField(_("follow up"), default=False)
    # Who closed it (confirmed it, or corrected the report) and when.
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("closed by"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("raised at"))

    objects = QualityWarningQuerySet.as_manager()

    class Meta:
        ordering = ["-effect", "-date", "locality", "indicator"]
        verbose_name = _("quality warning")
        verbose_name_plural = _("quality warnings")
        constraints = [
            models.UniqueConstraint(fields=["report", "code", "indicator"], name="quality_warning_report_uniq"),
        ]
        indexes = [
            # The province's queue: its warnings in a state, biggest effect first.
            models.Index(fields=["province", "state", "-effect"], name="quality_warning_queue_idx"),
            # The approval page: a day's open warnings.
            models.Index(fields=["date", "state"], name="quality_warning_date_idx"),
        ]

    def __str__(self):
        return f"{self.locality} {self.date} {self.indicator}"


class ApprovalQuerySet(LocalityScoped, UndeletableQuerySet):
    COMMUNE = "locality"  # seen as the reports are; a commune's approval names it by its code

    def active(self) -> "ApprovalQuerySet":
        return self.filter(withdrawn_at__isnull=True)


class ReportApproval(UndeletableModel):
    """The province's approval of one daily report (DESIGN.md §11): who and when; and, once withdrawn, who,
    when and why. A report has at most one approval in force; approving it again after a withdrawal is a new
    row, so the rows are the report's approval history and are never deleted."""

    report = models.ForeignKey(
        DailyReport, on_delete=models.CASCADE, related_name="approvals", verbose_name=_("report"), db_index=False
    )
    locality = models.CharField(_("locality code"), max_length=5)
    province = models.ForeignKey(
        "localities.Province", on_delete=models.PROTECT, related_name="+", verbose_name=_("province"), db_index=False
    )
    date = models.DateField(_("date"))
    # The revision approved: a correction needs a withdrawal first, so it stays the report's revision.
    revision = models.PositiveIntegerField(_("revision"))
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("approved by")
    )
    approved_at = models.DateTimeField(_("approved at"))
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("withdrawn by"),
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    reason = models.TextField(_("reason for withdrawal"), blank=True)

    objects = ApprovalQuerySet.as_manager()

    class Meta:
        ordering = ["-approved_at"]
        verbose_name = _("report approval")
        verbose_name_plural = _("report approvals")
        constraints = [
            # Two officers approving one report at once: one approval in force, the other already_approved.
            models.UniqueConstraint(
                fields=["report"], condition=Q(withdrawn_at__isnull=True), name="report_approval_one_active"
            ),
        ]
        indexes = [
            # A report's approvals (its history, the correction's check).
            models.Index(fields=["report"], name="report_approval_report_idx"),
            # Approved reports of a day, by province (the coverage lines, the approval page).
            models.Index(fields=["date", "province"], name="report_approval_date_idx"),
        ]

    def __str__(self):
        return f"{self.locality} {self.date} r{self.revision}"
