"""The administrative units in the audit trail (core.trail): provinces and communes edited in the admin are
kept field by field by django-auditlog."""

from core import trail
from localities.models import Commune, Province


def register() -> None:
    """Called by the localities app's ready()."""
    trail.keep_changes(trail.KeptModel(Province), trail.KeptModel(Commune))
