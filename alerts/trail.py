"""The early warning in the audit trail (core.trail): accountable heads and focal points edited in the admin
are kept field by field (a contacts import has its own audit row)."""

from alerts.models import Contact
from core import trail


def register() -> None:
    """Called by the alerts app's ready()."""
    trail.keep_changes(trail.KeptModel(Contact, exclude=("updated_at",)))
