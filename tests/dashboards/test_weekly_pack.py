"""The weekly pack (DESIGN.md §14): the phase dashboard as a PDF mailed to the steering committee on the
beat schedule, exactly once per ISO week however often the job runs."""

import datetime
import io
import threading

import pytest
from django.core import mail
from django.db import connection
from pypdf import PdfReader

from dashboards.models import WeeklyPackMailing
from dashboards.packs import weekly_pack_send
from plan02.celery import app
from tasks.models import Role
from tests.conftest import make_user

MONDAY = datetime.date(2026, 11, 30)


def members():
    for name, role, email in [
        ("steering-a", Role.STEERING, "a@bcd.gov.vn"),
        ("steering-b", Role.STEERING, "B@bcd.gov.vn"),
        ("inspector-x", Role.INSPECTOR, "x@ubkt.gov.vn"),
    ]:
        user = make_user(name, role)
        user.email = email
        user.save()
    gone = make_user("steering-gone", Role.STEERING)
    gone.email, gone.is_active = "gone@bcd.gov.vn", False
    gone.save()


@pytest.mark.django_db
def test_the_pack_goes_once_a_week_to_the_steering_committee():
    members()
    first = weekly_pack_send(today=MONDAY)
    assert first.status == WeeklyPackMailing.Status.SENT and first.recipients == 2
    assert weekly_pack_send(today=MONDAY) is None  # the beat fired twice
    assert weekly_pack_send(today=MONDAY + datetime.timedelta(days=3)) is None  # same ISO week
    (message,) = mail.outbox
    assert sorted(message.bcc) == ["a@bcd.gov.vn", "b@bcd.gov.vn"]
    (name, content, mimetype) = message.attachments[0]
    assert name == "plan02-pack-2026-W49.pdf" and mimetype == "application/pdf"
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split())
    assert "Hạn giai đoạn" in text and "29/11/2026" in text
    assert weekly_pack_send(today=MONDAY + datetime.timedelta(days=7)).iso_week == 50
    assert len(mail.outbox) == 2


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_it_once(postgresql, reference_data):
    members()
    start, results = threading.Barrier(2), []

    def worker():
        try:
            start.wait(30)
            results.append(weekly_pack_send(today=MONDAY))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sorted(r is None for r in results) == [False, True]
    assert len(mail.outbox) == 1 and WeeklyPackMailing.objects.count() == 1


def test_the_beat_schedules_it_weekly():
    entry = app.conf.beat_schedule["weekly-pack"]
    assert entry["task"] == "dashboards.jobs.weekly_pack"
    assert entry["schedule"].day_of_week == {1}
