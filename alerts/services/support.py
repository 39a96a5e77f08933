"""Closing a report's request for support (DESIGN.md §8): a province officer writes the resolution the commune's
clerk reads, and the request's alert closes."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alerts.models import Alert, SupportResolution
from alerts.rules import Rule
from alerts.services.runs import close_alerts
from reports.models import DailyReport
from tasks.scoping import scope_for_user


class SupportCloseNotAllowed(PermissionDenied):
    """The user may see the request but not close it (403), or may not see it (404: `visible` False)."""

    def __init__(self, *, visible: bool) -> None:
        self.visible = visible
        super().__init__(_("Only the province's officers close its support requests."))


class SupportAlreadyClosed(Exception):
    code = "already_closed"

    def __init__(self, resolution: SupportResolution) -> None:
        self.resolution = resolution
        super().__init__(f"support request {resolution.report_id} is already closed")


RESOLUTION_MAX = 2000


def support_request_close(*, report: DailyReport, user: Any, resolution: str) -> SupportResolution:
    """Close a report's request for support with the resolution the commune's clerk will read, and close its
    alert. Only an officer of the report's province may. Raises SupportCloseNotAllowed (403/404),
    ValidationError naming `resolution` (400) or SupportAlreadyClosed (409)."""
    scope = scope_for_user(user)
    if not DailyReport.objects.visible_to(scope).filter(pk=report.pk, support_needed=True).exists():
        raise SupportCloseNotAllowed(visible=False)
    if not (scope.is_province and report.province_id == scope.province_id):
        raise SupportCloseNotAllowed(visible=True)
    text = (resolution or "").strip()
    if not text:
        raise ValidationError({"resolution": ValidationError(_("Say how the request was resolved."), code="required")})
    if len(text) > RESOLUTION_MAX:
        raise ValidationError(
            {
                "resolution": ValidationError(
                    _("At most %(max)s characters."), code="max_length", params={"max": RESOLUTION_MAX}
                )
            }
        )
    now = timezone.now()
    with transaction.atomic():
        try:
            # Race: two officers closing the same request at once. The report is the primary key: the second
            # insert fails and is told who closed it first.
            with transaction.atomic():
                closed = SupportResolution.objects.create(report=report, resolution=text, closed_by=user, closed_at=now)
        except IntegrityError:
            raise SupportAlreadyClosed(SupportResolution.objects.select_related("closed_by").get(report=report))
        close_alerts(Alert.objects.filter(rule=Rule.SUPPORT_NEEDED, report=report), now=now)
    return closed


def support_request_answer(*, report_id: int, user: Any, resolution: str, now: Any) -> bool:
    """The operations desk resolved the incident a report's request for support opened (support.services.
    incident_resolve): the request is answered with that resolution, by that person, and its alert closes —
    once: a request already closed (by a province officer through §8, or by an earlier resolution of the same
    incident) is left as it is. The desk's own rules decided who may resolve; runs inside its transaction.
    Returns whether this call closed the request."""
    if not DailyReport.objects.filter(pk=report_id, support_needed=True).exists():
        return False
    try:
        with transaction.atomic():
            SupportResolution.objects.create(report_id=report_id, resolution=resolution, closed_by=user, closed_at=now)
    except IntegrityError:
        return False
    close_alerts(Alert.objects.filter(rule=Rule.SUPPORT_NEEDED, report_id=report_id), now=now)
    return True
