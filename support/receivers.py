"""The operations desk's door from below: reports announce, after commit, the (province, day) pairs whose
rollups must be rebuilt (reports.signals.rollups_requested) — sent whenever reports are accepted or corrected.
The reports of those pairs that asked for support and have no incident yet get one at once. A pair already
pending is not announced again; the check job's sweep (every 5 minutes) opens those incidents then.

After a step of the desk (support.signals.incidents_changed), the job that tells people is queued — once for
the steps made while it is pending."""

import logging

from django.db.models import Q
from django.dispatch import receiver

from reports.models import DailyReport
from reports.signals import rollups_requested
from support import jobs
from support.services import incidents_open_for_reports, notify_request, notify_take
from support.signals import incidents_changed

logger = logging.getLogger(__name__)


@receiver(rollups_requested, dispatch_uid="support.open_incidents")
def open_incidents(sender, *, pairs, **kwargs):
    if not pairs:
        return
    # One query for all the pairs (on report_province_date_idx).
    where = Q()
    for province, day in pairs:
        where |= Q(province_id=province, date=day)
    ids = list(
        DailyReport.objects.filter(where, support_needed=True, incident__isnull=True).values_list("pk", flat=True)
    )
    if ids:
        incidents_open_for_reports(report_ids=ids)


@receiver(incidents_changed, dispatch_uid="support.notify")
def notify(sender, **kwargs):
    """One job for the steps made while it is pending (support.models.NotifyRequest), not one per step."""
    if not notify_request():
        return
    try:
        jobs.incidents_notify.apply_async(kwargs={"only_if_requested": True}, countdown=jobs.NOTIFY_DELAY)
    except Exception:
        # The broker is unreachable: give the request back, so the next step tries again (and the check on
        # the beat tells people meanwhile).
        notify_take()
        logger.warning("broker unreachable: the desk's notifications left to the check", exc_info=True)
