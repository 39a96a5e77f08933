"""Sent after commit by every step of support.services; support.receivers queues the job that tells people
(support.jobs.incidents_notify), so the services need not import the jobs that call them."""

from django.dispatch import Signal

incidents_changed = Signal()  # no kwargs
