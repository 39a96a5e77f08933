"""Today's support requests become incidents (DESIGN.md §12), nothing lost: on a database that holds some, the
data migration makes one incident per request — open, or closed with the province's resolution — and none for
a report that asked for nothing. The support-requests API keeps answering as before (contract §8)."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tasks.models import Role
from tests.conftest import make_user


@pytest.mark.django_db(transaction=True)
def test_support_requests_on_the_database_become_incidents(reference_data, api_for):
    from alerts.models import SupportResolution
    from tests.reports.factories import make_report

    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate([("support", "0003_categories")])

    day = timezone.localdate() - datetime.timedelta(days=2)
    officer = make_user("officer-hanoi", Role.PROVINCE_OFFICER, province="01")
    waiting = make_report("00004", day, support_needed=True)
    type(waiting).objects.filter(pk=waiting.pk).update(difficulties="Máy quét hỏng", outage_systems=["vneid"])
    answered = make_report("00008", day, support_needed=True)
    make_report("01", day)
    SupportResolution.objects.create(
        report=answered, resolution="Đã cho mượn máy quét", closed_by=officer, closed_at=timezone.now()
    )

    MigrationExecutor(connection).migrate(latest)

    from support.models import Incident

    assert Incident.objects.count() == 2
    first = Incident.objects.get(report=waiting)
    assert (first.state, first.commune_id, first.category_id, first.system) == ("open", "00004", "vneid", "vneid")
    assert first.description == "Máy quét hỏng" and first.created_at == waiting.received_at
    second = Incident.objects.get(report=answered)
    assert (second.state, second.resolution) == ("closed", "Đã cho mượn máy quét")
    assert list(second.events.values_list("action", "actor__username")) == [
        ("opened", None),
        ("closed", "officer-hanoi"),
    ]
    # The contract of §8 is unchanged.
    listed = api_for(user=officer).get("/api/v1/support-requests/").json()
    assert {r["id"] for r in listed["results"]} == {waiting.pk, answered.pk}
