"""Load the official provinces and communes from the project's fixtures, idempotently (keyed on code).

Units missing from a newer file are kept: reports and assignments refer to them. A load that changes
nothing writes nothing; a load that changes something records the data version.
"""

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction

from localities.models import COMMUNE_CODE_LENGTH, MAX_SLOTS, PROVINCE_CODE_LENGTH, Commune, DataVersion, Province

LOCALITIES_DIR = Path(settings.BASE_DIR) / "fixtures" / "localities"
DATASET = "localities"
Unit = TypeVar("Unit", Province, Commune)


class LocalityDataError(ValueError):
    pass


@dataclass
class LoadResult:
    version: str
    created: dict[str, int] = field(default_factory=lambda: {"provinces": 0, "communes": 0})
    updated: dict[str, int] = field(default_factory=lambda: {"provinces": 0, "communes": 0})
    not_in_file: dict[str, int] = field(default_factory=lambda: {"provinces": 0, "communes": 0})

    @property
    def changed(self) -> bool:
        return any(self.created.values()) or any(self.updated.values())


def _read_csv(path: Path, columns: list[str]) -> list[dict[str, str]]:
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                raise LocalityDataError(f"{path.name}: missing column(s) {', '.join(missing)}")
            return list(reader)
    except FileNotFoundError:
        raise LocalityDataError(f"{path} not found") from None


def _pad(raw: str | None, width: int, *, where: str) -> str:
    raw = (raw or "").strip()
    if not raw.isdigit() or len(raw) > width:
        raise LocalityDataError(f"{where}: code {raw!r} is not a number of at most {width} digits")
    return raw.zfill(width)


def _sync(
    model: type[Unit],
    rows: dict[str, dict[str, Any]],
    fields: list[str],
    result_key: str,
    result: LoadResult,
    version: str,
) -> None:
    """Create missing rows and update changed ones; returns nothing, counts into `result`."""
    existing = {obj.pk: obj for obj in model.objects.all()}
    to_create: list[Unit] = []
    to_update: list[Unit] = []
    for pk, values in rows.items():
        obj = existing.get(pk)
        if obj is None:
            to_create.append(model(pk=pk, data_version=version, **values))
        elif any(getattr(obj, f) != values[f] for f in fields):
            for f in fields:
                setattr(obj, f, values[f])
            obj.data_version = version
            to_update.append(obj)
    model.objects.bulk_create(to_create, batch_size=1000)
    model.objects.bulk_update(to_update, [*fields, "data_version"], batch_size=1000)
    result.created[result_key] = len(to_create)
    result.updated[result_key] = len(to_update)
    result.not_in_file[result_key] = len(set(existing) - set(rows))


def _assign_slots(communes: dict[str, dict[str, Any]]) -> None:
    """Keep the slot of every known commune; give new ones the next free slots of their province, in code
    order. A commune that moves to another province gets a new slot there."""
    known = {c: (p, s) for c, p, s in Commune.objects.values_list("code", "province_id", "slot")}
    taken: dict[str, set[int]] = {}
    for province, slot in known.values():
        taken.setdefault(province, set()).add(slot)
    for code in sorted(communes):
        values = communes[code]
        province = values["province_id"]
        if code in known and known[code][0] == province:
            values["slot"] = known[code][1]
            continue
        used = taken.setdefault(province, set())
        slot = next(i for i in range(MAX_SLOTS + 1) if i not in used)
        if slot >= MAX_SLOTS:
            raise LocalityDataError(f"province {province} would have more than {MAX_SLOTS} communes")
        used.add(slot)
        values["slot"] = slot


def localities_load(*, directory: str | Path = LOCALITIES_DIR) -> LoadResult:
    directory = Path(directory)
    version = (directory / "VERSION").read_text(encoding="utf-8").strip().split(" (")[0]
    province_rows = _read_csv(directory / "provinces.csv", ["code", "name", "codename", "division_type", "phone_code"])
    commune_rows = _read_csv(directory / "communes.csv", ["code", "name", "codename", "division_type", "province_code"])

    provinces: dict[str, dict[str, Any]] = {}
    for n, row in enumerate(province_rows, start=2):
        code = _pad(row["code"], PROVINCE_CODE_LENGTH, where=f"provinces.csv row {n}")
        if code in provinces:
            raise LocalityDataError(f"provinces.csv row {n}: duplicate code {code}")
        provinces[code] = {
            "name": row["name"].strip(),
            "codename": row["codename"].strip(),
            "division_type": row["division_type"].strip(),
            "phone_code": row["phone_code"].strip(),
        }
    communes: dict[str, dict[str, Any]] = {}
    for n, row in enumerate(commune_rows, start=2):
        code = _pad(row["code"], COMMUNE_CODE_LENGTH, where=f"communes.csv row {n}")
        province_code = _pad(row["province_code"], PROVINCE_CODE_LENGTH, where=f"communes.csv row {n}")
        if code in communes:
            raise LocalityDataError(f"communes.csv row {n}: duplicate code {code}")
        if province_code not in provinces:
            raise LocalityDataError(f"communes.csv row {n}: unknown province_code {province_code}")
        communes[code] = {
            "name": row["name"].strip(),
            "codename": row["codename"].strip(),
            "division_type": row["division_type"].strip(),
            "province_id": province_code,
        }

    checksum = hashlib.sha256()
    for name in ("VERSION", "provinces.csv", "communes.csv"):
        checksum.update((directory / name).read_bytes())

    result = LoadResult(version=version)
    with transaction.atomic():
        _sync(Province, provinces, ["name", "codename", "division_type", "phone_code"], "provinces", result, version)
        _assign_slots(communes)
        fields = ["name", "codename", "division_type", "province_id", "slot"]
        _sync(Commune, communes, fields, "communes", result, version)
        if result.changed:
            transaction.on_commit(locality_index_clear)
            DataVersion.objects.create(
                dataset=DATASET,
                version=version,
                checksum=checksum.hexdigest(),
                summary=f"created {result.created}, updated {result.updated}",
            )
    return result


def current_data_version() -> str | None:
    row = DataVersion.objects.filter(dataset=DATASET).order_by("-loaded_at").first()
    return row.version if row else None


# --- the locality index -----------------------------------------------------------------------------------
# Every report names a locality; looking it up is a query per submission for data that changes a few times
# a year. Each process keeps the 3,355 codes in memory, reloads them every INDEX_TTL seconds, when a code is
# not found (a unit loaded meanwhile by another process), and after a load in this process.

INDEX_TTL = 300
# An unknown code reloads the index at most this often, so a client sending bad codes cannot make every
# request read all the units.
INDEX_REFRESH_MIN = 10
LocalityIndex = dict[str, tuple[str, str | None, int | None]]
_index: dict[str, Any] = {"loaded": 0.0, "codes": {}}


def locality_index(*, refresh: bool = False) -> LocalityIndex:
    """{code: (province code, commune code or None, commune slot or None)} of every province and commune.
    `refresh` asks for a reload (a code was not found), granted if the index is older than INDEX_REFRESH_MIN."""
    import time

    now = time.monotonic()
    age = now - _index["loaded"]
    if not _index["codes"] or age > INDEX_TTL or (refresh and age > INDEX_REFRESH_MIN):
        codes: LocalityIndex = {code: (code, None, None) for code in Province.objects.values_list("code", flat=True)}
        for code, province, slot in Commune.objects.values_list("code", "province_id", "slot"):
            codes[code] = (province, code, slot)
        _index.update(loaded=now, codes=codes)
    return _index["codes"]


def locality_index_clear() -> None:
    _index.update(loaded=0.0, codes={})
