"""Two people acting on one incident at once (PostgreSQL: SQLite lets one writer in at a time): the row lock
serialises them, so no update is lost — the second sees the first's state and is refused, or builds on it —
and two checks at once escalate a breach once."""

import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from support import services
from support.models import Incident, IncidentEvent
from tasks.models import Role
from tests.conftest import make_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs two real PostgreSQL connections (SQLite serialises every writer)")


def at_once(*targets):
    """Run each target in its own thread and connection, started together; return results or exceptions."""
    results: list = [None] * len(targets)
    barrier = threading.Barrier(len(targets))

    def work(index):
        try:
            barrier.wait(timeout=60)
            results[index] = targets[index]()
        except Exception as exc:  # the test reads it
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(targets))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_two_desks_acting_at_once_lose_no_update(postgres_only, reference_data):
    clerk = make_user("clerk-badinh", Role.COMMUNE_CLERK, commune="00004")
    officer = make_user("officer-hanoi", Role.PROVINCE_OFFICER, province="01")
    support = make_user("support-1", Role.SUPPORT)
    incident = services.incident_open(actor=clerk, category="network", severity="blocking", description="x")
    first, second = at_once(
        lambda: services.incident_acknowledge(incident=incident, actor=officer),
        lambda: services.incident_acknowledge(incident=incident, actor=support),
    )
    outcomes = sorted(type(r).__name__ for r in (first, second))
    assert outcomes == ["Incident", "InvalidTransition"]
    # Two different steps at once both land, one after the other.
    at_once(
        lambda: services.incident_comment(incident=incident, actor=clerk, text="a"),
        lambda: services.incident_escalate(incident=incident, actor=officer, reason="b"),
    )
    current = Incident.objects.get(pk=incident.pk)
    assert current.state == "acknowledged" and current.escalated and current.version == 3
    assert IncidentEvent.objects.filter(incident=incident).count() == 4


def test_two_checks_at_once_escalate_a_breach_once(postgres_only, reference_data, monkeypatch):
    clerk = make_user("clerk-badinh", Role.COMMUNE_CLERK, commune="00004")
    make_user("support-1", Role.SUPPORT)
    incident = services.incident_open(actor=clerk, category="network", severity="blocking", description="x")
    later = timezone.now() + datetime.timedelta(days=7)
    monkeypatch.setattr(timezone, "now", lambda: later)
    results = at_once(services.incidents_check, services.incidents_check)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.escalated for r in results) == 1
    assert IncidentEvent.objects.filter(incident=incident, action="escalated").count() == 1
