"""The dashboards' selectors: pinned query counts (an N+1 shows as a failing number), and the permission
checks of the detail pages, which go through the querysets' scoping (`followed_by`)."""

import datetime

import pytest
from django.utils import timezone

from core.dates import PLAN_DATE, BadDay
from dashboards import selectors
from dashboards.rollups import rollup_rebuild_range
from dashboards.snapshots import snapshot_build
from tasks.scoping import scope_for_user
from tests.dashboards.test_dashboards import seed

pytestmark = pytest.mark.django_db


@pytest.fixture
def day():
    end = timezone.localdate() - datetime.timedelta(days=1)
    seed(2, end=end)
    rollup_rebuild_range(start=end - datetime.timedelta(days=3), end=end)
    snapshot_build(end)
    snapshot_build(end - datetime.timedelta(days=1))
    return end


def test_each_selector_runs_a_fixed_number_of_queries(day, steering, django_assert_num_queries):
    scope = scope_for_user(steering)
    calls = [
        (1, lambda: selectors.national_figures(day)),
        (2, lambda: selectors.provinces_figures(day)),
        (13, lambda: selectors.national_page(day)),
        (5, lambda: selectors.provinces_page(day, rank_by="green")),
        (9, lambda: selectors.phases_page()),
        (8, lambda: selectors.province_page(scope=scope, code="01", day=day)),
        (3, lambda: selectors.commune_page(scope=scope, code="00004", today=day)),
        (3, lambda: selectors.agencies_page()),
        (4, lambda: selectors.agency_page(scope=scope, code="BCA")),
    ]
    for expected, call in calls:
        with django_assert_num_queries(expected):
            call()


def test_the_national_json_twin_does_not_pay_for_the_page(day, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        figures = selectors.national_figures(day)
    assert figures == selectors.national(day)["figures"]


def test_a_day_before_the_first_rollup_counts_every_locality_as_missing(django_assert_num_queries):
    with django_assert_num_queries(2):
        figures = selectors.national_figures(PLAN_DATE)
    assert figures["completeness"] == {
        "expected": 3355,
        "received": 0,
        "on_time": 0,
        "late": 0,
        "missing": 3355,
        "approved": 0,
    }
    assert figures["as_of"] is None


@pytest.mark.parametrize(
    ("persona", "page", "code", "visible"),
    [
        ("province_officer", "commune", "00004", True),
        ("outsider_province_officer", "commune", "00004", False),
        ("commune_clerk", "commune", "00004", True),
        ("other_commune_clerk", "commune", "00004", False),
        ("agency_officer", "agency", "BCA", True),
        ("other_agency_officer", "agency", "BCA", True),
        ("province_officer", "agency", "NOPE", False),
    ],
)
def test_detail_pages_follow_the_querysets_scoping(request, persona, page, code, visible):
    scope = scope_for_user(request.getfixturevalue(persona))
    today = timezone.localdate()
    call = {
        "commune": lambda: selectors.commune_page(scope=scope, code=code, today=today),
        "agency": lambda: selectors.agency_page(scope=scope, code=code),
    }[page]
    if visible:
        assert call()
    else:
        with pytest.raises(selectors.NotFollowed):
            call()


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("2025-13-01", "invalid_date"),
        ("20250701", "invalid_date"),
        ("yesterday", "invalid_date"),
        ("2999-01-01", "date_in_future"),
        ("0001-01-01", "date_too_early"),
        ("2025-06-18", "date_too_early"),
    ],
)
def test_the_date_parameter_is_refused_with_a_code(value, code):
    with pytest.raises(BadDay) as refused:
        selectors.day_param(value)
    assert refused.value.code == code
    assert selectors.day_param("2025-06-19") == PLAN_DATE


@pytest.mark.parametrize(
    ("persona", "follows"),
    [
        ("steering", True),
        ("province_officer", True),
        ("outsider_province_officer", False),
        ("commune_clerk", False),
        ("agency_officer", False),
    ],
)
def test_a_provinces_aggregate_is_open_to_every_reader_but_its_communes_are_not(request, day, persona, follows):
    """The ranking links every province, so its page opens for every reader; who has not reported and the
    communes' histories are shown only to those who follow the province."""
    scope = scope_for_user(request.getfixturevalue(persona))
    data = selectors.province_page(scope=scope, code="01", day=day)
    assert data["follows"] is follows
    assert data["per_task"]  # the commune-level tasks' shares, for everyone
    assert data["missing_count"] > 0
    assert bool(data["missing"]) is follows and bool(data["communes"]) is follows
    with pytest.raises(selectors.NotFollowed):
        selectors.province_page(scope=scope, code="99", day=day)


def test_the_selectors_only_read_the_as_of_service_builds(steering):
    """A selector as of a day without snapshots builds nothing (it reads); snapshots.as_of_ensure builds that
    day's and the forecast window's, once, and the selector then shows them."""
    from dashboards.forecasts import FORECAST_WINDOW
    from dashboards.models import TaskSnapshot
    from dashboards.snapshots import as_of_ensure

    day = timezone.localdate() - datetime.timedelta(days=3)
    earlier = day - datetime.timedelta(days=FORECAST_WINDOW)
    assert not TaskSnapshot.objects.filter(date__in=[day, earlier]).exists()
    empty = selectors.phases(day)
    assert not TaskSnapshot.objects.exists()
    assert all(item["snapshot"] is None for item in empty["phases"])
    as_of_ensure(day)
    assert set(TaskSnapshot.objects.values_list("date", flat=True)) == {day, earlier}
    built = TaskSnapshot.objects.count()
    as_of_ensure(day)
    assert TaskSnapshot.objects.count() == built  # once
    assert all(item["snapshot"] is not None for item in selectors.phases(day)["phases"])
    as_of_ensure(None)  # the latest view reads the kept snapshots
    assert TaskSnapshot.objects.count() == built
