"""Parallel submissions of the same report against PostgreSQL: one row, one revision, consistent answers,
never a 500 (DESIGN.md §10).

Each thread sends its request through the whole stack with its own database connection; a barrier starts
them together so that their INSERTs meet on the unique (locality, date) index. Fifty at once: more than a
province's system and its communes' clerks ever send for one report. Marked `services`: skipped on SQLite
(which serialises writers anyway), a failure there when PLAN02_REQUIRE_SERVICES=1.
"""

import threading

import pytest
from django.db import connections
from rest_framework.test import APIClient

from localities.services import localities_load
from reports.models import DailyReport, ReportRevision, RollupRequest
from reports.services import api_client_issue
from tests.reports.helpers import payload

pytestmark = [pytest.mark.services, pytest.mark.usefixtures("postgresql"), pytest.mark.django_db(transaction=True)]
THREADS = 50
URL = "/api/v1/reports/daily/"


@pytest.fixture
def key(transactional_db):
    localities_load()  # the flush of transactional tests empties the reference tables
    return api_client_issue(name="Hà Nội procedure system", locality="01")[1]


def in_parallel(requests):
    """Run the callables at the same moment, one thread and one connection each; return their results."""
    barrier = threading.Barrier(len(requests))
    results = [None] * len(requests)
    errors = []

    def run(index, request):
        try:
            barrier.wait(timeout=30)
            results[index] = request()
        except Exception as exc:  # reported to the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, r)) for i, r in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def post(key, path, body):
    def request():
        response = APIClient().post(path, body, format="json", HTTP_AUTHORIZATION=f"Token {key}")
        return response.status_code, response.json()

    return request


def test_parallel_identical_submissions_give_one_row_one_201_and_the_same_receipt(key):
    answers = in_parallel([post(key, URL, payload()) for _ in range(THREADS)])
    statuses = sorted(status for status, _body in answers)
    assert statuses == [200] * (THREADS - 1) + [201]
    assert {body["status"] for status, body in answers if status == 200} == {"unchanged"}
    assert len({body["receipt"] for _status, body in answers}) == 1
    assert DailyReport.objects.count() == 1
    assert ReportRevision.objects.count() == 1
    assert RollupRequest.objects.count() <= 1  # the eager rebuild after commit may already have consumed it


def test_parallel_different_submissions_give_one_row_and_409_for_the_others(key):
    bodies = [payload(returned=index) for index in range(THREADS)]
    answers = in_parallel([post(key, URL, body) for body in bodies])
    statuses = sorted(status for status, _body in answers)
    assert statuses == [201] + [409] * (THREADS - 1)
    winner = next(i for i, (status, _body) in enumerate(answers) if status == 201)
    stored = DailyReport.objects.get()
    assert stored.returned == bodies[winner]["returned"]
    for body, (status, answer) in zip(bodies, answers, strict=True):
        if status == 409:
            assert (answer["code"], answer["receipt"]) == ("report_exists", stored.receipt)
            assert answer["diff"] == {"returned": {"stored": stored.returned, "submitted": body["returned"]}}
    assert ReportRevision.objects.count() == 1


def test_parallel_replays_and_conflicts_mixed_answer_each_against_the_stored_report(key):
    bodies = [payload(returned=index % 2) for index in range(THREADS)]
    answers = in_parallel([post(key, URL, body) for body in bodies])
    assert len([status for status, _body in answers if status == 201]) == 1
    stored = DailyReport.objects.get()
    for body, (status, answer) in zip(bodies, answers, strict=True):
        if status == 201:
            continue
        if body["returned"] == stored.returned:
            assert (status, answer["status"], answer["receipt"]) == (200, "unchanged", stored.receipt)
        else:
            assert (status, answer["code"], answer["receipt"]) == (409, "report_exists", stored.receipt)
    assert ReportRevision.objects.count() == 1


def test_overlapping_batches_in_opposite_orders_do_not_deadlock(key):
    codes = ["00004", "00008", "00025", "00070", "00082", "01"]
    forward = {"reports": [payload(code) for code in codes]}
    backward = {"reports": [payload(code) for code in reversed(codes)]}
    answers = in_parallel([post(key, f"{URL}batch/", body) for body in (forward, backward) * 3])
    assert all(status == 200 for status, _body in answers)
    created = sum(body["summary"]["created"] for _status, body in answers)
    unchanged = sum(body["summary"]["unchanged"] for _status, body in answers)
    assert (created, unchanged) == (len(codes), len(codes) * 5)
    assert DailyReport.objects.count() == len(codes) == ReportRevision.objects.count()


def test_an_approval_and_a_correction_at_once_never_leave_an_approved_report_changed(key):
    """Both take the report's row lock: either the correction lands first (and the approval approves its
    revision 2) or the approval does (and the correction answers 409 report_approved)."""
    from django.contrib.auth import get_user_model

    from reports.models import ReportApproval
    from tasks.models import Membership, Role

    APIClient().post(URL, payload("00004"), format="json", HTTP_AUTHORIZATION=f"Token {key}")
    officer = get_user_model().objects.create_user("officer-race")
    Membership.objects.create(user=officer, role=Role.PROVINCE_OFFICER, province_id="01")
    report = DailyReport.objects.get()
    correction = {**payload("00004", returned=7), "reason": "recounted"}

    def approve():
        client = APIClient()
        client.force_authenticate(officer)
        body = {"date": report.date.isoformat(), "localities": ["00004"]}
        return client.post("/api/v1/reports/approvals/", body, format="json").json()["results"][0]["status"]

    def correct():
        path = f"{URL}00004/{report.date.isoformat()}/"
        response = APIClient().put(path, correction, format="json", HTTP_AUTHORIZATION=f"Token {key}")
        return response.status_code

    for _round in range(5):
        approved, corrected = in_parallel([approve, correct])
        report.refresh_from_db()
        approval = ReportApproval.objects.active().get()
        assert approved == "approved" and corrected in (200, 409)
        assert approval.revision == report.revision  # what was approved is what is stored
        ReportApproval.objects.filter(pk=approval.pk).update(withdrawn_at=report.updated_at, reason="race")
        correction["returned"] += 1
