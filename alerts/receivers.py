"""The alerts app's door from below: the task workflow announces changed assignments (tasks.signals); their
alerts whose condition ended (completed, updated, unblocked) close at once. New alerts wait for the run, which
tells people once per run. Reports need no receiver: the run that follows the due hour closes the streaks a
report ended, and the missing-reports page reads the reports themselves."""

from django.dispatch import receiver

from alerts.services.runs import alerts_close_completed, alerts_close_ended
from tasks.signals import assignments_changed, work_items_changed


@receiver(assignments_changed, dispatch_uid="alerts.close_ended")
def close_ended(sender, *, assignment_ids, **kwargs):
    alerts_close_ended(assignment_ids=assignment_ids)


@receiver(work_items_changed, dispatch_uid="alerts.close_completed")
def close_completed(sender, *, kind, ids, **kwargs):
    alerts_close_completed(kind=kind, ids=ids)
