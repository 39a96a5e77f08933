"""An XLSX bomb through XML entities (issue 22, finding 2): a small workbook whose XML declares entities that
expand to megabytes. openpyxl parses with defusedxml (core.spreadsheets), so every reader of uploaded
workbooks refuses it, naming the file, before anything is expanded: the report upload, the bulk update of
assignments, the catalogue import and the contacts import."""

import io
import re
import zipfile

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from openpyxl import Workbook

from core.spreadsheets import SpreadsheetError, entities_refused, xlsx_rows
from reports.uploads import COLUMNS

# Five levels of ten: "&e;" is 300,000 characters (a real bomb adds levels; these suffice to see it expand).
ENTITIES = (
    '<!DOCTYPE x [<!ENTITY a "lollollollollollollollollollol">'
    + "".join(f'<!ENTITY {b} "{("&" + a + ";") * 10}">' for a, b in zip("abcd", "bcde", strict=True))
    + "]>"
)
EXPANDED = 30 * 10**4


def bomb(rows, *, part="xl/worksheets/sheet1.xml", marker="BOMB"):
    """A workbook of `rows` whose `part` declares the entities; each `marker` text in it becomes "&e;"."""
    workbook = Workbook()
    for row in rows:
        workbook.active.append(list(row))
    plain = io.BytesIO()
    workbook.save(plain)
    source = zipfile.ZipFile(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            data = source.read(member)
            if member.filename == part:
                text = data.decode()
                text = re.sub(r"(<\?xml[^>]*\?>)?", lambda m: (m.group(0) or "") + ENTITIES, text, count=1)
                data = text.replace(marker, "&e;").encode()
            target.writestr(member, data)
    return out.getvalue()


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def test_openpyxl_parses_with_defusedxml():
    import openpyxl

    assert openpyxl.DEFUSEDXML is True and entities_refused()


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/workbook.xml", "xl/styles.xml"])
def test_every_part_that_declares_entities_is_refused_naming_the_file(part):
    data = bomb([("locality", "date"), ("BOMB", "2025-09-01")], part=part)
    with pytest.raises(SpreadsheetError) as refused:
        list(xlsx_rows(io.BytesIO(data), name="bomb.xlsx"))
    assert str(refused.value) == "bomb.xlsx declares XML entities, as only a crafted file does; it is refused."


def test_without_defusedxml_the_same_file_would_expand():
    """What the refusal prevents, shown with the standard library's parser (openpyxl's without defusedxml)."""
    from xml.etree.ElementTree import fromstring

    data = bomb([("locality",), ("BOMB",)])
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    expanded = "".join(fromstring(sheet).itertext())  # noqa: S314 - to show what defusedxml refuses
    assert len(data) < 10_000 and expanded.count("lol") * 3 >= EXPANDED


def test_the_report_upload_refuses_it_with_a_400_and_echoes_nothing_of_it(client, commune_clerk):
    from tests.reports.helpers import days_ago

    client.force_login(commune_clerk)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    rows = [COLUMNS, ["BOMB", days_ago(1).isoformat(), *[0] * (len(COLUMNS) - 2)]]
    upload = SimpleUploadedFile("reports.xlsx", bomb(rows), content_type="application/octet-stream")
    response = client.post("/reports/upload/", {"file": upload})
    assert response.status_code == 400
    page = response.content.decode()
    assert "reports.xlsx declares XML entities" in page
    assert "lollol" not in page and len(page) < 50_000


def test_the_bulk_update_refuses_it(client, agency_officer):
    client.force_login(agency_officer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    upload = SimpleUploadedFile("export.xlsx", bomb([("id", "version"), ("BOMB", 1)]))
    response = client.post("/tasks/assignments/bulk/", {"file": upload})
    assert response.status_code == 400
    assert "export.xlsx declares XML entities" in response.content.decode()
    assert "lollol" not in response.content.decode()


def test_the_catalogue_and_contacts_imports_refuse_it(db):
    from alerts.contacts import plan_contacts
    from tasks.catalogue import plan_import

    data = bomb([("code", "title_vi"), ("T01", "BOMB")])
    with pytest.raises(SpreadsheetError, match=r"tasks\.xlsx declares XML entities"):
        plan_import(io.BytesIO(data), filename="tasks.xlsx")
    with pytest.raises(SpreadsheetError, match=r"contacts\.xlsx declares XML entities"):
        plan_contacts(io.BytesIO(data), filename="contacts.xlsx")


def test_the_system_check_refuses_to_start_without_defusedxml(monkeypatch):
    import openpyxl

    from core.checks import spreadsheets_refuse_xml_entities

    assert spreadsheets_refuse_xml_entities() == []
    monkeypatch.setattr(openpyxl, "DEFUSEDXML", False)
    assert [error.id for error in spreadsheets_refuse_xml_entities()] == ["core.E001"]
    with pytest.raises(SpreadsheetError):  # and no file is opened meanwhile
        list(xlsx_rows(io.BytesIO(bomb([("a",), ("b",)])), name="any.xlsx"))
