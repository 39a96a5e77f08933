"""core.db.insert_many: the rows as one JSON parameter on PostgreSQL (bulk_create elsewhere), with every value
kept as given and the defaults of the fields a row leaves out."""

import datetime

import pytest
from django.db import connection

from core.db import insert_many
from core.models import Event

pytestmark = pytest.mark.django_db


def test_rows_keep_their_values_and_missing_fields_take_their_defaults():
    moment = datetime.datetime(2026, 12, 7, 8, 0, 0, 123456, tzinfo=datetime.UTC)
    insert_many(
        Event,
        [
            {"type": "t.one", "subject": "s", "subject_id": "1", "payload": {"tên": "Hà Nội"}, "occurred_at": moment},
            {"type": "t.two", "subject": "s", "subject_id": "2", "payload": {}, "occurred_at": moment},
        ],
    )
    one, two = Event.objects.filter(type__startswith="t.").order_by("subject_id")
    assert (one.type, one.payload, one.occurred_at) == ("t.one", {"tên": "Hà Nội"}, moment)  # microseconds kept
    assert (two.type, two.province, two.actor) == ("t.two", "", "")  # the fields' defaults
    if connection.vendor == "postgresql":
        assert one.txid is not None  # a column with a database default takes it


def test_no_rows_is_no_statement(django_assert_num_queries):
    with django_assert_num_queries(0):
        insert_many(Event, [])
