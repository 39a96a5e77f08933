"""Two officers saving the same version at the same moment, each on its own database connection: exactly one
wins, the other gets StaleVersion, and the history has one row per accepted change. PostgreSQL only: SQLite
serialises writers, so there is no race to test there."""

import threading

import pytest
from django.db import connection, connections

from tasks.models import Assignment, Role, StatusUpdate
from tasks.services import StaleVersion, assignment_update
from tests.conftest import make_user
from tests.tasks.conftest import set_deadline

ROUNDS = 5

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs two real PostgreSQL connections")


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
