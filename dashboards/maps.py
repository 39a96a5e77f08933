"""The provinces on a map (DESIGN.md §14): a tile map, one square per province placed as on the map of Viet
Nam, with the Hoàng Sa and Trường Sa archipelagos marked, coloured by the measure the provinces dashboard
ranks by, rendered on the server as SVG (it prints, works without JavaScript, and is cheap to test).

Why tiles and not boundaries: no boundary data of the 34 provinces formed on 1 July 2025 was found under a
licence the portal can ship that also shows Hoàng Sa and Trường Sa as official maps of Viet Nam do; DESIGN.md
allows the tile map then. The positions are the project's own (fixtures/province_tiles.csv; fixtures/README.md
says so). Equal squares also keep a small province as visible as a large one.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

TILES = Path(settings.BASE_DIR) / "fixtures" / "province_tiles.csv"
SIZE, GAP, MARGIN = 64, 4, 8
# Shares in five equal bands, darker is better; a province without a value is grey.
BANDS = 5
# Where the archipelagos are drawn, east of the province they belong to (column, row), and that province.
ARCHIPELAGOS = [("hoang_sa", 5.6, 8.6, "48"), ("truong_sa", 5.4, 13.4, "56")]


@functools.cache
def tile_positions() -> dict[str, tuple[int, int]]:
    with TILES.open(encoding="utf-8") as handle:
        return {row["code"]: (int(row["column"]), int(row["row"])) for row in csv.DictReader(handle)}


def short_name(name: str) -> str:
    for prefix in ("Thành phố ", "Tỉnh "):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def band(value: float | None) -> int | None:
    if value is None:
        return None
    return min(BANDS - 1, max(0, int(value * BANDS)))


@dataclass(frozen=True)
class Tile:
    code: str
    name: str
    label: str
    x: int
    y: int
    value: float | None
    band: int | None


def province_map(items: list[dict[str, Any]], *, measure: str) -> dict[str, Any]:
    """What templates/dashboards/_map.html draws: a tile per province of `items` (the provinces dashboard's
    rows), coloured by `measure` (`green_share` or `completeness_share`), the legend and the archipelagos."""
    positions = tile_positions()
    tiles = []
    for item in items:
        province = item["province"]
        column, row = positions[province.code]
        value = item.get(measure)
        tiles.append(
            Tile(
                province.code,
                province.name,
                short_name(province.name),
                MARGIN + column * (SIZE + GAP),
                MARGIN + row * (SIZE + GAP),
                value,
                band(value),
            )
        )
    by_code = {tile.code: tile for tile in tiles}
    names = {
        "hoang_sa": _("Hoàng Sa archipelago (Đà Nẵng)"),
        "truong_sa": _("Trường Sa archipelago (Khánh Hòa)"),
    }
    islands = [
        {
            "key": key,
            "name": names[key],
            "x": round(MARGIN + column * (SIZE + GAP)),
            "y": round(MARGIN + row * (SIZE + GAP)),
            "province": by_code.get(code),
        }
        for key, column, row, code in ARCHIPELAGOS
    ]
    columns = 1 + max(c for c, _r in positions.values())
    rows = 1 + max(r for _c, r in positions.values())
    return {
        "tiles": tiles,
        "islands": islands,
        "width": 2 * MARGIN + (columns + 3) * (SIZE + GAP),
        "height": 2 * MARGIN + rows * (SIZE + GAP),
        "size": SIZE,
        "legend": [(n, f"{100 * n // BANDS}–{100 * (n + 1) // BANDS}%") for n in range(BANDS)],
        "measure_label": _("share of communes green") if measure == "green_share" else _("reporting completeness"),
    }
