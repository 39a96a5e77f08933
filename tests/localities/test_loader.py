import shutil

import pytest

from localities.models import Commune, DataVersion, Province
from localities.services import LOCALITIES_DIR, LocalityDataError, localities_load


@pytest.fixture
def fixture_copy(tmp_path):
    for name in ("VERSION", "provinces.csv", "communes.csv"):
        shutil.copy(LOCALITIES_DIR / name, tmp_path / name)
    return tmp_path


@pytest.mark.django_db
def test_all_official_units_are_loaded_with_padded_codes():
    assert Province.objects.count() == 34
    assert Commune.objects.count() == 3321
    assert Province.objects.get(code="01").name == "Thành phố Hà Nội"
    ba_dinh = Commune.objects.get(code="00004")
    assert (ba_dinh.name, ba_dinh.province_id) == ("Phường Ba Đình", "01")
    counts = {t: Commune.objects.filter(division_type=t).count() for t in ("xã", "phường", "đặc khu")}
    assert counts == {"xã": 2621, "phường": 687, "đặc khu": 13}
    assert DataVersion.objects.filter(dataset="localities", version="vietnam-provinces 2026.9.0").exists()


@pytest.mark.django_db
def test_second_load_changes_nothing():
    versions = DataVersion.objects.count()
    result = localities_load()
    assert not result.changed
    assert result.created == {"provinces": 0, "communes": 0}
    assert DataVersion.objects.count() == versions


@pytest.mark.django_db
def test_renamed_unit_is_updated_and_version_recorded(fixture_copy):
    path = fixture_copy / "communes.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("Phường Ba Đình", "Phường Ba Đình Mới"), encoding="utf-8")
    versions = DataVersion.objects.count()
    result = localities_load(directory=fixture_copy)
    assert result.updated["communes"] == 1
    assert Commune.objects.get(code="00004").name == "Phường Ba Đình Mới"
    assert DataVersion.objects.count() == versions + 1


@pytest.mark.django_db
def test_unit_missing_from_a_newer_file_is_kept(fixture_copy):
    path = fixture_copy / "communes.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(line for line in lines if not line.startswith("4,")) + "\n", encoding="utf-8")
    result = localities_load(directory=fixture_copy)
    assert result.not_in_file["communes"] == 1
    assert Commune.objects.filter(code="00004").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda text: text + "4,Phường Trùng,phuong_trung,phường,1\n", "duplicate code 00004"),
        (lambda text: text + "99999,Xã Lạ,xa_la,xã,77\n", "unknown province_code 77"),
        (lambda text: text.replace("code,name", "kode,name", 1), "missing column"),
        (lambda text: text + "12ab,Xã Lạ,xa_la,xã,1\n", "is not a number"),
    ],
)
def test_bad_file_gives_a_clear_error_and_writes_nothing(fixture_copy, mutate, message):
    path = fixture_copy / "communes.csv"
    path.write_text(mutate(path.read_text(encoding="utf-8")), encoding="utf-8")
    Commune.objects.filter(code="00008").update(name="changed in db")
    with pytest.raises(LocalityDataError, match=message):
        localities_load(directory=fixture_copy)
    assert Commune.objects.get(code="00008").name == "changed in db"
