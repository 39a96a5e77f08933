"""The one validator: every rule of DESIGN.md §5, its stable code, and the text conversions of the form and
the upload."""

import datetime

import pytest
from django.db import IntegrityError, connection, transaction

from reports import services
from reports import validation as v
from reports.figures import INTEGER_FIELDS, LESS_OR_EQUAL, OUTAGE_MINUTES_MAX
from reports.receipts import payload_hash
from tests.reports.helpers import days_ago, payload

pytestmark = pytest.mark.django_db


def codes(result):
    return {name: [e["code"] for e in errors] for name, errors in result.errors.items()}


def test_valid_report_is_normalised_with_every_field():
    result = v.validate_report(payload(outage_systems=["vneid", "network"], difficulties="  slow  "))
    assert result.ok, result.errors
    assert result.province_id == "01" and result.commune_id == "00004"
    assert result.data["outage_systems"] == ["network", "vneid"]
    assert result.data["difficulties"] == "slow"
    assert result.day == days_ago(1)


def test_optional_fields_default_so_the_receipt_ignores_their_absence():
    full = payload(outage_systems=[], difficulties="", proposals="", support_needed=False)
    short = {k: val for k, val in full.items() if k not in ("outage_systems", "difficulties", "proposals")}
    short["support_needed"] = None
    assert v.validate_report(full).data == v.validate_report(short).data
    assert v.validate_report(full).receipt() == v.validate_report(short).receipt()
    assert v.validate_report(full).digest() == payload_hash(v.validate_report(full).data)


@pytest.mark.parametrize("name", INTEGER_FIELDS)
def test_every_missing_figure_is_refused_not_zeroed(name):
    data = payload()
    del data[name]
    assert codes(v.validate_report(data)) == {name: [v.REQUIRED]}


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (-1, v.NEGATIVE),
        (1_000_001, v.TOO_LARGE),
        ("12", v.WRONG_TYPE),
        (True, v.WRONG_TYPE),
        (12.0, v.WRONG_TYPE),
        (None, v.WRONG_TYPE),
        ([1], v.WRONG_TYPE),
    ],
)
def test_figure_type_and_range(value, code):
    assert codes(v.validate_report(payload(returned=value))) == {"returned": [code]}


def test_limits_are_inclusive():
    assert v.validate_report(payload(returned=1_000_000, received_direct=0)).ok
    assert v.validate_report(payload(outage_minutes=1440)).ok
    assert codes(v.validate_report(payload(outage_minutes=1441))) == {"outage_minutes": [v.TOO_LARGE]}


@pytest.mark.parametrize(("small", "large"), LESS_OR_EQUAL)
def test_less_or_equal_relations(small, large):
    others = {s: 0 for s, big in LESS_OR_EQUAL if big == large}
    result = v.validate_report(payload(**{**others, large: 5, small: 6}))
    assert codes(result) == {small: [v.EXCEEDS]}
    assert large in result.errors[small][0]["message"]
    assert v.validate_report(payload(**{**others, large: 5, small: 5})).ok


@pytest.mark.parametrize(
    "values",
    [{small: f"{large} + 1"} for small, large in LESS_OR_EQUAL] + [{"outage_minutes": str(OUTAGE_MINUTES_MAX + 1)}],
    ids=[small for small, _large in LESS_OR_EQUAL] + ["outage_minutes"],
)
def test_the_database_refuses_what_the_table_refuses(commune_key, values):
    # The constraint is built from the same table (reports.figures.figure_relations): a raw UPDATE past a
    # relation or a maximum is refused by the database itself.
    report = services.daily_report_submit(payload=payload(), client=commune_key[0])
    [(name, expression)] = values.items()
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE reports_dailyreport SET {name} = {expression} WHERE locality = %s", ["00004"])  # noqa: S608
    assert report.status == "created"


def test_unknown_fields_are_refused_by_name():
    assert codes(v.validate_report(payload(colour="red", Returned=1))) == {
        "colour": [v.UNKNOWN_FIELD],
        "Returned": [v.UNKNOWN_FIELD],
    }


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("2025-7-1", v.INVALID_DATE),
        ("20250701", v.INVALID_DATE),
        ("2025-02-30", v.INVALID_DATE),
        (20250701, v.INVALID_DATE),
        ("", v.REQUIRED),
        ("2025-06-30", v.DATE_TOO_EARLY),
    ],
)
def test_date_format_and_start(value, code):
    assert codes(v.validate_report(payload(date=value))) == {"date": [code]}


def test_date_bounds_follow_local_today(freeze):
    from tests.reports.conftest import local

    today = days_ago(0)
    assert v.validate_report(payload(day=today)).ok
    assert codes(v.validate_report(payload(day=today + datetime.timedelta(days=1)))) == {"date": [v.DATE_IN_FUTURE]}
    assert v.validate_report(payload(day=datetime.date(2025, 7, 1))).ok
    # 00:01 local is still 17:01 of the previous day in UTC: "today" is the local date, not the UTC one.
    freeze(local(today, 23, 59) + datetime.timedelta(minutes=2))
    assert v.validate_report(payload(day=today + datetime.timedelta(days=1))).ok


@pytest.mark.parametrize(
    ("value", "code"),
    [(4, v.WRONG_TYPE), ("99999", v.UNKNOWN_LOCALITY), ("4", v.UNKNOWN_LOCALITY), ("77", v.UNKNOWN_LOCALITY)],
)
def test_locality_must_be_a_known_code_string(value, code):
    assert codes(v.validate_report(payload(locality=value))) == {"locality": [code]}


def test_province_codes_are_localities_of_their_own():
    result = v.validate_report(payload(locality="01"))
    assert result.ok and result.province_id == "01" and result.commune_id is None


def test_missing_locality_and_date():
    data = payload()
    del data["locality"], data["date"]
    assert codes(v.validate_report(data)) == {"locality": [v.REQUIRED], "date": [v.REQUIRED]}


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("vneid", v.WRONG_TYPE),
        (["vneid", "printer"], v.UNKNOWN_VALUE),
        (["vneid", "vneid"], v.DUPLICATE_VALUE),
        ([1], v.UNKNOWN_VALUE),
    ],
)
def test_outage_systems(value, code):
    assert codes(v.validate_report(payload(outage_systems=value))) == {"outage_systems": [code]}


def test_texts_are_limited_to_2000_characters():
    assert v.validate_report(payload(proposals="x" * 2000)).ok
    assert codes(v.validate_report(payload(proposals="x" * 2001))) == {"proposals": [v.TOO_LONG]}
    assert codes(v.validate_report(payload(difficulties=5))) == {"difficulties": [v.WRONG_TYPE]}


def test_support_needed_is_a_boolean_that_needs_difficulties():
    assert codes(v.validate_report(payload(support_needed="true"))) == {"support_needed": [v.WRONG_TYPE]}
    assert codes(v.validate_report(payload(support_needed=1))) == {"support_needed": [v.WRONG_TYPE]}
    assert codes(v.validate_report(payload(support_needed=True, difficulties=""))) == {
        "support_needed": [v.DIFFICULTIES_REQUIRED]
    }
    assert codes(v.validate_report(payload(support_needed=True, difficulties="   "))) == {
        "support_needed": [v.DIFFICULTIES_REQUIRED]
    }
    assert v.validate_report(payload(support_needed=True, difficulties="Network down")).ok


def test_a_report_that_is_not_an_object():
    assert codes(v.validate_report(["00004"])) == {v.NON_FIELD: [v.NOT_AN_OBJECT]}


def test_every_bad_field_is_named_at_once():
    result = v.validate_report(payload(returned=-1, staff_present=13, colour=1, date="yesterday"))
    assert set(result.errors) == {"returned", "staff_present", "colour", "date"}
    assert all(e["message"] for errors in result.errors.values() for e in errors)


def test_localities_come_from_the_process_index_without_a_query_per_batch(django_assert_num_queries):
    from localities.services import locality_index

    items = [payload(code) for code in ("00004", "00008", "01", "79", "99999")]
    with django_assert_num_queries(2):  # the first use loads the index: provinces, communes
        locality_index()
    with django_assert_num_queries(0):  # an unknown code does not reload an index that was just loaded
        results = v.validate_reports(items)
    assert [r.ok for r in results] == [True, True, True, True, False]
    assert (results[0].province_id, results[0].commune_id) == ("01", "00004")


def test_messages_are_translated_and_codes_are_not():
    from django.utils import translation

    errors = {}
    for language in ("en", "vi"):
        with translation.override(language):
            errors[language] = v.validate_report(payload(returned=-1)).errors["returned"]
    assert errors["en"] == [{"code": v.NEGATIVE, "message": "Must be 0 or more."}]
    # The same code in Vietnamese; only the message is translated.
    assert [e["code"] for e in errors["vi"]] == ["negative"]
    assert errors["vi"][0]["message"] not in ("", "Must be 0 or more.")


def test_reason_of_a_correction():
    assert v.validate_reason("  typo ") == ("typo", [])
    assert v.validate_reason("")[1][0]["code"] == v.REQUIRED
    assert v.validate_reason(None)[1][0]["code"] == v.REQUIRED
    assert v.validate_reason(3)[1][0]["code"] == v.WRONG_TYPE
    assert v.validate_reason("x" * 2001)[1][0]["code"] == v.TOO_LONG


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ({"returned": " 12 "}, {"returned": 12}),
        ({"returned": "-3"}, {"returned": -3}),
        ({"returned": "12.5"}, {"returned": "12.5"}),
        ({"returned": 7.0}, {"returned": 7}),
        ({"returned": ""}, {}),
        ({"returned": None}, {}),
        ({"support_needed": "Có"}, {"support_needed": True}),
        ({"support_needed": "on"}, {"support_needed": True}),
        ({"support_needed": "false"}, {"support_needed": False}),
        ({"support_needed": "maybe"}, {"support_needed": "maybe"}),
        ({"outage_systems": "vneid; network"}, {"outage_systems": ["vneid", "network"]}),
        ({"date": datetime.datetime(2025, 9, 1, 0, 0)}, {"date": "2025-09-01"}),
        ({"locality": 4}, {"locality": 4}),
    ],
)
def test_text_cells_become_a_payload(cells, expected):
    assert v.payload_from_text(cells) == expected


def test_a_text_cell_that_is_not_a_number_gets_the_api_message():
    data = payload()
    data.update(v.payload_from_text({"returned": "two"}))
    assert codes(v.validate_report(data)) == {"returned": [v.WRONG_TYPE]}
