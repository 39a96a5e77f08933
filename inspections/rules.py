"""The follow-up items' alert rules (DESIGN.md §8, §13), with the classes of alerts.work_items: near the
deadline the inspected unit's users are told; overdue, its users and its accountable head, and the inspector who
recorded the finding. Registered from inspections.apps, as every app above alerts registers its own."""

from django.utils.translation import gettext_lazy as _

from alerts.specs import AlertRule, Evaluation
from alerts.work_items import (
    INSPECTOR,
    OWNER_HEAD,
    OWNER_USERS,
    ItemDeadline,
    ItemOverdue,
    ItemState,
    ItemSubject,
    status_at,
)
from inspections.models import FollowUp, FollowUpUpdate
from tasks.models import AssignmentStatus


class FollowUpSubject(ItemSubject):
    code = "followup"
    label = _("follow-up item")
    url_name = "inspections:followup"

    def states(self, evaluation: Evaluation) -> list[ItemState]:
        rows = status_at(FollowUp.objects.all(), FollowUpUpdate, "followup", evaluation.before).values_list(
            "pk",
            "deadline",
            "status_now",
            "commune_id",
            "province_id",
            "agency_id",
            "finding__inspection__inspector_id",
        )
        return [ItemState(*row) for row in rows.order_by()]

    def completed(self, ids: list[int]) -> list[int]:
        return list(FollowUp.objects.filter(pk__in=ids, status=AssignmentStatus.COMPLETED).values_list("pk", flat=True))


FOLLOWUP = FollowUpSubject()


class FollowUpDeadlineEarly(ItemDeadline):
    code = "followup_deadline_7d"
    label = _("follow-up deadline approaching: early warning")
    subject = FOLLOWUP
    early = True


class FollowUpDeadlineLast(ItemDeadline):
    code = "followup_deadline_1d"
    label = _("follow-up deadline approaching: last warning")
    subject = FOLLOWUP
    early = False


class FollowUpOverdue(ItemOverdue):
    code = "followup_overdue"
    label = _("follow-up item overdue")
    subject = FOLLOWUP
    audiences = (OWNER_USERS, OWNER_HEAD, INSPECTOR)


RULES: tuple[AlertRule, ...] = (FollowUpDeadlineEarly(), FollowUpDeadlineLast(), FollowUpOverdue())
