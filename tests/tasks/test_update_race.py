"""Officers saving the same assignment at the same moment, each on its own database connection: exactly one
wins each version, the others get StaleVersion (409 through the API), and the history has one row per
accepted change — none is lost. Marked `services`: PostgreSQL only (SQLite serialises writers, so there is
no race to test there), a failure without it when PLAN02_REQUIRE_SERVICES=1."""

import threading

import pytest
from django.db import connections
from rest_framework.test import APIClient

from tasks.models import Assignment, Role, StatusUpdate
from tasks.services import StaleVersion, assignment_update
from tests.conftest import make_user
from tests.tasks.conftest import set_deadline

ROUNDS = 5
RACERS = 20

pytestmark = [pytest.mark.services, pytest.mark.usefixtures("postgresql")]


@pytest.mark.django_db(transaction=True)
def test_two_connections_saving_the_same_version_never_lose_an_update(reference_data):
    officers = [make_user(f"racer-{i}", Role.AGENCY_OFFICER, agency="BCA") for i in range(2)]
    set_deadline("T15", 30)
    pk = Assignment.objects.get(task__code="T15", agency__code="BCA").pk

    for round_number in range(ROUNDS):
        version = Assignment.objects.get(pk=pk).version
        barrier = threading.Barrier(len(officers))
        outcomes = {}

        def save(officer, progress, version=version, barrier=barrier, outcomes=outcomes, note=f"round {round_number}"):
            try:
                assignment = Assignment.objects.get(pk=pk)  # both read the same version
                barrier.wait(timeout=10)
                assignment_update(
                    assignment=assignment,
                    actor=officer,
                    version=version,
                    status="in_progress",
                    progress=progress,
                    note=note,
                )
                outcomes[officer.username] = "saved"
            except StaleVersion as exc:
                outcomes[officer.username] = ("stale", exc.assignment.version)
            finally:
                connections.close_all()

        threads = [
            threading.Thread(target=save, args=(officer, 10 * round_number + i + 1))
            for i, officer in enumerate(officers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not any(thread.is_alive() for thread in threads)

        assert sorted(outcomes.values(), key=str) == [("stale", version + 1), "saved"], outcomes
        winner = next(name for name, outcome in outcomes.items() if outcome == "saved")
        stored = Assignment.objects.get(pk=pk)
        assert stored.version == version + 1
        assert stored.updated_by.username == winner
        last = StatusUpdate.objects.get(assignment_id=pk, version=version + 1)
        assert (last.actor.username, last.new_progress) == (winner, stored.progress)

    assert StatusUpdate.objects.filter(assignment_id=pk).count() == ROUNDS


@pytest.mark.django_db(transaction=True)
def test_parallel_api_updates_retried_on_409_are_never_lost(reference_data, monkeypatch):
    """Twenty officers of the agency each apply their own change through the API at the same moment; each
    reads the current version, and on 409 reads again and retries. Every change is accepted exactly once:
    the final version is 1 + the changes and the history has one row for each, versions 2 … 21."""
    from dashboards import jobs

    # Not under test: in-process, the snapshot job each save queues would rebuild today's snapshots 20 times.
    monkeypatch.setattr(jobs.task_snapshot, "apply_async", lambda *args, **kwargs: None)
    set_deadline("T15", 30)
    pk = Assignment.objects.get(task__code="T15", agency__code="BCA").pk
    assert Assignment.objects.get(pk=pk).version == 1
    clients = []
    for i in range(RACERS):
        client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(make_user(f"racer-{i}", Role.AGENCY_OFFICER, agency="BCA"))
        clients.append(client)
    barrier = threading.Barrier(RACERS)
    conflicts, answers, errors = [0] * RACERS, [None] * RACERS, []

    def read(i):
        return clients[i].get(f"/api/v1/assignments/{pk}/").json()["version"]

    def apply(i):
        try:
            barrier.wait(timeout=30)
            version = read(i)
            barrier.wait(timeout=30)  # every first attempt carries the same version: they all collide
            while True:
                response = clients[i].post(
                    f"/api/v1/assignments/{pk}/updates/",
                    {"status": "in_progress", "progress": i + 1, "note": f"change {i}", "version": version},
                    format="json",
                )
                if response.status_code != 409:
                    answers[i] = response.status_code
                    return
                assert response.json()["code"] == "stale_version"
                conflicts[i] += 1
                version = read(i)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=apply, args=(i,)) for i in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert answers == [201] * RACERS
    assert sum(conflicts) >= RACERS - 1  # the first round alone: one winner, the others 409

    history = StatusUpdate.objects.filter(assignment_id=pk)
    assert Assignment.objects.get(pk=pk).version == 1 + RACERS
    assert sorted(history.values_list("version", flat=True)) == list(range(2, RACERS + 2))
    assert sorted(history.values_list("note", flat=True)) == sorted(f"change {i}" for i in range(RACERS))
    # Each row's old state is the state the previous one left: no change was applied over another.
    rows = list(history.order_by("version").values("old_progress", "new_progress"))
    assert [r["old_progress"] for r in rows[1:]] == [r["new_progress"] for r in rows[:-1]]
    assert Assignment.objects.get(pk=pk).progress == rows[-1]["new_progress"]
