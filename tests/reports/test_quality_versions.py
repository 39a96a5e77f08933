"""The bands follow the form version in force (DESIGN.md §11): a renamed indicator keeps its series' band, a
dropped one has none once its version ends, an added one (stored in `extra`) gets one once it has history, and
the POST judges it (PostgreSQL's one statement and SQLite's Python alike). Hand-computed medians and MADs."""

import datetime

import pytest

from reports import quality
from reports.models import FormVersion, QualityBand, QualityWarning
from tests.reports.factories import make_report
from tests.reports.helpers import days_ago
from tests.reports.test_forms import v2_payload
from tests.reports.test_quality_rules import version_2  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db
URL = "/api/v1/reports/daily/"


def test_series_value_leaves_out_reports_whose_version_lacks_it():
    column = quality.Series("returned", column=True, absent_in=(7,))
    assert column.value({"returned": 3, "form_version_id": 1}) == 3
    assert column.value({"returned": 0, "form_version_id": 7}) is None
    added = quality.Series("consultations", column=False)
    assert added.value({"extra": {"consultations": 9}}) == 9
    assert added.value({"extra": None}) is None and added.value({"extra": {"consultations": "x"}}) is None
    assert quality.Series("received_online", column=True).sql("r") == 'r."received_online"'
    assert "IN (7)" in column.sql("r") and "r.extra ->> 'consultations'" in added.sql("r")


@pytest.fixture
def history(version_2):  # noqa: F811 - the fixture imported above
    """00004: ten days of version 1 before version 2 (received_direct and returned), then version 2's three days
    (received_at_desk continues received_direct's series; returned is stored 0; consultations in `extra`)."""
    v2 = FormVersion.objects.get(number=2)
    direct = [10, 12, 11, 13, 12, 10, 11, 50, 12, 11]
    for offset, value in enumerate(direct):
        make_report("00004", version_2 - datetime.timedelta(days=1 + offset), received_direct=value, returned=offset)
    for offset, (value, consultations) in enumerate([(12, 7), (11, 9), (13, 20)]):
        make_report(
            "00004",
            version_2 + datetime.timedelta(days=offset),
            received_direct=value,
            returned=0,
            extra={"consultations": consultations},
            form_version_id=v2.pk,
        )
    return version_2


def band(indicator, locality="00004"):
    return QualityBand.objects.filter(locality=locality, indicator=indicator).first()


def test_bands_follow_the_version_in_force(history, settings):
    quality.bands_refresh()
    # received_direct (received_at_desk since version 2): the 13 values of both versions, sorted
    # 10 10 11 11 11 11 12 12 12 12 13 13 50: median 12; deviations 0 ×4, 1 ×6, 2 ×2, 38: MAD 1.
    found = band("received_direct")
    assert (found.median, found.mad, found.days, found.source) == (12.0, 1.0, 13, "own")
    # returned ended with version 1: no band, though its history is long enough.
    assert band("returned") is None
    # consultations: three values, too short for a band of its own or of its peers.
    assert band("consultations") is None
    settings.QUALITY_BAND_MIN_DAYS = 3
    quality.bands_refresh()
    # 7 9 20: median 9; deviations 2 0 11: MAD 2.
    found = band("consultations")
    assert (found.median, found.mad, found.days, found.source) == (9.0, 2.0, 3, "own")
    assert (found.low, found.high) == (2.0, 16.0)
    # One locality's refresh (after a correction) gives the same.
    QualityBand.objects.all().delete()
    quality.bands_refresh(locality="00004")
    assert band("consultations").median == 9.0 and band("returned") is None


def test_a_post_judges_an_added_figure_against_its_band(history, settings, api_for, commune_key):
    settings.QUALITY_BAND_MIN_DAYS = 3
    quality.bands_refresh()
    api = api_for(commune_key[1])
    answer = api.post(URL, v2_payload(days_ago(0), consultations=40, received_at_desk=12), format="json")
    assert answer.status_code == 201, answer.json()
    outliers = [w for w in answer.json()["warnings"] if w["code"] == "outlier"]
    assert [(w["indicator"], w["value"], w["expected"]) for w in outliers] == [("consultations", 40, [2.0, 16.0])]
    assert "consultations" in outliers[0]["message"]
    stored = QualityWarning.objects.get(code="outlier", indicator="consultations")
    assert (stored.value, stored.median, stored.effect) == (40, 9.0, 31.0)
    # Corrected inside its band: the warning ends corrected.
    body = {**v2_payload(days_ago(0), consultations=10, received_at_desk=12), "reason": "typo"}
    del body["locality"], body["date"]
    corrected = api.put(f"{URL}00004/{days_ago(0).isoformat()}/", body, format="json")
    assert corrected.status_code == 200, corrected.json()
    assert not [w for w in corrected.json()["warnings"] if w["code"] == "outlier"]
    stored.refresh_from_db()
    assert stored.state == "corrected"


def test_a_renamed_figure_s_warning_names_it_as_its_version_does(history, api_for, commune_key):
    quality.bands_refresh()  # received_direct's series: [8.5, 15.5]
    api = api_for(commune_key[1])
    answer = api.post(URL, v2_payload(days_ago(0), received_at_desk=30), format="json")
    assert answer.status_code == 201, answer.json()
    outliers = [w for w in answer.json()["warnings"] if w["code"] == "outlier"]
    assert [(w["indicator"], w["value"], w["expected"]) for w in outliers] == [("received_at_desk", 30, [8.5, 15.5])]
    # The clerk explains it by the field it sent.
    explained = api.post(
        f"{URL}00004/{days_ago(0).isoformat()}/explanations/",
        {"indicator": "received_at_desk", "text": "A school enrolment day."},
        format="json",
    )
    assert explained.status_code == 200, explained.json()
    # Corrected inside its band: the same warning ends corrected.
    body = {**v2_payload(days_ago(0), received_at_desk=12), "reason": "typo"}
    del body["locality"], body["date"]
    assert api.put(f"{URL}00004/{days_ago(0).isoformat()}/", body, format="json").status_code == 200
    warning = QualityWarning.objects.get(code="outlier")
    assert (warning.indicator, warning.state, warning.value) == ("received_at_desk", "corrected", 30)
