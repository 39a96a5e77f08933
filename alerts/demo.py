"""The early-warning part of the demo (`make run` → bootstrap): demo contacts for the demo units, support
requests older than a week closed with a demo resolution (as a province would have), and a first run of the
rules, so the bell has alerts. Done once: a second bootstrap keeps them as they are."""

import datetime
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from alerts.contacts import plan_contacts
from alerts.models import AlertRun, SupportResolution
from alerts.services.contacts import contacts_import
from alerts.services.delivery import digests_send
from alerts.services.runs import RunResult, alerts_run
from reports.models import DailyReport
from tasks.demo import HISTORY_USERNAME

DEMO_CONTACTS = settings.BASE_DIR / "fixtures" / "demo_contacts.csv"
DEMO_RESOLUTION = "Tỉnh đã hỗ trợ xử lý (dữ liệu minh họa)."
# Support requests older than this are closed in the demo; the recent ones stay open for the province.
OPEN_DAYS = 7


def demo_alerts_ensure(*, write: Callable[[str], object] = print) -> RunResult | None:
    # Its own run (the operations desk's runs may come first: the demo reports asking for support open
    # incidents, which are told through the alerts' machinery).
    if AlertRun.objects.filter(trigger="bootstrap").exists():
        write("demo alerts already raised — kept as they are")
        return None
    plan = plan_contacts(DEMO_CONTACTS)
    if not plan.ok:  # the fixture is ours: an error here is a bug
        raise ValueError("; ".join(str(e) for e in plan.errors))
    contacts_import(plan=plan, imported_by="bootstrap", filename=str(DEMO_CONTACTS))
    write(f"demo contacts: {plan.count('create')} created, {plan.count('update')} updated")
    closer = get_user_model().objects.filter(username=HISTORY_USERNAME).first()
    if closer is not None:
        old = timezone.localdate() - datetime.timedelta(days=OPEN_DAYS)
        reports = DailyReport.objects.filter(support_needed=True, date__lt=old, support_resolution__isnull=True)
        now = timezone.now()
        closed = SupportResolution.objects.bulk_create(
            [
                SupportResolution(report_id=pk, resolution=DEMO_RESOLUTION, closed_by=closer, closed_at=now)
                for pk in reports.values_list("pk", flat=True)
            ],
            ignore_conflicts=True,
        )
        write(f"demo support requests closed: {len(closed)} older than {OPEN_DAYS} days")
    result = alerts_run(trigger="bootstrap")
    write(
        f"alerts: {result.raised} raised, {result.notifications} notifications, {result.digests} e-mail digests "
        "(the console shows them)"
    )
    digests_send()
    return result
