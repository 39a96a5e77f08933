"""`manage.py alerts_run`, its job and its beat entries, the settings of the block `# --- alerts ---`, and the demo
that `make run` ends with."""

import datetime
import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.management import CommandError, call_command

from alerts.models import Alert, AlertRun, Contact
from tests.reports.factories import make_report


@pytest.mark.django_db
def test_the_command_runs_the_rules_and_sends_the_digests(today, province_officer, email, capsys):
    email(province_officer)
    make_report("00004", today - datetime.timedelta(days=1), support_needed=True)
    call_command("alerts_run", rule=["support_needed"])
    out = capsys.readouterr().out
    assert "1 raised" in out and "1 e-mail digests" in out and "e-mail digests sent: 1" in out
    assert len(mail.outbox) == 1
    call_command("alerts_run", rule=["support_needed"])
    assert "0 raised" in capsys.readouterr().out and len(mail.outbox) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("01/12/2026", "--as-of '01/12/2026': Must be a date written YYYY-MM-DD."),
        ("2026-02-30", "--as-of '2026-02-30': Must be a date written YYYY-MM-DD."),
    ],
)
def test_an_as_of_that_is_not_a_date_names_the_option(value, message):
    with pytest.raises(CommandError) as error:
        call_command("alerts_run", as_of=value)
    assert str(error.value) == message
    assert not AlertRun.objects.exists()


@pytest.mark.django_db
def test_a_future_as_of_is_refused(today):
    tomorrow = (today + datetime.timedelta(days=1)).isoformat()
    with pytest.raises(CommandError, match=f"--as-of {tomorrow}: .* is in the future"):
        call_command("alerts_run", as_of=tomorrow)


@pytest.mark.django_db
def test_the_job_runs_and_sends_like_the_command(today, province_officer, email):
    from alerts.jobs import alerts_run

    email(province_officer)
    make_report("00004", today - datetime.timedelta(days=1), support_needed=True)
    result = alerts_run.delay(rules=["support_needed"]).get()
    assert result["raised"] == 1 and len(mail.outbox) == 1
    assert alerts_run.delay(as_of=today.isoformat(), rules=["support_needed"]).get()["raised"] == 0
    assert alerts_run.acks_late and alerts_run.max_retries == 5


def test_the_beat_runs_every_rule_daily_and_the_ladder_after_the_due_hour():
    from plan02.celery import app

    schedule = app.conf.beat_schedule
    assert schedule["alerts-daily"]["task"] == "alerts.jobs.alerts_run"
    assert schedule["alerts-daily"]["schedule"].hour == {django_settings.ALERTS_DAILY_HOUR}
    missing = schedule["alerts-missing-reports"]
    assert missing["schedule"].hour == {django_settings.REPORT_DUE_HOUR} and missing["schedule"].minute == {5}
    assert missing["kwargs"] == {"rules": ["missing_report_1", "missing_report_3", "missing_report_7"]}
    assert schedule["alerts-digests-retry"]["task"] == "alerts.jobs.digests_send"


def _manage_check(**overrides):
    environ = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    environ.update(overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check"], capture_output=True, text=True, env=environ, timeout=120
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PLAN02_ALERTS_MISSING_REPORT_DAYS", "1,7,3"),
        ("PLAN02_ALERTS_MISSING_REPORT_DAYS", "one,three,seven"),
        ("PLAN02_ALERTS_STAGNANT_DAYS", "fortnight"),
        ("PLAN02_ALERTS_REPORTS_EXPECTED_FROM", "1/7/2025"),
        ("PLAN02_PORTAL_URL", "plan02.example.gov.vn"),
    ],
)
def test_a_bad_alert_setting_stops_the_process_naming_the_variable(name, value):
    result = _manage_check(**{name: value})
    assert result.returncode != 0
    assert name in result.stderr


def test_the_thresholds_are_settings_with_the_defaults_of_the_issue():
    assert django_settings.ALERTS_DEADLINE_EARLY_DAYS == 7 and django_settings.ALERTS_DEADLINE_LAST_DAYS == 1
    assert django_settings.ALERTS_OVERDUE_ESCALATION_DAYS == 14 and django_settings.ALERTS_STAGNANT_DAYS == 14
    assert django_settings.ALERTS_BLOCKED_ESCALATION_DAYS == 7
    assert django_settings.ALERTS_MISSING_REPORT_DAYS == (1, 3, 7)


@pytest.mark.django_db
def test_bootstrap_ends_with_demo_contacts_and_alerts_and_a_second_one_changes_nothing(settings, capsys):
    settings.DEMO_PASSWORD = "demo-pass-123"
    call_command("bootstrap", days=1)
    out = capsys.readouterr().out
    assert "demo contacts: 6 created" in out and "alerts: " in out
    # The units' six, and the systems' vendors of the operations desk's demo (support.demo.VENDORS).
    assert Contact.objects.exclude(role="vendor").count() == 6
    assert Contact.objects.filter(role="vendor").count() == 5
    from django.contrib.auth import get_user_model

    assert get_user_model().objects.get(username="commune").email == "commune@plan02-demo.example"
    raised = Alert.objects.count()
    # The bootstrap's run; the operations desk's checks have their own (support.demo).
    assert raised > 0 and AlertRun.objects.filter(trigger="bootstrap").count() == 1
    runs = AlertRun.objects.count()
    sent = len(mail.outbox)
    assert sent > 0  # the console in the embedded mode; here Django's test outbox
    call_command("bootstrap", days=1)
    assert "demo alerts already raised — kept as they are" in capsys.readouterr().out
    assert (Alert.objects.count(), AlertRun.objects.count(), Contact.objects.count(), len(mail.outbox)) == (
        raised,
        runs,
        11,
        sent,
    )
