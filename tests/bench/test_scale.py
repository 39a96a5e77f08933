"""bench/scale.py's synthetic reporting units: ten times the communes fit their provinces' slots, and the
rollups count them (DESIGN.md §7, how cost grows at 10× the reporting units)."""

import random

import pytest

from bench.scale import DESKS_FIRST_CODE, desks_add
from dashboards.models import ProvinceDayRollup
from dashboards.rollups import communes_by_slot, missing_localities, rollup_rebuild_range
from localities.models import MAX_SLOTS, Commune
from reports.models import DailyReport
from tests.reports.factories import make_report, yesterday

HANOI = "01"


@pytest.mark.django_db
def test_ten_times_the_communes_fit_and_are_counted():
    before = Commune.objects.count()
    hanoi = Commune.objects.filter(province_id=HANOI).count()
    assert desks_add(9) == 9 * before
    assert Commune.objects.count() == 10 * before
    desks = Commune.objects.filter(code__gte=str(DESKS_FIRST_CODE))
    assert desks.count() == 9 * before
    # Every province's slots stay distinct and in range (the bitmap's 28 words), Hà Nội's up to 10× its own.
    slots = list(Commune.objects.filter(province_id=HANOI).values_list("slot", flat=True))
    assert len(slots) == len(set(slots)) == 10 * hanoi and max(slots) < MAX_SLOTS
    day = yesterday()
    rng = random.Random(5)
    last = Commune.objects.filter(province_id=HANOI).order_by("-slot").first()
    reporting = [last.code, *desks.filter(province_id=HANOI).values_list("code", flat=True)[:50]]
    for code in reporting:
        make_report(code, day, rng=rng)
    rollup_rebuild_range(start=day, end=day)
    row = ProvinceDayRollup.objects.get(province_id=HANOI, date=day)
    assert row.communes_received == DailyReport.objects.filter(province_id=HANOI, date=day).count() == 51
    assert row.communes_expected == 10 * hanoi
    missing = {code for _p, code in missing_localities([row], communes_by_slot(HANOI))}
    assert not missing & set(reporting)
    assert len(missing) == 10 * hanoi + 1 - 51  # the province's own report is missing too
