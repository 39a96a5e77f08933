"""The dashboards' events in the audit trail (core.trail): meetings frozen and target values entered; and the
records django-auditlog keeps field by field (targets, rollup alarms marked resolved)."""

from django.db import models
from django.db.models.functions import Cast
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import trail
from dashboards.models import Meeting, RollupAlarm, Target, TargetValue
from localities.models import Commune, Province


def _describe_meeting(row: trail.Row) -> trail.Description:
    return trail.Description(
        object_type="meeting",
        summary=_("the state as of %(date)s, frozen") % {"date": row.label},
        url=trail.link("dashboard:meeting", row.object_id),
    )


def _describe_value(row: trail.Row) -> trail.Description:
    details = row.details
    summary = _("value %(value)s measured on %(date)s") % {
        "value": details.get("value"),
        "date": details.get("measured_on"),
    }
    if details.get("province"):
        summary += " · " + str(details["province"])
    return trail.Description(
        object_type="target",
        summary=summary,
        note=details.get("note") or "",
        url=trail.link("dashboard:target", row.code),
    )


MEETING_FROZEN = trail.Kind("meeting_frozen", gettext_lazy("meeting frozen"), _describe_meeting)
TARGET_VALUE = trail.Kind("target_value", gettext_lazy("target value entered"), _describe_value)


def register() -> None:
    """Called by the dashboards app's ready()."""
    trail.register(
        trail.TrailSource(
            kinds=(MEETING_FROZEN,),
            queryset=Meeting.objects.all(),
            time="created_at",
            actors=("created_by__username",),
            words=("title",),
            columns=trail.columns(
                at="created_at",
                kind=MEETING_FROZEN,
                user="created_by__username",
                object_id="pk",
                object_code="title",
                object_label=Cast("date", output_field=models.TextField()),
                data=trail.data(date="date"),
            ),
        ),
        trail.TrailSource(
            kinds=(TARGET_VALUE,),
            queryset=TargetValue.objects.all(),
            time="entered_at",
            actors=("entered_by__username",),
            codes=("target__code", "province__code"),
            columns=trail.columns(
                at="entered_at",
                kind=TARGET_VALUE,
                user="entered_by__username",
                object_id="target_id",
                object_code="target__code",
                object_label="province_id",
                data=trail.data(
                    value="value",
                    measured_on="measured_on",
                    province="province_id",
                    note="note",
                    evidence_url="evidence_url",
                ),
            ),
        ),
    )
    trail.keep_changes(
        trail.KeptModel(Target),
        trail.KeptModel(RollupAlarm),  # marked resolved by an admin: who and when
    )
    # A province's or a commune's changes link to its dashboard.
    trail.show_records(Province, "dashboard:province")
    trail.show_records(Commune, "dashboard:commune")
