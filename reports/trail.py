"""Intake's events in the audit trail (core.trail): each report's submission and corrections (its revisions),
API keys issued and revoked, lock exceptions granted, approvals given and withdrawn, quality warnings explained
and confirmed (DESIGN.md §11); and the records django-auditlog keeps field by field."""

from django.db import models
from django.db.models import Case, Q, When
from django.db.models.functions import Cast, Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import trail
from reports.models import (
    ApiClient,
    FormVersion,
    LockException,
    QualityWarning,
    ReportApproval,
    ReportForm,
    ReportRevision,
)


def _describe_revision(row: trail.Row) -> trail.Description:
    details = row.details
    day = str(details.get("date") or row.label)[:10]
    return trail.Description(
        object_type="report",
        label=day,
        summary=_("revision %(number)s, receipt %(receipt)s")
        % {"number": details.get("number"), "receipt": details.get("receipt")},
        note=details.get("reason") or "",
        url=trail.link("reports:detail", row.code, day),
    )


def _describe_key(row: trail.Row) -> trail.Description:
    details = row.details
    if details.get("kind") == ApiClient.Kind.NATIONAL:
        summary = _("national key %(prefix)s… (%(name)s)") % {"prefix": row.code, "name": details.get("name")}
    else:
        summary = _("key %(prefix)s… of %(locality)s (%(name)s)") % {
            "prefix": row.code,
            "locality": details.get("locality"),
            "name": details.get("name"),
        }
    return trail.Description(object_type="api_client", summary=summary)


def _describe_exception(row: trail.Row) -> trail.Description:
    return trail.Description(
        object_type="lock_exception",
        summary=_("%(locality)s may send or correct its report of %(date)s past the lock window")
        % {"locality": row.code, "date": row.label},
        note=row.details.get("reason") or "",
    )


def _describe_approval(row: trail.Row) -> trail.Description:
    details = row.details
    day = str(details.get("date") or row.label)[:10]
    if row.kind == APPROVAL_WITHDRAWN.code:
        summary = _("approval of the report of %(date)s withdrawn") % {"date": day}
    else:
        summary = _("report of %(date)s approved (revision %(revision)s)") % {
            "date": day,
            "revision": details.get("revision"),
        }
    return trail.Description(
        object_type="report",
        label=day,
        summary=summary,
        note=details.get("reason") or "",
        url=trail.link("reports:detail", row.code, day),
    )


def _describe_warning(row: trail.Row) -> trail.Description:
    details = row.details
    day = str(details.get("date") or row.label)[:10]
    return trail.Description(
        object_type="quality_warning",
        label=day,
        summary=_("%(indicator)s = %(value)s on %(date)s")
        % {
            "indicator": details.get("indicator"),
            "value": details.get("value"),
            "date": day,
        },
        note=details.get("explanation") or "",
        url=trail.link("reports:detail", row.code, day),
    )


def _describe_form_version(row: trail.Row) -> trail.Description:
    details = row.details
    return trail.Description(
        object_type="form_version",
        label=row.code,
        summary=_("form %(form)s version %(number)s (%(status)s) in force from %(date)s, from %(file)s")
        % {
            "form": row.code,
            "number": details.get("number"),
            "status": dict(ReportForm.Status.choices).get(str(details.get("status")), details.get("status")),
            "date": str(details.get("effective_from"))[:10],
            "file": details.get("source_file") or "—",
        },
    )


FORM_IMPORTED = trail.Kind("form_imported", gettext_lazy("report form version imported"), _describe_form_version)
REPORT_SUBMITTED = trail.Kind("report_submitted", gettext_lazy("report submitted"), _describe_revision)
REPORT_CORRECTED = trail.Kind("report_corrected", gettext_lazy("report corrected"), _describe_revision)
KEY_ISSUED = trail.Kind("key_issued", gettext_lazy("API key issued"), _describe_key)
KEY_REVOKED = trail.Kind("key_revoked", gettext_lazy("API key revoked"), _describe_key)
LOCK_EXCEPTION = trail.Kind("lock_exception", gettext_lazy("lock exception granted"), _describe_exception)
REPORT_APPROVED = trail.Kind("report_approved", gettext_lazy("report approved"), _describe_approval)
APPROVAL_WITHDRAWN = trail.Kind("approval_withdrawn", gettext_lazy("approval withdrawn"), _describe_approval)
WARNING_EXPLAINED = trail.Kind("warning_explained", gettext_lazy("unusual figure explained"), _describe_warning)
WARNING_CONFIRMED = trail.Kind(
    "warning_confirmed", gettext_lazy("unusual figure confirmed by the province"), _describe_warning
)


def register() -> None:
    """Called by the reports app's ready()."""
    key_data = trail.data(name="name", locality=Coalesce("commune_id", "province_id"), kind="kind")
    key_locality = Coalesce("commune_id", "province_id")
    key_codes = ("key_prefix", "commune__code", "province__code")
    trail.register(
        trail.TrailSource(
            kinds=(REPORT_SUBMITTED, REPORT_CORRECTED),
            queryset=ReportRevision.objects.all(),
            time="created_at",
            actors=("author__username", "client__key_prefix"),
            codes=("report__locality", "receipt"),
            only={REPORT_SUBMITTED.code: Q(number=1), REPORT_CORRECTED.code: Q(number__gt=1)},
            columns=trail.columns(
                at="created_at",
                kind=Case(
                    When(number=1, then=trail.literal(REPORT_SUBMITTED.code)),
                    default=trail.literal(REPORT_CORRECTED.code),
                ),
                user="author__username",
                client_prefix="client__key_prefix",
                client_name="client__name",
                object_id="report_id",
                object_code="report__locality",
                object_label=Cast("report__date", output_field=models.TextField()),
                data=trail.data(number="number", receipt="receipt", reason="reason", date="report__date"),
            ),
        ),
        trail.TrailSource(
            kinds=(KEY_ISSUED,),
            queryset=ApiClient.objects.all(),
            time="created_at",
            actors=("created_by__username",),
            codes=key_codes,
            words=("name",),
            columns=trail.columns(
                at="created_at",
                kind=KEY_ISSUED,
                user="created_by__username",
                object_id="pk",
                object_code="key_prefix",
                object_label=key_locality,
                data=key_data,
            ),
        ),
        trail.TrailSource(
            kinds=(KEY_REVOKED,),
            queryset=ApiClient.objects.filter(revoked_at__isnull=False),
            time="revoked_at",
            actors=("revoked_by__username",),
            codes=key_codes,
            words=("name",),
            columns=trail.columns(
                at="revoked_at",
                kind=KEY_REVOKED,
                user="revoked_by__username",
                object_id="pk",
                object_code="key_prefix",
                object_label=key_locality,
                data=key_data,
            ),
        ),
        trail.TrailSource(
            kinds=(LOCK_EXCEPTION,),
            queryset=LockException.objects.all(),
            time="granted_at",
            actors=("granted_by__username",),
            codes=("locality",),
            columns=trail.columns(
                at="granted_at",
                kind=LOCK_EXCEPTION,
                user="granted_by__username",
                object_id="pk",
                object_code="locality",
                object_label=Cast("date", output_field=models.TextField()),
                data=trail.data(date="date", reason="reason"),
            ),
        ),
        trail.TrailSource(
            kinds=(REPORT_APPROVED,),
            queryset=ReportApproval.objects.all(),
            time="approved_at",
            actors=("approved_by__username",),
            codes=("locality",),
            columns=trail.columns(
                at="approved_at",
                kind=REPORT_APPROVED,
                user="approved_by__username",
                object_id="report_id",
                object_code="locality",
                object_label=Cast("date", output_field=models.TextField()),
                data=trail.data(date="date", revision="revision"),
            ),
        ),
        trail.TrailSource(
            kinds=(APPROVAL_WITHDRAWN,),
            queryset=ReportApproval.objects.filter(withdrawn_at__isnull=False),
            time="withdrawn_at",
            actors=("withdrawn_by__username",),
            codes=("locality",),
            words=("reason",),
            columns=trail.columns(
                at="withdrawn_at",
                kind=APPROVAL_WITHDRAWN,
                user="withdrawn_by__username",
                object_id="report_id",
                object_code="locality",
                object_label=Cast("date", output_field=models.TextField()),
                data=trail.data(date="date", revision="revision", reason="reason"),
            ),
        ),
        trail.TrailSource(
            kinds=(WARNING_EXPLAINED,),
            queryset=QualityWarning.objects.filter(explained_at__isnull=False),
            time="explained_at",
            actors=("explained_by__username", "explained_client__key_prefix"),
            codes=("locality", "indicator"),
            words=("explanation",),
            columns=trail.columns(
                at="explained_at",
                kind=WARNING_EXPLAINED,
                user="explained_by__username",
                client_prefix="explained_client__key_prefix",
                client_name="explained_client__name",
                object_id="report_id",
                object_code="locality",
                object_label=Cast("date", output_field=models.TextField()),
                data=trail.data(date="date", indicator="indicator", value="value", explanation="explanation"),
            ),
        ),
        trail.TrailSource(
            kinds=(WARNING_CONFIRMED,),
            queryset=QualityWarning.objects.filter(state=QualityWarning.State.CONFIRMED, closed_at__isnull=False),
            time="closed_at",
            actors=("closed_by__username",),
            codes=("locality", "indicator"),
            columns=trail.columns(
                at="closed_at",
                kind=WARNING_CONFIRMED,
                user="closed_by__username",
                object_id="report_id",
                object_code="locality",
                object_label=Cast("date", output_field=models.TextField()),
                data=trail.data(date="date", indicator="indicator", value="value", explanation="explanation"),
            ),
        ),
    )
    trail.register(
        trail.TrailSource(
            kinds=(FORM_IMPORTED,),
            queryset=FormVersion.objects.all(),
            time="imported_at",
            actors=("imported_by",),
            codes=("form__code",),
            words=("source_file",),
            columns=trail.columns(
                at="imported_at",
                kind=FORM_IMPORTED,
                user="imported_by",
                object_id="pk",
                object_code="form__code",
                object_label=Cast("number", output_field=models.TextField()),
                data=trail.data(
                    number="number", status="status", effective_from="effective_from", source_file="source_file"
                ),
            ),
        ),
    )
    trail.keep_changes(
        # Issued and revoked keys are events of their own (above); this records edits and deletions. The key's
        # hash never reaches the trail.
        trail.KeptModel(ApiClient, exclude=("key_hash", "last_used_at"), created_by_own_event=True),
        trail.KeptModel(LockException, created_by_own_event=True),
    )
