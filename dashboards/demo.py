"""Demo data of the steering pack, for `manage.py seed_demo`: measured values of the entered targets (as
their agencies would have entered them over the last weeks, each with a link to its evidence) and two
meetings frozen by the demo steering member, four weeks apart, so that a fresh `make run` shows a pack and
its comparison. Deterministic for a given seed."""

import datetime
import random

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from dashboards.meetings import meeting_create
from dashboards.models import Meeting, Target, TargetValue
from localities.models import Province
from tasks.scoping import scope_for_user

DEMO_EVIDENCE = "https://dichvucong.gov.vn/p/home/dvc-trang-chu.html"
# code -> (value four weeks ago, value two weeks ago, value last week): rising, as the plan's reports do.
DEMO_VALUES = {
    "e_result_services": (880, 925, 961),
    "integrated_services": (19, 22, 24),
    "priority_procedure_groups": (71, 76, 80),
    "paper_replaced_procedures": (960, 1050, 1102),
    "boundary_free_procedures": (0.62, 0.71, 0.78),
}
WEEKS = (28, 14, 7)


def _entered_at(day: datetime.date) -> datetime.datetime:
    """Demo values are stamped as entered on the morning of the day measured (the as-of views read it)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(10, 0)))


@transaction.atomic
def seed_target_values(*, end: datetime.date, actor, seed: int = 2025) -> int:
    """Entered targets' demo values up to `end`; nothing when any value exists. Returns the number written."""
    if TargetValue.objects.exists():
        return 0
    rng = random.Random(seed)
    targets = {t.code: t for t in Target.objects.filter(method=Target.Method.ENTERED)}
    rows = []
    for code, values in DEMO_VALUES.items():
        if code not in targets:
            continue
        for ago, value in zip(WEEKS, values, strict=True):
            day = end - datetime.timedelta(days=ago)
            rows.append(
                TargetValue(
                    target=targets[code],
                    value=value,
                    measured_on=day,
                    evidence_url=DEMO_EVIDENCE,
                    note="Số liệu minh họa (demo)",
                    entered_by=actor,
                    entered_at=_entered_at(day),
                )
            )
    if "dossiers_per_service" in targets:
        day = end - datetime.timedelta(days=14)
        for code in Province.objects.values_list("code", flat=True):
            rows.append(
                TargetValue(
                    target=targets["dossiers_per_service"],
                    province_id=code,
                    value=rng.randint(620, 1480),
                    measured_on=day,
                    evidence_url=DEMO_EVIDENCE,
                    note="Số liệu minh họa (demo)",
                    entered_by=actor,
                    entered_at=_entered_at(day),
                )
            )
    TargetValue.objects.bulk_create(rows)
    return len(rows)


def seed_meetings(*, end: datetime.date, username: str = "steering") -> list[Meeting]:
    """Two demo meetings frozen by the demo steering member: four weeks before `end`, and `end`. Nothing
    when a meeting exists or the demo steering member does not."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None or Meeting.objects.exists():
        return []
    scope = scope_for_user(user)
    days = [end - datetime.timedelta(days=28), end]
    titles = ["Phiên họp Ban Chỉ đạo tháng trước (minh họa)", "Phiên họp Ban Chỉ đạo tháng này (minh họa)"]
    return [
        meeting_create(scope=scope, actor=user, title=title, date=day.isoformat())
        for title, day in zip(titles, days, strict=True)
    ]
