"""Warning rules in the quality queue (DESIGN.md §11): their effect on the national total is the gap to the
rule's bound (reports.quality.rule_gap), so they rank among the outliers; a correction judges the rules of the
report's version again, closing the warnings that no longer hold and opening new ones, every row kept."""

import datetime
import io

import pytest
from django.core.management import call_command

from reports import formspec, quality
from reports.models import QualityBand, QualityWarning
from tests.reports.conftest import local
from tests.reports.helpers import days_ago
from tests.reports.test_forms import v2_payload, version_2_workbook

URL = "/api/v1/reports/daily/"
QUEUE = "/api/v1/reports/quality/"


def _spec(rules, indicators=None):
    data = formspec.default_data()
    return formspec.build_spec({**data, "indicators": indicators or data["indicators"], "rules": rules})


def _rule(code, kind, left, op, right, field=""):
    return {"code": code, "kind": kind, "left": left, "op": op, "right": right, "field": field, "severity": "warning"}


def test_a_compare_rule_s_gap_is_the_move_of_the_named_figure_to_the_bound():
    spec = _spec(
        [
            _rule("cap", "compare", "received_online", "<=", "1000"),
            _rule("floor", "compare", "received_postal", ">=", "10"),
            _rule("right", "compare", "resolved_late", "<=", "returned", field="returned"),
            _rule("sum", "compare", "received_online + received_direct", "<=", "2 * received_postal"),
            _rule("double", "compare", "2 * digitized_dossiers", "<=", "documents_issued"),
        ]
    )
    rule = {r.code: r for r in spec.rules}
    values = {
        "received_online": 1500,
        "received_direct": 100,
        "received_postal": 700,
        "resolved_late": 9,
        "returned": 2,
        "digitized_dossiers": 30,
        "documents_issued": 40,
    }
    assert quality.rule_gap(rule["cap"], spec, values) == quality.RuleGap(500.0, 0.0, 1000.0, 1000.0)
    assert quality.rule_gap(rule["floor"], spec, {"received_postal": 4}) == quality.RuleGap(6.0, 10.0, 1e6, 10.0)
    # The named figure on the right side: returned must reach resolved_late (9).
    assert quality.rule_gap(rule["right"], spec, values) == quality.RuleGap(7.0, 9.0, 1_000_000.0, 9.0)
    # received_online + received_direct (1600) ≤ 2 × received_postal (1400): received_online must drop by 200.
    assert quality.rule_gap(rule["sum"], spec, values) == quality.RuleGap(200.0, 0.0, 1300.0, 1300.0)
    # Beyond what received_online can do alone (1600 ≤ 8): the whole gap, and the range ends at its minimum.
    short = {**values, "received_postal": 4}
    assert quality.rule_gap(rule["sum"], spec, short) == quality.RuleGap(1592.0, 0.0, 0.0, 0.0)
    # 2 × digitized_dossiers (60) ≤ documents_issued (40): digitized_dossiers must drop by 10, to 20.
    assert quality.rule_gap(rule["double"], spec, values) == quality.RuleGap(10.0, 0.0, 20.0, 20.0)


def test_conditions_gap_and_figures_that_do_not_add_up_have_no_effect():
    spec = _spec(
        [
            _rule("only", "only_when", "returned", "", "resolved_late"),
            _rule("needed", "required_when", "returned", "", "resolved_late"),
            _rule("why", "required_when", "difficulties", "", "support_needed"),
            _rule("flag", "compare", "support_needed", "<=", "0"),
        ]
    )
    rule = {r.code: r for r in spec.rules}
    assert quality.rule_gap(rule["only"], spec, {"returned": 7, "resolved_late": 0}) == quality.RuleGap(
        7.0, 0.0, 0.0, 0.0
    )
    # A missing figure's effect is its usual size: its band's median, when it has one.
    assert quality.rule_gap(rule["needed"], spec, {"returned": 0}, median=12.5).effect == 12.5
    assert quality.rule_gap(rule["needed"], spec, {"returned": 0}).effect == 0.0
    # Text and yes/no indicators are in no total.
    assert quality.rule_gap(rule["why"], spec, {"difficulties": "", "support_needed": True}).effect == 0.0
    assert quality.rule_gap(rule["flag"], spec, {"support_needed": True}).effect == 0.0


@pytest.fixture
def version_2(tmp_path, freeze):
    """Version 2 of the form (tests.reports.test_forms) in force from three days ago, with a second warning
    rule: received_online at least 5."""

    def edit(parts):
        rules = parts["rules"]
        parts["rules"] = rules._replace(
            rows=[*rules.rows, ["few_online", "compare", "received_online", ">=", "5", "", "warning", "", ""]]
        )

    today = days_ago(0)
    effective = today - datetime.timedelta(days=3)
    freeze(local(effective - datetime.timedelta(days=1), 9))
    call_command(
        "import_form",
        str(version_2_workbook(tmp_path, edit=edit)),
        "--apply",
        "--effective-from",
        effective.isoformat(),
        stdout=io.StringIO(),
    )
    freeze(local(today, 7))
    return effective


@pytest.mark.django_db
def test_a_rule_warning_carries_its_gap_and_ranks_by_it_in_the_queue(api_for, commune_key, steering, version_2):
    QualityBand.objects.create(
        locality="00004",
        province_id="01",
        indicator="received_online",
        median=100,
        mad=2,
        low=93,
        high=107,
        days=28,
        source="own",
        computed_at=datetime.datetime.now(datetime.UTC),
    )
    api = api_for(commune_key[1])
    answer = api.post(URL, v2_payload(version_2, consultations=1500), format="json")  # received_online 120
    assert answer.status_code == 201, answer.json()["errors"]
    # The answer's entry is the §11 shape, unchanged: a rule has no band.
    [entry] = [w for w in answer.json()["warnings"] if w["code"] == "busy_desk"]
    assert entry["expected"] is None and entry["value"] == 1500
    stored = QualityWarning.objects.get(code="busy_desk")
    assert (stored.effect, stored.expected_low, stored.expected_high, stored.median) == (500.0, 0.0, 1000.0, 1000.0)
    queue = api_for(user=steering).get(QUEUE, {"state": "open"}).json()["results"]
    assert [(w["code"], w["indicator"], w["effect"], w["expected"]) for w in queue] == [
        ("busy_desk", "consultations", 500.0, [0.0, 1000.0]),
        ("outlier", "received_online", 20.0, [93.0, 107.0]),
    ]


def _correct(api, day, **figures):
    body = {**v2_payload(day, **figures), "reason": "recounted"}
    del body["locality"], body["date"]
    response = api.put(f"{URL}00004/{day.isoformat()}/", body, format="json")
    assert response.status_code == 200, response.json()
    return [w["code"] for w in response.json()["warnings"]]


@pytest.mark.django_db
def test_a_correction_judges_the_rules_of_the_report_s_version_again(api_for, commune_key, version_2):
    api = api_for(commune_key[1])
    assert api.post(URL, v2_payload(version_2, consultations=1500), format="json").status_code == 201

    def states():
        return {
            w.code: (w.state, w.value, w.effect, w.closed_at is not None)
            for w in QualityWarning.objects.order_by("code")
        }

    # Explained, then corrected with the same figure: the explanation stands.
    assert (
        api.post(
            f"{URL}00004/{version_2.isoformat()}/explanations/",
            {"indicator": "consultations", "text": "Open day."},
            format="json",
        ).status_code
        == 200
    )
    assert "busy_desk" in _correct(api, version_2, consultations=1500, received_postal=6)
    assert states() == {"busy_desk": ("explained", 1500, 500.0, False)}
    # The rule holds again: the warning ends corrected; a newly broken rule opens its own.
    assert "few_online" in _correct(api, version_2, consultations=900, received_online=2, received_fully_online=0)
    assert states() == {
        "busy_desk": ("corrected", 1500, 500.0, True),
        "few_online": ("open", 2, 3.0, False),
    }
    # Broken again with another figure: the same row re-opens with its new gap; the other is corrected.
    assert _correct(api, version_2, consultations=1200)[-1:] == ["busy_desk"]
    assert states() == {
        "busy_desk": ("open", 1200, 200.0, False),
        "few_online": ("corrected", 2, 3.0, True),
    }
    assert QualityWarning.objects.count() == 2  # every warning the report ever had, none deleted
