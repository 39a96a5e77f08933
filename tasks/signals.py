"""What the tasks app announces to the apps above it (which it may not import).

`assignments_changed` is sent after the transaction that changed assignments commits, with the ids of the
assignments. The dashboards app rebuilds its task snapshots from it (coalesced), the alerts app may close
alerts whose condition ended. Receivers must not raise: the change is committed whatever they do.
"""

from collections.abc import Iterable

from django.db import transaction
from django.dispatch import Signal

assignments_changed = Signal()  # kwargs: assignment_ids (list of int)
# The same for the other workflow items (sub-tasks here, follow-up items of inspections): the alerts app closes
# the alerts of those completed.
work_items_changed = Signal()  # kwargs: kind ("subtask", "followup"), ids (list of int)


def assignments_changed_after_commit(assignment_ids: Iterable[int]) -> None:
    """Call inside the transaction that changes the assignments."""
    ids = sorted(set(assignment_ids))
    if ids:
        # send_robust: a receiver's failure is logged (logger django.dispatch, which reaches the admins) and the
        # other receivers still run; it never turns a committed change into an error answer.
        transaction.on_commit(lambda: assignments_changed.send_robust(sender=None, assignment_ids=ids))


def work_items_changed_after_commit(kind: str, ids: Iterable[int]) -> None:
    """Call inside the transaction that changes the items of `kind` (an alerts subject kind's code)."""
    changed = sorted(set(ids))
    if changed:
        transaction.on_commit(lambda: work_items_changed.send_robust(sender=None, kind=kind, ids=changed))
