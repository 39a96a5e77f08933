"""The outbox of events (core.events): declared types only, written only inside the change's transaction."""

import pytest
from django.db import connection, transaction

from core import events
from core.models import Event

THING_CHANGED = events.declare("test.thing_changed", "A thing of the tests changed")


@pytest.mark.django_db(transaction=True)
def test_an_event_is_written_with_its_change_and_rolled_back_with_it():
    with transaction.atomic():
        events.emit(THING_CHANGED, subject="thing", subject_id=7, province="01", payload={"to": "done"})
    with pytest.raises(RuntimeError), transaction.atomic():
        events.emit(THING_CHANGED, subject="thing", subject_id=8, province="01")
        raise RuntimeError("the change failed")
    assert list(Event.objects.values_list("type", "subject_id", "province", "payload")) == [
        ("test.thing_changed", "7", "01", {"to": "done"})
    ]


@pytest.mark.django_db(transaction=True)
def test_an_event_outside_a_transaction_is_refused():
    with pytest.raises(events.EventOutsideTransaction):
        events.emit(THING_CHANGED, subject="thing", subject_id=1)
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_an_undeclared_type_is_refused():
    with pytest.raises(KeyError, match="undeclared"):
        events.emit(events.EventType("test.never_declared", "—"), subject="thing", subject_id=1)


@pytest.mark.django_db(transaction=True)
def test_the_database_records_the_writing_transaction_on_postgresql(postgresql):
    with transaction.atomic():
        first = events.emit(THING_CHANGED, subject="thing", subject_id=1)
        second = events.emit(THING_CHANGED, subject="thing", subject_id=2)
        with connection.cursor() as cursor:
            cursor.execute("SELECT txid_current()")
            (txid,) = cursor.fetchone()
    with transaction.atomic():
        third = events.emit(THING_CHANGED, subject="thing", subject_id=3)
    rows = dict(Event.objects.values_list("id", "txid"))
    assert rows[first.pk] == rows[second.pk] == txid
    assert rows[third.pk] > txid


@pytest.mark.django_db
def test_many_events_in_one_statement():
    with transaction.atomic():
        events.emit_many(THING_CHANGED, [{"subject": "thing", "subject_id": n, "commune": "00004"} for n in range(3)])
    assert Event.objects.filter(commune="00004").count() == 3


@pytest.mark.django_db
def test_events_of_a_set_based_change_in_one_insert_select(django_assert_num_queries):
    from django.db.models import F
    from django.db.models.functions import JSONObject

    from localities.models import Province

    rows = Province.objects.filter(code__in=["01", "79"])
    assert connection.features.supports_json_field  # SQLite's feature probe runs once, before counting
    with transaction.atomic():
        with django_assert_num_queries(1):
            written = events.emit_select(
                THING_CHANGED,
                rows,
                subject="province",
                subject_id=F("code"),
                payload=JSONObject(name=F("name"), code=F("code")),
                province=F("code"),
                actor="tests",
            )
    assert written == 2
    got = list(
        Event.objects.order_by("id").values_list("type", "subject", "subject_id", "province", "actor", "payload")
    )
    names = dict(Province.objects.filter(code__in=["01", "79"]).values_list("code", "name"))
    assert got == [
        ("test.thing_changed", "province", code, code, "tests", {"name": names[code], "code": code})
        for code in ["01", "79"]
    ]
    assert all(e.occurred_at is not None for e in Event.objects.all())


@pytest.mark.django_db(transaction=True)
def test_a_set_based_emit_outside_a_transaction_is_refused():
    from localities.models import Province

    with pytest.raises(events.EventOutsideTransaction):
        events.emit_select(THING_CHANGED, Province.objects.all(), subject="province", subject_id=1, payload={})
