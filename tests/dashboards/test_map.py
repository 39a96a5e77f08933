"""The provinces' tile map (DESIGN.md §14): 34 squares placed as on the map, coloured by the measure the
page ranks by, a legend, links to the province pages, the Hoàng Sa and Trường Sa archipelagos marked."""

import re

import pytest

from dashboards import maps
from localities.models import Province
from tests.dashboards.test_dashboards import seed

pytestmark = pytest.mark.django_db


def test_every_province_has_a_tile_of_its_own():
    positions = maps.tile_positions()
    assert set(positions) == set(Province.objects.values_list("code", flat=True))
    assert len(set(positions.values())) == 34  # no two squares on one place
    # North above south: Hà Nội above Huế above Hồ Chí Minh City above Cà Mau.
    assert positions["01"][1] < positions["46"][1] < positions["79"][1] < positions["96"][1]


def test_the_band_of_a_share():
    assert [maps.band(v) for v in (None, 0, 0.19, 0.2, 0.5, 0.99, 1.0)] == [None, 0, 0, 1, 2, 4, 4]


def test_the_provinces_page_draws_the_map_by_the_chosen_measure(client, steering):
    _start, day = seed(2)
    client.force_login(steering)
    page = client.get(f"/dashboard/provinces/?date={day.isoformat()}&rank=completeness").content.decode()
    svg = page[page.index('data-testid="province-map"') :]
    links = re.findall(r'<a href="/dashboard/provinces/(\d{2})/\?date=[\d-]+" data-code="\d{2}" data-band="(\w+)"', svg)
    assert len(links) == 34
    assert {code for code, _band in links} == set(Province.objects.values_list("code", flat=True))
    from dashboards import selectors

    data = selectors.provinces_page(day, rank_by="completeness")
    expected = {i["province"].code: str(maps.band(i["completeness_share"])) for i in data["items"]}
    assert dict(links) == {code: (b if b != "None" else "none") for code, b in expected.items()}
    assert 'data-testid="archipelago-hoang_sa"' in svg and 'data-testid="archipelago-truong_sa"' in svg
    assert "Quần đảo Hoàng Sa" in svg and "Quần đảo Trường Sa" in svg
    assert 'data-testid="map-legend"' in svg and svg.count("map-band-") >= 34
