"""Building daily reports directly in tests of the rollups (the submission service has its own tests)."""

import datetime
import random

from django.utils import timezone

from reports.figures import INTEGER_FIELDS
from reports.models import DailyReport
from reports.receipts import payload_hash, receipt_for


def figures(rng=None, **overrides):
    rng = rng or random.Random(1)
    online = rng.randint(0, 40)
    issued = rng.randint(0, 20)
    values = {f: rng.randint(0, 30) for f in INTEGER_FIELDS}
    values.update(
        received_online=online,
        received_fully_online=rng.randint(0, online),
        staff_assigned=10,
        staff_present=rng.randint(0, 10),
        staff_with_digital_signature=rng.randint(0, 10),
        documents_issued=issued,
        documents_e_signed=rng.randint(0, issued),
        outage_minutes=rng.randint(0, 60),
    )
    values.update(overrides)
    return values


def make_report(locality, day, *, late=False, support_needed=False, rng=None, **overrides):
    from localities.models import Commune

    if len(locality) == 5:
        province_id, slot = Commune.objects.values_list("province_id", "slot").get(code=locality)
        commune_id = locality
    else:
        province_id, commune_id, slot = locality, None, None
    values = figures(rng, **overrides)
    payload = {"locality": locality, "date": day.isoformat(), **values}
    digest = payload_hash(payload)
    now = timezone.now()
    return DailyReport.objects.create(
        locality=locality,
        province_id=province_id,
        commune_id=commune_id,
        slot=slot,
        date=day,
        late=late,
        support_needed=support_needed,
        difficulties="x" if support_needed else "",
        receipt=receipt_for(digest),
        payload_hash=digest,
        received_at=now,
        updated_at=now,
        **values,
    )


def yesterday():
    return timezone.localdate() - datetime.timedelta(days=1)
