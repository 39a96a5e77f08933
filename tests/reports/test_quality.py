"""Data quality (DESIGN.md §11): bands against hand-computed medians and MADs (PostgreSQL's percentile_cont
and SQLite's Python give the same), the peers' fallback, outlier warnings on the POST (both paths), the
clerk's explanation, a correction that ends a warning, and the province's queue."""

import datetime
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from reports import quality, services
from reports.models import QualityBand, QualityWarning
from tests.reports.factories import make_report
from tests.reports.helpers import days_ago, payload
from tests.reports.test_fastpath import _connection_kept, _fresh_keys, both  # noqa: F401 - the WSGI calls' fixtures

pytestmark = pytest.mark.django_db
URL = "/api/v1/reports/daily/"
QUEUE = "/api/v1/reports/quality/"


def history(locality, values, *, start=1, **overrides):
    """Reports of `locality` on the days before yesterday+start, received_online taking `values` newest first."""
    for offset, value in enumerate(values):
        make_report(
            locality,
            days_ago(start + offset),
            received_online=value,
            received_fully_online=0,
            **overrides,
        )


def band(locality, indicator="received_online"):
    return QualityBand.objects.get(locality=locality, indicator=indicator)


def test_band_is_median_plus_minus_k_mad_of_own_history():
    history("00004", [10, 12, 11, 13, 12, 10, 11, 50, 12, 11])
    quality.bands_refresh()
    # sorted 10 10 11 11 11 12 12 12 13 50: median 11.5; |deviations| .5 ×6, 1.5 ×3, 38.5: MAD 0.5
    found = band("00004")
    assert (found.median, found.mad, found.days, found.source) == (11.5, 0.5, 10, "own")
    assert (found.low, found.high) == (11.5 - 3.5 * 0.5, 11.5 + 3.5 * 0.5)


def test_band_reads_only_the_last_n_reported_days(settings):
    settings.QUALITY_BAND_DAYS = 7
    # The three oldest (1000s) fall outside the last seven reported days.
    history("00004", [4, 6, 5, 7, 5, 9, 5, 1000, 1000, 1000])
    quality.bands_refresh()
    # 4 5 5 5 6 7 9: median 5; deviations 1 0 0 0 1 2 4: MAD 1
    found = band("00004")
    assert (found.median, found.mad, found.days) == (5.0, 1.0, 7)
    assert (found.low, found.high) == (1.5, 8.5)


def test_low_end_is_never_below_zero():
    history("00004", [0, 1, 2, 0, 1, 2, 0, 1, 2])
    quality.bands_refresh()
    # median 1, MAD 1: 1 − 3.5 would be negative
    assert (band("00004").low, band("00004").high) == (0.0, 4.5)


def test_short_history_takes_the_province_peers():
    history("00004", [10, 12, 11, 13, 12, 10, 11, 50, 12, 11])
    history("00008", [11, 11, 11])
    quality.bands_refresh()
    # peers of Hà Nội: the 13 values 10 10 11 11 11 11 11 11 12 12 12 13 50: median 11; deviations
    # 0 ×6, 1 ×5, 2, 39: MAD 1
    found = band("00008")
    assert (found.median, found.mad, found.days, found.source) == (11.0, 1.0, 13, "peers")
    assert (found.low, found.high) == (7.5, 14.5)
    # A commune of the province that never reported gets the peers' band too; another province's does not.
    assert band("00025").source == "peers"
    assert not QualityBand.objects.filter(province_id="04").exists()


def test_flat_history_takes_the_peers_and_a_flat_province_stores_nothing():
    history("00004", [20] * 10, outage_minutes=0)
    quality.bands_refresh()
    # received_online is flat for the only reporting commune: its peers are flat too, so no band
    assert not QualityBand.objects.filter(indicator="received_online").exists()
    assert not QualityBand.objects.filter(indicator="outage_minutes").exists()
    spread = [10, 30, 12, 28, 14, 26, 16, 24, 18, 22]
    history("00008", spread, outage_minutes=0)
    history("00025", spread, outage_minutes=0)
    quality.bands_refresh()
    # peers: 20 ×10 and the two spreads: median 20; deviations 0 ×10, then 2, 4, 6, 8, 10 four times each: MAD 4
    found = band("00004")
    assert (found.source, found.median, found.mad) == ("peers", 20.0, 4.0)
    assert band("00008").source == "own"


def test_province_own_report_uses_own_history_only():
    history("01", [100, 110, 120])  # too short, and a province has no peers
    history("00004", [10, 12, 11, 13, 12, 10, 11, 50, 12, 11])
    quality.bands_refresh()
    assert not QualityBand.objects.filter(locality="01").exists()
    history("01", [105, 115, 95, 130], start=4)
    quality.bands_refresh()
    assert band("01").source == "own"


def test_refresh_twice_gives_the_same_rows_and_one_locality_refreshes_alone():
    history("00004", [10, 12, 11, 13, 12, 10, 11, 50, 12, 11])
    first = quality.bands_refresh()
    assert quality.bands_refresh() == first == QualityBand.objects.count()
    QualityBand.objects.filter(locality="00008").delete()
    assert quality.bands_refresh(locality="00004") == QualityBand.objects.filter(locality="00004").count()
    assert not QualityBand.objects.filter(locality="00008").exists()


def stored_band(locality="00004", indicator="received_online", low=80.0, high=110.0, median=100.0):
    return QualityBand.objects.create(
        locality=locality,
        province_id="01",
        indicator=indicator,
        median=median,
        mad=(high - median) / 3.5,
        low=low,
        high=high,
        days=28,
        source="own",
        computed_at=datetime.datetime.now(datetime.UTC),
    )


def test_no_band_no_outlier_warning(api_for, commune_key):
    response = api_for(commune_key[1]).post(URL, payload(), format="json")
    assert response.status_code == 201
    assert [w["code"] for w in response.json()["warnings"]] == []
    assert not QualityWarning.objects.exists()


def test_figure_outside_its_band_is_accepted_with_a_warning(api_for, commune_key):
    stored_band()
    stored_band(indicator="returned", low=0, high=5, median=2)  # returned = 2: inside
    response = api_for(commune_key[1]).post(URL, payload(), format="json")  # received_online = 120
    assert response.status_code == 201
    [warning] = response.json()["warnings"]
    assert {k: warning[k] for k in ("code", "indicator", "value", "expected")} == {
        "code": "outlier",
        "indicator": "received_online",
        "value": 120,
        "expected": [80.0, 110.0],
    }
    assert "120" in warning["message"]
    stored = QualityWarning.objects.get()
    assert (stored.locality, stored.indicator, stored.value, stored.state, stored.effect) == (
        "00004",
        "received_online",
        120,
        "open",
        20.0,
    )
    assert (stored.expected_low, stored.expected_high, stored.date) == (80.0, 110.0, days_ago(1))


def test_the_fast_path_and_the_full_stack_answer_the_same_warnings(commune_key):
    stored_band()
    requests = [((payload(),), {"key": commune_key[1]}), ((payload(day=days_ago(2)),), {"key": commune_key[1]})]
    fast, full = both(requests)
    assert [(s, body) for s, _h, body in fast] == [(s, body) for s, _h, body in full]
    assert [s for s, _h, _b in fast] == [201, 201]
    assert [w["code"] for w in json.loads(fast[0][2])["warnings"]] == ["outlier"]


def test_a_post_with_bands_costs_no_more_round_trips_on_postgresql(api_for, commune_key, django_assert_num_queries):
    from localities.services import locality_index

    stored_band()
    api = api_for(commune_key[1])
    api.get(URL)  # the key's last use recorded
    locality_index()
    # PostgreSQL: the key, then one statement (the bands checked and the warning stored in it); SQLite adds the
    # bands' lookup and the warnings' insert to its eight.
    with django_assert_num_queries(2 if connection.vendor == "postgresql" else 10):
        assert api.post(URL, payload(), format="json").status_code == 201
    assert QualityWarning.objects.count() == 1


def test_batch_items_get_their_own_warnings(api_for, province_key):
    stored_band()
    body = {"reports": [payload(), payload("00008"), payload("01")]}
    results = api_for(province_key[1]).post(URL + "batch/", body, format="json").json()["results"]
    assert [[w["code"] for w in r["warnings"]] for r in results] == [["outlier"], [], []]


def explain(api, indicator="received_online", text="A job fair brought twice the usual visitors.", locality="00004"):
    return api.post(
        f"{URL}{locality}/{days_ago(1).isoformat()}/explanations/",
        {"indicator": indicator, "text": text},
        format="json",
    )


def test_clerk_explains_an_open_warning(api_for, commune_key):
    stored_band()
    api = api_for(commune_key[1])
    api.post(URL, payload(), format="json")
    response = explain(api)
    assert response.status_code == 200
    body = response.json()
    assert (body["state"], body["indicator"], body["explanation"]) == (
        "explained",
        "received_online",
        "A job fair brought twice the usual visitors.",
    )
    assert QualityWarning.objects.get().state == "explained"


def test_explaining_a_figure_without_an_open_warning_is_a_400_naming_indicator(api_for, commune_key):
    stored_band()
    api = api_for(commune_key[1])
    api.post(URL, payload(), format="json")
    response = explain(api, indicator="returned")
    assert response.status_code == 400
    assert response.json()["errors"]["indicator"][0]["code"] == "no_open_warning"
    explain(api)
    again = explain(api)  # already explained
    assert again.status_code == 400 and "indicator" in again.json()["errors"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"indicator": "received_online"}, "text"),
        ({"indicator": "received_online", "text": "   "}, "text"),
        ({"indicator": "received_online", "text": "x" * 2001}, "text"),
        ({"text": "why"}, "indicator"),
        ({"indicator": 5, "text": "why"}, "indicator"),
        ({"indicator": "received_online", "text": "why", "extra": 1}, "extra"),
    ],
)
def test_bad_explanations_name_the_field(api_for, commune_key, body, field):
    stored_band()
    api = api_for(commune_key[1])
    api.post(URL, payload(), format="json")
    response = api.post(f"{URL}00004/{days_ago(1).isoformat()}/explanations/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_explanation_of_someone_elses_report_is_refused(api_for, commune_key, other_commune_key):
    stored_band()
    api_for(commune_key[1]).post(URL, payload(), format="json")
    assert explain(api_for(other_commune_key[1])).status_code == 404
    assert explain(api_for(commune_key[1]), locality="00008").status_code == 404


def test_correction_inside_the_band_marks_the_warning_corrected(api_for, commune_key):
    stored_band()
    api = api_for(commune_key[1])
    api.post(URL, payload(), format="json")
    body = {**payload(received_online=100), "reason": "typo"}
    del body["locality"], body["date"]
    response = api.put(f"{URL}00004/{days_ago(1).isoformat()}/", body, format="json")
    assert response.status_code == 200, response.json()
    assert [w["code"] for w in response.json()["warnings"]] == []
    warning = QualityWarning.objects.get()
    assert (warning.state, warning.value) == ("corrected", 120)
    assert warning.closed_at is not None


def test_correction_still_outside_keeps_the_warning_open_with_the_new_value(api_for, commune_key):
    stored_band()
    api = api_for(commune_key[1])
    api.post(URL, payload(), format="json")
    explain(api)
    body = {**payload(received_online=130), "reason": "recounted"}
    del body["locality"], body["date"]
    response = api.put(f"{URL}00004/{days_ago(1).isoformat()}/", body, format="json")
    assert [w["value"] for w in response.json()["warnings"]] == [130]
    warning = QualityWarning.objects.get()
    assert (warning.state, warning.value, warning.effect) == ("open", 130, 30.0)


def test_correction_refreshes_the_locality_bands(api_for, commune_key, django_capture_on_commit_callbacks):
    history("00004", [10, 12, 11, 13, 12, 10, 11, 50, 12, 11], start=2)
    services.daily_report_submit(payload=payload(received_online=11, received_fully_online=0), client=commune_key[0])
    assert not QualityBand.objects.exists()
    body = {**payload(received_online=12, received_fully_online=0), "reason": "recounted"}
    del body["locality"], body["date"]
    with django_capture_on_commit_callbacks(execute=True):
        api_for(commune_key[1]).put(f"{URL}00004/{days_ago(1).isoformat()}/", body, format="json")
    assert band("00004").days == 11


@pytest.fixture
def queue(province_key, outsider_province_key):
    """Open warnings of Ba Đình (effect 20), Ngọc Hà (effect 50) and Hà Nội itself (effect 5), and one of
    Hồ Chí Minh City's Phường Sài Gòn (effect 80)."""
    stored_band()
    stored_band(locality="00008", low=40, high=60, median=70)  # 120 - 70 = 50
    stored_band(locality="01", low=100, high=110, median=115)  # 120 - 115 = 5
    QualityBand.objects.create(
        locality="25747",
        province_id="79",
        indicator="received_online",
        median=40,
        mad=1,
        low=36.5,
        high=43.5,
        days=28,
        source="own",
        computed_at=datetime.datetime.now(datetime.UTC),
    )
    services.daily_report_submit_batch(
        payloads=[payload("00004"), payload("00008"), payload("01")], client=province_key[0]
    )
    services.daily_report_submit(payload=payload("25747"), client=outsider_province_key[0])


def queued(response):
    assert response.status_code == 200, response.json()
    return [(w["locality"], w["effect"]) for w in response.json()["results"]]


def test_queue_is_ordered_by_the_effect_on_the_national_total(api_for, steering, queue, django_assert_num_queries):
    api = api_for(user=steering)
    api.get(QUEUE)
    with django_assert_num_queries(5):  # session, user, membership, count, page
        response = api.get(QUEUE, {"state": "open"})
    assert queued(response) == [("25747", 80.0), ("00008", 50.0), ("00004", 20.0), ("01", 5.0)]
    first = response.json()["results"][0]
    assert {k: first[k] for k in ("indicator", "value", "expected", "state", "explanation", "follow_up")} == {
        "indicator": "received_online",
        "value": 120,
        "expected": [36.5, 43.5],
        "state": "open",
        "explanation": "",
        "follow_up": False,
    }


def test_queue_is_scoped(api_for, province_officer, commune_clerk, outsider_province_officer, agency_officer, queue):
    assert queued(api_for(user=province_officer).get(QUEUE)) == [("00008", 50.0), ("00004", 20.0), ("01", 5.0)]
    assert queued(api_for(user=commune_clerk).get(QUEUE)) == [("00004", 20.0)]
    assert queued(api_for(user=outsider_province_officer).get(QUEUE, {"province": "01"})) == []
    assert queued(api_for(user=agency_officer).get(QUEUE)) == []


def test_queue_filters_by_province_and_state(api_for, steering, commune_key, queue):
    explain(api_for(commune_key[1]))
    api = api_for(user=steering)
    assert queued(api.get(QUEUE, {"province": "01", "state": "open"})) == [("00008", 50.0), ("01", 5.0)]
    explained = api.get(QUEUE, {"state": "explained"}).json()["results"]
    assert [(w["locality"], w["explanation"]) for w in explained] == [
        ("00004", "A job fair brought twice the usual visitors.")
    ]
    assert api.get(QUEUE, {"state": "bogus"}).status_code == 400


def test_province_confirms_and_flags_warnings(province_officer, commune_clerk, queue):
    from tasks.scoping import scope_for_user

    warning = QualityWarning.objects.get(locality="00008")
    scope = scope_for_user(province_officer)
    quality.warning_review(warning_id=warning.pk, action="follow_up", user=province_officer, scope=scope)
    done = quality.warning_review(warning_id=warning.pk, action="confirm", user=province_officer, scope=scope)
    assert (done.state, done.follow_up, done.closed_by) == ("confirmed", True, province_officer)
    with pytest.raises(ValidationError):
        quality.warning_review(warning_id=warning.pk, action="confirm", user=province_officer, scope=scope)
    clerk = scope_for_user(commune_clerk)
    own = QualityWarning.objects.get(locality="00004")
    with pytest.raises(PermissionDenied):
        quality.warning_review(warning_id=own.pk, action="confirm", user=commune_clerk, scope=clerk)
    with pytest.raises(quality.NotFound):
        quality.warning_review(warning_id=warning.pk, action="follow_up", user=commune_clerk, scope=clerk)


# --- pages --------------------------------------------------------------------------------------------------


@pytest.fixture
def browser(client):
    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_queue_page_lists_and_exports_what_the_api_lists(browser, province_officer, queue):
    browser.force_login(province_officer)
    page = browser.get("/reports/quality/", {"state": "open"})
    assert page.status_code == 200
    text = page.content.decode()
    assert text.index('data-warning="' + str(QualityWarning.objects.get(locality="00008").pk)) < text.index(
        'data-warning="' + str(QualityWarning.objects.get(locality="00004").pk)
    )
    assert "25747" not in text
    assert "Confirm the figure" in text
    csv = b"".join(browser.get("/reports/quality/", {"state": "open", "format": "csv"}).streaming_content).decode()
    assert [line.split(",")[0] for line in csv.splitlines()[1:]] == ['"00008"', '"00004"', '"01"']
    xlsx = browser.get("/reports/quality/", {"format": "xlsx"})
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")


def test_officer_flags_and_confirms_from_the_page(browser, province_officer, commune_clerk, queue):
    warning = QualityWarning.objects.get(locality="00008")
    browser.force_login(province_officer)
    assert browser.post(f"/reports/quality/{warning.pk}/follow_up/").status_code == 302
    assert browser.post(f"/reports/quality/{warning.pk}/confirm/").status_code == 302
    warning.refresh_from_db()
    assert (warning.follow_up, warning.state) == (True, "confirmed")
    browser.force_login(commune_clerk)
    assert browser.post(f"/reports/quality/{warning.pk}/no_follow_up/").status_code == 404
    own = QualityWarning.objects.get(locality="00004")
    assert browser.post(f"/reports/quality/{own.pk}/confirm/").status_code == 403


def test_clerk_explains_on_the_report_page(browser, commune_clerk, queue):
    browser.force_login(commune_clerk)
    day = days_ago(1).isoformat()
    page = browser.get(f"/reports/00004/{day}/").content.decode()
    assert 'data-testid="quality-warnings"' in page and "Explain" in page
    response = browser.post(f"/reports/00004/{day}/explain/", {"indicator": "received_online", "text": "A fair."})
    assert response.status_code == 302
    assert QualityWarning.objects.get(locality="00004").explanation == "A fair."
    again = browser.post(f"/reports/00004/{day}/explain/", {"indicator": "received_online", "text": "x"}, follow=True)
    assert "no open warning" in again.content.decode()


def test_demo_has_explained_waiting_and_confirmed_warnings_and_approved_days(province_officer):
    from reports.demo import APPROVED_DAYS, seed_quality, seed_reports
    from reports.models import ReportApproval
    from tasks.demo import demo_data_allowed

    end = days_ago(1)
    with demo_data_allowed():
        seed_reports(start=end - datetime.timedelta(days=9), end=end)
        warnings, approvals = seed_quality(end=end)
        assert seed_quality(end=end) == (0, 0)  # once
    hanoi = QualityWarning.objects.filter(province_id="01")
    states = set(hanoi.values_list("state", flat=True))
    assert {"open", "explained", "confirmed"} <= states
    assert warnings == QualityWarning.objects.count() > 0
    assert approvals == ReportApproval.objects.count() > 0
    approved_days = set(ReportApproval.objects.values_list("date", flat=True))
    assert approved_days == {end - datetime.timedelta(days=i) for i in APPROVED_DAYS} | {end}
    assert set(ReportApproval.objects.filter(date=end).values_list("province_id", flat=True)) == {"01"}
    assert not ReportApproval.objects.filter(report__quality_warnings__state="open").exists()
    assert QualityBand.objects.filter(locality="00004").exists()
