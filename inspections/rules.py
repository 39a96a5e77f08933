"""The follow-up items' alert rules (DESIGN.md §8, §13), with the classes of alerts.work_items: near the
deadline the inspected unit's users are told; overdue, its users and its accountable head, and the inspector who
recorded the finding; blocked, the party that blocks it, as for an assignment. Registered from inspections.apps,
as every app above alerts registers its own."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from alerts.specs import AlertRule, Evaluation
from alerts.work_items import (
    AGENCY_HEAD,
    AGENCY_USERS,
    INSPECTOR,
    OWNER_HEAD,
    OWNER_USERS,
    PROVINCE_HEAD,
    PROVINCE_USERS,
    STATE_COLUMNS,
    SUPPORT_USERS,
    VENDOR_CONTACTS,
    ItemBlocked,
    ItemDeadline,
    ItemOverdue,
    ItemState,
    ItemSubject,
    current_parties,
    item_state,
    state_at,
)
from inspections.models import FollowUp, FollowUpUpdate
from tasks.models import AssignmentStatus


class FollowUpSubject(ItemSubject):
    code = "followup"
    label = _("follow-up item")
    url_name = "inspections:followup"

    def states(self, evaluation: Evaluation) -> list[ItemState]:
        rows = state_at(FollowUp.objects.all(), FollowUpUpdate, evaluation.before).values_list(
            "pk",
            "deadline",
            "status_now",
            "commune_id",
            "province_id",
            "agency_id",
            "finding__inspection__inspector_id",
            *STATE_COLUMNS,
        )
        return [item_state(*row[:7], state=tuple(row[7:])) for row in rows.order_by()]

    def completed(self, ids: list[int]) -> list[int]:
        return list(FollowUp.objects.filter(pk__in=ids, status=AssignmentStatus.COMPLETED).values_list("pk", flat=True))

    def parties(self, ids: list[int]) -> dict[int, tuple[str, Any] | None]:
        return current_parties(FollowUp.objects.filter(pk__in=ids))


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


class FollowUpBlocked(ItemBlocked):
    code = "followup_blocked"
    label = _("follow-up item blocked by an agency")
    subject = FOLLOWUP
    kind = "agency"
    audiences = (AGENCY_USERS,)
    escalation = (AGENCY_HEAD,)


class FollowUpBlockedByProvince(ItemBlocked):
    code = "followup_blocked_province"
    label = _("follow-up item blocked by a province")
    subject = FOLLOWUP
    kind = "province"
    audiences = (PROVINCE_USERS,)
    escalation = (PROVINCE_HEAD,)


class FollowUpBlockedByVendor(ItemBlocked):
    code = "followup_blocked_vendor"
    label = _("follow-up item blocked by a vendor")
    subject = FOLLOWUP
    kind = "vendor"
    audiences = (VENDOR_CONTACTS,)


class FollowUpBlockedBySystem(ItemBlocked):
    code = "followup_blocked_system"
    label = _("follow-up item blocked by a system")
    subject = FOLLOWUP
    kind = "system"
    audiences = (SUPPORT_USERS,)


RULES: tuple[AlertRule, ...] = (
    FollowUpDeadlineEarly(),
    FollowUpDeadlineLast(),
    FollowUpOverdue(),
    FollowUpBlocked(),
    FollowUpBlockedByProvince(),
    FollowUpBlockedByVendor(),
    FollowUpBlockedBySystem(),
)
