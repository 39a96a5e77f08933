"""What intake announces to the apps above it (which it may not import).

`rollups_requested` is sent after the transaction that accepted or corrected reports commits, with the
(province code, date) pairs whose RollupRequest row is new: each needs a rebuild job. Pairs whose request
was already pending are not sent, because the job queued for them will include these reports too
(reports.outbox). The dashboards app connects to it in its AppConfig and enqueues the jobs.
"""

from django.dispatch import Signal

rollups_requested = Signal()  # kwargs: pairs (sorted list of (province code, datetime.date))
