"""The reporting regime's alert rules (alerts.regime_rules, DESIGN.md §11): unapproved_3d tells the province's
officers about a day whose reports are not all approved three days later; unexplained_warning_2d tells the clerk
about an unusual figure left unexplained for two days, then the province two days later."""

import datetime

import pytest
from django.utils import timezone

from alerts.models import Alert, Notification
from reports.models import QualityWarning, ReportApproval
from tests.reports.factories import make_report

pytestmark = pytest.mark.django_db


def ago(n):
    return timezone.localdate() - datetime.timedelta(days=n)


def open_alerts(rule):
    return sorted(Alert.objects.open().filter(rule=rule).values_list("subject_key", "threshold", "day"))


def told(user, rule):
    return sorted(Notification.objects.filter(user=user, alert__rule=rule).values_list("alert__threshold", flat=True))


def approve(report, officer):
    return ReportApproval.objects.create(
        report=report,
        locality=report.locality,
        province_id=report.province_id,
        date=report.date,
        revision=report.revision,
        approved_by=officer,
        approved_at=timezone.now(),
    )


def test_a_province_that_never_approved_is_not_held_to_it(run, province_officer):
    make_report("00004", ago(5))
    run(rules=["unapproved_3d"])
    assert open_alerts("unapproved_3d") == []


def test_a_day_not_all_approved_after_three_days_tells_the_province(run, province_officer, outsider_province_officer):
    approve(make_report("00004", ago(6)), province_officer)  # Hà Nội started approving on day −6
    waiting = make_report("00008", ago(4))
    make_report("00004", ago(2))  # too recent
    run(rules=["unapproved_3d"])
    assert open_alerts("unapproved_3d") == [("province:01", 3, ago(4))]
    assert told(province_officer, "unapproved_3d") == [3]
    assert told(outsider_province_officer, "unapproved_3d") == []
    approve(waiting, province_officer)
    run(rules=["unapproved_3d"])
    assert open_alerts("unapproved_3d") == []


def warning_of(report, *, days_ago):
    return QualityWarning.objects.create(
        report=report,
        locality=report.locality,
        province_id=report.province_id,
        commune_id=report.commune_id,
        date=report.date,
        indicator="received_online",
        value=report.received_online,
        expected_low=0,
        expected_high=1,
        median=0,
        effect=report.received_online,
        created_at=timezone.now() - datetime.timedelta(days=days_ago),
    )


def test_an_unexplained_warning_tells_the_clerk_then_the_province(run, commune_clerk, province_officer):
    report = make_report("00004", ago(5))
    warning = warning_of(report, days_ago=1)
    run(rules=["unexplained_warning_2d"])
    assert open_alerts("unexplained_warning_2d") == []  # one day: not yet
    QualityWarning.objects.filter(pk=warning.pk).update(created_at=timezone.now() - datetime.timedelta(days=2))
    run(rules=["unexplained_warning_2d"])
    assert open_alerts("unexplained_warning_2d") == [(f"report:{report.pk}", 0, ago(5))]
    assert told(commune_clerk, "unexplained_warning_2d") == [0]
    assert told(province_officer, "unexplained_warning_2d") == []
    QualityWarning.objects.filter(pk=warning.pk).update(created_at=timezone.now() - datetime.timedelta(days=4))
    run(rules=["unexplained_warning_2d"])
    assert told(province_officer, "unexplained_warning_2d") == [2]
    QualityWarning.objects.filter(pk=warning.pk).update(state="explained", explained_at=timezone.now())
    run(rules=["unexplained_warning_2d"])
    assert open_alerts("unexplained_warning_2d") == []
