"""The plan's targets as data: loaded from fixtures, computed from the rollups against sums of the raw
reports, entered with evidence and history, missing shown as missing, as of a day."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum
from django.utils import timezone

from core.models import AppendOnlyError
from dashboards.models import Target, TargetValue
from dashboards.targets import target_value_enter, target_values, targets_load
from reports.models import DailyReport
from tasks.roles import Role
from tasks.scoping import scope_for_user
from tests.conftest import make_user
from tests.dashboards.test_dashboards import seed

pytestmark = pytest.mark.django_db


@pytest.fixture
def vpcp_officer(db):
    """An officer of the Government Office (VPCP), responsible for the entered portal targets."""
    return make_user("officer-vpcp", Role.AGENCY_OFFICER, agency="VPCP")


def by_code(items):
    return {item["target"].code: item for item in items}


def test_load_reference_loads_the_public_targets_once():
    assert Target.objects.count() == 9
    assert targets_load() == 0
    fully_online = Target.objects.get(code="fully_online_share")
    assert (fully_online.target_value, fully_online.method, fully_online.level) == (0.8, "computed", "province")
    assert Target.objects.get(code="e_result_services").agency.code == "VPCP"


def test_computed_targets_equal_sums_of_the_raw_reports():
    _start, end = seed(3)
    items = by_code(target_values(end))
    reports = DailyReport.objects.filter(date__range=(end - datetime.timedelta(days=29), end))
    sums = reports.aggregate(
        f=Sum("received_fully_online"), o=Sum("received_online"), d=Sum("received_direct"), p=Sum("received_postal")
    )
    expected = sums["f"] / (sums["o"] + sums["d"] + sums["p"])
    assert items["fully_online_share"]["value"] == pytest.approx(expected)
    hanoi = next(p for p in items["fully_online_share"]["provinces"] if p["province"] == "01")
    h = reports.filter(province_id="01").aggregate(
        f=Sum("received_fully_online"), o=Sum("received_online"), d=Sum("received_direct"), p=Sum("received_postal")
    )
    assert hanoi["value"] == pytest.approx(h["f"] / (h["o"] + h["d"] + h["p"]))
    # "day" period: the staff stock of that day only.
    day = reports.filter(date=end).aggregate(s=Sum("staff_with_digital_signature"), a=Sum("staff_assigned"))
    assert items["staff_digital_signature_share"]["value"] == pytest.approx(day["s"] / day["a"])
    assert items["fully_online_share"]["met"] is (expected >= 0.8)


def test_a_missing_measurement_is_missing_never_zero():
    day = timezone.localdate() - datetime.timedelta(days=1)
    items = by_code(target_values(day))  # no report and no entered value anywhere
    assert items["fully_online_share"]["value"] is None and items["fully_online_share"]["met"] is None
    assert all(p["value"] is None for p in items["fully_online_share"]["provinces"])
    assert items["e_result_services"]["value"] is None and items["e_result_services"]["met"] is None


def test_entered_values_come_from_the_responsible_agency_with_evidence(vpcp_officer, agency_officer):
    target = Target.objects.get(code="e_result_services")
    today = timezone.localdate()
    with pytest.raises(PermissionDenied):
        target_value_enter(
            target=target,
            actor=agency_officer,
            scope=scope_for_user(agency_officer),
            value=900,
            measured_on=today.isoformat(),
            evidence_url="https://x.gov.vn/a",
        )
    with pytest.raises(ValidationError) as refused:
        target_value_enter(
            target=target,
            actor=vpcp_officer,
            scope=scope_for_user(vpcp_officer),
            value="many",
            measured_on="2025-13-01",
            evidence_url="",
        )
    assert set(refused.value.message_dict) == {"value", "measured_on", "evidence_url"}
    value = target_value_enter(
        target=target,
        actor=vpcp_officer,
        scope=scope_for_user(vpcp_officer),
        value="990",
        measured_on=today.isoformat(),
        evidence_url="https://dichvucong.gov.vn/report",
    )
    item = by_code(target_values(today))["e_result_services"]
    assert (item["value"], item["met"], item["entry"]) == (990.0, True, value)
    # As of yesterday it was not known yet: missing, not 990.
    assert by_code(target_values(today - datetime.timedelta(days=1)))["e_result_services"]["value"] is None
    with pytest.raises(AppendOnlyError):
        value.value = 1
        value.save()
    with pytest.raises(AppendOnlyError):
        TargetValue.objects.update(value=0)


def test_targets_run_a_fixed_number_of_queries(django_assert_num_queries, vpcp_officer):
    seed(2)
    day = timezone.localdate() - datetime.timedelta(days=1)
    with django_assert_num_queries(5):
        target_values(day)
    target = Target.objects.get(code="dossiers_per_service")
    for code in ("01", "79", "04"):
        target_value_enter(
            target=target,
            actor=vpcp_officer,
            scope=scope_for_user(vpcp_officer),
            value=1200,
            measured_on=day.isoformat(),
            evidence_url="https://x.gov.vn/p",
            province=code,
        )
    with django_assert_num_queries(5):
        items = by_code(target_values(timezone.localdate()))  # entered today: known as of today
    provinces = {p["province"]: p for p in items["dossiers_per_service"]["provinces"]}
    assert provinces["01"]["value"] == 1200 and provinces["01"]["met"] is True
    assert provinces["48"]["value"] is None


def test_targets_api_gives_the_contract_shape(client, steering):
    _start, end = seed(1)
    client.force_login(steering)
    body = client.get("/api/v1/targets/", {"date": end.isoformat()}).json()
    item = next(t for t in body if t["code"] == "fully_online_share")
    assert {"code", "target", "value", "met", "provinces", "as_of"} <= set(item)
    assert item["target"] == 0.8 and len(item["provinces"]) == 34
    assert client.get("/api/v1/targets/", {"date": "2999-01-01"}).status_code == 400
    assert client.get("/api/v1/targets/", {"date": "soon"}).status_code == 400


def test_the_targets_pages_show_values_and_let_the_agency_enter_one(client, steering, vpcp_officer):
    client.force_login(steering)
    page = client.get("/dashboard/targets/")
    assert page.status_code == 200 and 'data-testid="target-e_result_services"' in page.text
    assert client.post("/dashboard/targets/e_result_services/", {"value": "1"}).status_code == 403
    client.force_login(vpcp_officer)
    bad = client.post("/dashboard/targets/e_result_services/", {"value": "x", "measured_on": "", "evidence_url": ""})
    assert bad.status_code == 400 and 'data-field="value"' in bad.text
    ok = client.post(
        "/dashboard/targets/e_result_services/",
        {"value": "981", "measured_on": timezone.localdate().isoformat(), "evidence_url": "https://x.gov.vn/e"},
    )
    assert ok.status_code == 302
    assert "981" in client.get("/dashboard/targets/e_result_services/").text
    assert 'data-testid="target-cards"' in client.get("/dashboard/").text
