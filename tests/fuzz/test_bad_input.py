"""Hand-written bad input the fuzzer is unlikely to produce, against the report submission, the batch, the
assignment update and a list (DESIGN.md §10, "Bad input"): each is a 4xx whose JSON names the field or says
what is wrong, never a 5xx, and matches the schema (tests.fuzz.schema.send checks as the fuzzer does).

Already covered elsewhere, not repeated here: JSON nested 100,000 deep (report, batch, correction, update)
and lone surrogates (report, batch item, key, correction, update) in tests/reports/test_bad_input.py and
tests/tasks/test_assignments_api.py; broken JSON and bodies that are not objects for the single report in
tests/reports/test_daily_api.py; each figure's wrong types in tests/reports/test_validation.py."""

import json

import pytest

from reports.figures import INTEGER_FIELDS
from tests.fuzz.schema import send
from tests.reports.helpers import payload

pytestmark = pytest.mark.usefixtures("in_process_wsgi")
REPORT = "/api/v1/reports/daily/"
BATCH = "/api/v1/reports/daily/batch/"
UPDATES = "/api/v1/assignments/{id}/updates/"
DIGITS_5000 = "9" * 5000  # above Python's 4,300-digit limit for reading an integer
DIGITS_4000 = "9" * 4000
ONE_MB = "x" * 1024 * 1024


@pytest.fixture
def world(fuzz_world):
    return fuzz_world


def report_text(**overrides):
    """A valid report of Ba Đình for yesterday (already stored by the world: so a valid one would conflict),
    as JSON text with `overrides` written in verbatim."""
    data = payload("00008")
    text = json.dumps({k: v for k, v in data.items() if k not in overrides})
    extra = ", ".join(f'"{k}": {v}' for k, v in overrides.items())
    return text[:-1] + (", " + extra if extra else "") + "}"


def post_report(world, text):
    return send(REPORT, "POST", world.credentials["province_key"], raw=text.encode())


def post_batch(world, text):
    return send(BATCH, "POST", world.credentials["province_key"], raw=text.encode())


def post_update(world, text):
    t30 = world.targets[UPDATES][1]
    return send(UPDATES, "POST", world.credentials["commune_clerk"], raw=text.encode(), path_parameters=t30)


def errors(response, status=400):
    assert response.status_code == status, response.content
    return response.json()["errors"]


# --- the single report ---------------------------------------------------------------------------------------


def test_report_with_a_duplicated_key_names_it(world):
    response = post_report(world, report_text()[:-1] + ', "returned": 2, "returned": 3}')
    assert errors(response) == {
        "returned": [{"code": "duplicate_key", "message": "Given more than once: send each field once."}]
    }


def test_report_with_null_in_every_field_names_every_field(world):
    response = post_report(world, json.dumps(dict.fromkeys(payload(), None)))
    found = errors(response)
    assert {name: found[name][0]["code"] for name in INTEGER_FIELDS} == dict.fromkeys(INTEGER_FIELDS, "wrong_type")
    assert found["locality"][0]["code"] == found["date"][0]["code"] == "required"


def test_report_with_a_5000_digit_number_says_what_is_wrong(world):
    response = post_report(world, report_text(returned=DIGITS_5000))
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert "4300 digits" in response.json()["detail"]


def test_report_with_a_4000_digit_number_is_too_large(world):
    assert errors(post_report(world, report_text(returned=DIGITS_4000)))["returned"][0]["code"] == "too_large"


def test_report_with_a_1mb_string_is_refused_before_it_is_read(world):
    """One report is a few kB: a body far larger is refused whole (413), before it is parsed (issue 22)."""
    response = post_report(world, report_text(difficulties=json.dumps(ONE_MB), locality=json.dumps(ONE_MB)))
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_report_with_long_strings_names_the_fields(world):
    """Strings too long for their field, in a body small enough to read, are each named."""
    long = "x" * 20_000
    found = errors(post_report(world, report_text(difficulties=json.dumps(long), locality=json.dumps(long))))
    assert found["difficulties"][0]["code"] == "too_long"
    assert found["locality"][0]["code"] == "unknown_locality"


# --- the batch -----------------------------------------------------------------------------------------------


def test_batch_that_is_not_json_says_so(world):
    response = post_batch(world, '{"reports": [{"locality": "00008",')
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_batch_with_a_duplicated_key_names_its_path(world):
    response = post_batch(
        world, '{"reports": [' + report_text() + ", " + report_text(returned='1, "returned": 2') + "]}"
    )
    assert list(errors(response)) == ["reports[1].returned"]


@pytest.mark.parametrize("reports", ["null", json.dumps(ONE_MB), DIGITS_4000, '{"locality": "00008"}'])
def test_batch_whose_reports_are_not_a_list_is_refused(world, reports):
    response = post_batch(world, '{"reports": ' + reports + "}")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_batch"


def test_batch_with_a_5000_digit_number_says_what_is_wrong(world):
    response = post_batch(world, '{"reports": [' + report_text(returned=DIGITS_5000) + "]}")
    assert response.status_code == 400
    assert "4300 digits" in response.json()["detail"]


def test_batch_items_of_nulls_wrong_types_and_1mb_strings_are_each_named(world):
    """One bad item never rejects the others (README): the batch answers 200, each item its own errors."""
    items = [
        json.dumps(dict.fromkeys(payload(), None)),
        report_text(returned='"12"', staff_present="true", outage_systems='"vneid"'),
        report_text(proposals=json.dumps(ONE_MB)),
        report_text(),
    ]
    response = post_batch(world, '{"reports": [' + ", ".join(items) + "]}")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["invalid", "invalid", "invalid", "created"]
    assert results[0]["errors"]["returned"][0]["code"] == "wrong_type"
    assert {name: results[1]["errors"][name][0]["code"] for name in ("returned", "staff_present")} == {
        "returned": "wrong_type",
        "staff_present": "wrong_type",
    }
    assert "outage_systems" in results[1]["errors"]
    assert results[2]["errors"]["proposals"][0]["code"] == "too_long"


# --- the assignment update ---------------------------------------------------------------------------------


def test_update_that_is_not_json_says_so(world):
    response = post_update(world, '{"status": "in_progress", "progress": ')
    assert (response.status_code, response.json()["code"]) == (400, "parse_error")


def test_update_with_a_duplicated_key_names_it(world):
    response = post_update(world, '{"status": "in_progress", "progress": 10, "progress": 20, "version": 2}')
    assert list(errors(response)) == ["progress"]
    assert errors(response)["progress"][0]["code"] == "duplicate_key"


def test_update_with_null_in_every_field_names_the_required_ones(world):
    fields = ["status", "progress", "note", "evidence_url", "completed_on", "blocked_by", "blocked_reason", "version"]
    found = errors(post_update(world, json.dumps(dict.fromkeys(fields, None))))
    assert {"status", "progress", "version", "note", "evidence_url", "blocked_reason"} <= set(found)


def test_update_with_wrong_types_names_each(world):
    body = '{"status": 5, "progress": "ten", "version": [2], "completed_on": 20250701, "blocked_by": {"code": "BCA"}}'
    assert set(errors(post_update(world, body))) == {"status", "progress", "version", "completed_on", "blocked_by"}


def test_update_with_huge_numbers_and_strings(world):
    response = post_update(world, '{"status": "in_progress", "progress": ' + DIGITS_5000 + ', "version": 2}')
    assert (response.status_code, response.json()["code"]) == (400, "parse_error")
    found = errors(
        post_update(
            world,
            json.dumps({"status": "in_progress", "progress": int(DIGITS_4000), "note": ONE_MB, "version": 2}),
        )
    )
    assert set(found) == {"progress", "note"}


# --- a list ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"group": "abc"}, "group"),  # wrong type
        ({"level": "7"}, "level"),
        ({"overdue": "maybe"}, "overdue"),  # was read as "All"
        ({"group": DIGITS_5000}, "group"),  # huge number
        ({"task": ONE_MB}, "task"),  # 1 MB string
        ({"status": "null"}, "status"),  # null, as a query can write it
        ({"status": ["blocked", "bogus"]}, "status"),  # duplicated keys: the last one is judged
        ({"ordering": "-password"}, "ordering"),
    ],
)
def test_list_with_a_bad_filter_names_it(world, query, named):
    response = send("/api/v1/assignments/", "GET", world.credentials["commune_clerk"], query=query)
    assert response.status_code == 400
    assert named in response.json()


# --- local plans' sub-tasks and inspections (DESIGN.md §13) -----------------------------------------------------


def _subtask_body(world, **change):
    plan = world.targets["/api/v1/plans/{id}/"][0]["id"]
    from tasks.models import Assignment

    parent = Assignment.objects.get(task__code="T18", province_id="01", level="province").pk
    return {
        "plan": plan,
        "parent": parent,
        "title": "x",
        "department": "Sở",
        "deadline": "2025-09-01",
        "weight": "1",
        **change,
    }


@pytest.mark.parametrize(
    ("weight", "code"),
    [
        ("0", "not_positive"),
        ("-0.5", "not_positive"),
        ("Infinity", "invalid"),
        ("NaN", "invalid"),
        ("1e5000", "out_of_range"),
        ("0.001", "out_of_range"),
        ("1,5", "invalid"),
        (DIGITS_4000[:20], "out_of_range"),
    ],
)
def test_subtask_weights_are_refused_by_field(world, weight, code):
    answer = send(
        "/api/v1/subtasks/",
        "POST",
        world.credentials["province_officer"],
        raw=json.dumps(_subtask_body(world, weight=weight)).encode(),
    )
    assert errors(answer)["weight"][0]["code"] == code


def test_a_subtask_owner_outside_the_province_is_refused(world):
    answer = send(
        "/api/v1/subtasks/",
        "POST",
        world.credentials["province_officer"],
        raw=json.dumps(_subtask_body(world, department="", commune="26734")).encode(),
    )
    assert errors(answer)["commune"][0]["code"] == "outside_province"


def test_a_finding_outside_the_inspection_is_refused(world):
    inspection = world.targets["/api/v1/inspections/{id}/"][0]
    body = {
        "unit": "79",
        "visited_on": "2025-01-01",
        "text": "x",
        "severity": "low",
        "recommendation": "y",
        "deadline": "2025-02-01",
    }
    answer = send(
        "/api/v1/inspections/{id}/findings/",
        "POST",
        world.credentials["inspector"],
        path_parameters=inspection,
        raw=json.dumps(body).encode(),
    )
    found = errors(answer)
    assert found["unit"][0]["code"] == "outside_scope"
