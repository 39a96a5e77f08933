"""Applying a checked contacts import (alerts.contacts plans it)."""

from pathlib import Path

from django.db import transaction
from django.utils import timezone

from alerts.contacts import ContactPlan
from alerts.models import Contact, ContactImport


def contacts_import(*, plan: ContactPlan, imported_by: str, filename: str) -> ContactImport:
    """Write a checked contacts plan in one transaction (all rows, or nothing) and its audit row."""
    if not plan.ok:
        raise ValueError("cannot apply a plan with errors")
    with transaction.atomic():
        for row in plan.rows:
            if row.action == "create":
                Contact.objects.create(**row.unit, **row.values)
            elif row.action == "update" and row.contact_id is not None:
                Contact.objects.filter(pk=row.contact_id).update(**row.values, updated_at=timezone.now())
        return ContactImport.objects.create(
            imported_by=imported_by[:150],
            filename=Path(filename).name[:300],
            checksum=plan.checksum,
            created=plan.count("create"),
            updated=plan.count("update"),
            unchanged=plan.count("unchanged"),
        )
