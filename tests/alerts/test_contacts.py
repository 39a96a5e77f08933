"""Contacts: `manage.py import_contacts` (dry run, --apply, errors by row and column, all or nothing), the
admin's import page (400 naming the problem) and the units without a head."""

import io

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from alerts.models import Contact, ContactImport
from tasks.models import Agency

pytestmark = pytest.mark.django_db
HEADER = "unit_kind,unit_code,role,name,title,email,phone,language\n"
GOOD = (
    HEADER + "agency,BCA,head,Nguyễn Văn An,Thứ trưởng,an@bca.example,024 1234,vi\n"
    "province,01,head,Lê Văn Cường,Phó Chủ tịch,cuong@hanoi.example,,en\n"
    "province,01,focal_point,Phạm Thị Dung,Chuyên viên,dung@hanoi.example,,\n"
    "commune,00004,head,Hoàng Văn Em,Chủ tịch,em@badinh.example,,\n"
)


@pytest.fixture
def contacts_file(tmp_path):
    def write(text, name="contacts.csv"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


def test_a_dry_run_writes_nothing_and_apply_writes_everything(contacts_file, capsys):
    path = contacts_file(GOOD)
    call_command("import_contacts", path)
    assert "Dry run: 4 to create" in capsys.readouterr().out
    assert not Contact.objects.exists()
    call_command("import_contacts", path, apply=True, user="standing-agency")
    assert Contact.objects.count() == 4
    hanoi = Contact.objects.get(province_id="01", role="head")
    assert (hanoi.name, hanoi.language, hanoi.email) == ("Lê Văn Cường", "en", "cuong@hanoi.example")
    assert ContactImport.objects.get().imported_by == "standing-agency"
    call_command("import_contacts", path, apply=True)  # the same file again changes nothing
    assert "0 to create, 0 to update, 4 unchanged" in capsys.readouterr().out
    assert Contact.objects.count() == 4


def test_a_new_head_replaces_the_units_head(contacts_file):
    call_command("import_contacts", contacts_file(GOOD), apply=True)
    call_command(
        "import_contacts",
        contacts_file(HEADER + "province,01,head,Trần Mới,Chủ tịch,moi@hanoi.example,,vi\n"),
        apply=True,
    )
    heads = Contact.objects.filter(province_id="01", role="head")
    assert [h.email for h in heads] == ["moi@hanoi.example"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("agency,XYZ,head,A,,a@x.example,,", "row 2, column unit_code: unknown agency 'XYZ'"),
        ("province,1,head,A,,a@x.example,,", "row 2, column unit_code: '1': a province code is written with 2 digits"),
        ("commune,99999,head,A,,a@x.example,,", "row 2, column unit_code: unknown commune '99999'"),
        ("ward,00004,head,A,,a@x.example,,", "row 2, column unit_kind: unknown kind 'ward'"),
        (
            "commune,00004,head,A,,not-an-address,,",
            "row 2, column email: 'not-an-address' is not a valid e-mail address",
        ),
        ("commune,00004,boss,A,,a@x.example,,", "row 2, column role: unknown role 'boss'"),
        ("commune,00004,head,,,a@x.example,,", "row 2, column name: is required"),
        ("commune,00004,head,A,,a@x.example,,fr", "row 2, column language: unknown language 'fr'"),
    ],
)
def test_bad_rows_are_named_by_row_and_column_and_nothing_is_written(contacts_file, capsys, line, expected):
    path = contacts_file(GOOD.replace(HEADER, HEADER + line + "\n"))
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_contacts", path, apply=True)
    assert expected in capsys.readouterr().err
    assert not Contact.objects.exists()


def test_two_heads_for_one_unit_are_refused(contacts_file, capsys):
    path = contacts_file(GOOD + "commune,00004,head,Người Khác,,khac@badinh.example,,\n")
    with pytest.raises(CommandError):
        call_command("import_contacts", path, apply=True)
    assert "row 6, column role: duplicated head: this unit's head is already on row 5" in capsys.readouterr().err
    assert not Contact.objects.exists()


def test_unknown_columns_and_unreadable_files_are_refused(contacts_file, capsys):
    with pytest.raises(CommandError):
        call_command("import_contacts", contacts_file(HEADER.replace("phone", "mobile") + "x\n"))
    assert "row 1, column mobile: unknown column" in capsys.readouterr().err
    with pytest.raises(CommandError, match="unsupported file type"):
        call_command("import_contacts", contacts_file(GOOD, name="contacts.txt"))


def test_xlsx_files_are_read_and_their_numeric_codes_refused_unpadded(tmp_path, capsys):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER.strip().split(","))
    sheet.append(["province", 1, "head", "A", "", "a@x.example", "", "vi"])  # a number: Excel dropped the 0
    sheet.append(["commune", "00004", "head", "B", "", "b@x.example", "", "vi"])
    path = tmp_path / "contacts.xlsx"
    workbook.save(path)
    with pytest.raises(CommandError):
        call_command("import_contacts", str(path))
    assert "row 2, column unit_code: '1'" in capsys.readouterr().err


def test_the_admin_import_page_answers_400_naming_the_problem(client, admin_user):
    client.force_login(admin_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    bad = io.BytesIO((GOOD + "commune,00004,head,X,,x@badinh.example,,\n").encode())
    bad.name = "contacts.csv"
    response = client.post("/admin/alerts/contact/import/", {"file": bad, "apply": "on"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "duplicated head" in response.content.decode()
    assert not Contact.objects.exists()
    good = io.BytesIO(GOOD.encode())
    good.name = "contacts.csv"
    response = client.post("/admin/alerts/contact/import/", {"file": good, "apply": "on"})
    assert response.status_code == 302
    assert Contact.objects.count() == 4


def test_the_admin_lists_the_units_without_a_head(client, admin_user, contacts_file):
    call_command("import_contacts", contacts_file(GOOD), apply=True)
    client.force_login(admin_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    changelist = client.get("/admin/alerts/contact/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    agencies = Agency.objects.count() - 1  # BCA has its head in the file
    assert f"Units without an accountable head: {agencies} agencies, 33 provinces, 3320 communes." in changelist
    page = client.get("/admin/alerts/contact/without-head/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<li>BCA ·" not in page and "<li>VPCP ·" in page
    assert "<li>79 ·" in page and "<li>01 ·" not in page
    assert "<li>00004 ·" not in page and "<li>00008 ·" in page


def test_contacts_edited_in_the_admin_are_in_the_audit_trail():
    from audit.registry import audited_models

    assert "alerts.Contact" in {model._meta.label for model in audited_models()}


def test_blank_rows_are_skipped_up_to_the_limit(contacts_file, settings, capsys):
    settings.SPREADSHEET_MAX_BLANK_ROWS = 2
    lines = GOOD.splitlines(keepends=True)
    with_gaps = lines[0] + ",,,,,,,\n" + "".join(lines[1:3]) + ",,,,,,,\n" + "".join(lines[3:])
    call_command("import_contacts", contacts_file(with_gaps), apply=True)
    assert Contact.objects.count() == 4
    too_many = lines[0] + ",,,,,,,\n" * 3 + "".join(lines[1:])
    with pytest.raises(CommandError, match="more than 2 empty rows"):
        call_command("import_contacts", contacts_file(too_many), apply=True)
    assert ContactImport.objects.count() == 1


def test_a_blank_xlsx_sheet_tail_is_refused_on_the_admins_page(client, admin_user, settings):
    settings.SPREADSHEET_MAX_BLANK_ROWS = 2
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER.strip().split(","))
    for _ in range(3):
        sheet.append([None] * 8)
    sheet.append(["agency", "BCA", "head", "An", "", "an@bca.example", "", "vi"])
    out = io.BytesIO()
    workbook.save(out)
    upload = io.BytesIO(out.getvalue())
    upload.name = "contacts.xlsx"
    client.force_login(admin_user)
    response = client.post("/admin/alerts/contact/import/", {"file": upload, "apply": "on"})
    assert response.status_code == 400
    assert "more than 2 empty rows" in response.content.decode()
    assert not Contact.objects.exists()


# --- a system's vendors (role vendor, with a system) and a solution provider's people (unit_kind vendor) -----------

VENDOR_HEADER = "unit_kind,unit_code,role,system,name,title,email,phone,language\n"
VENDORS = (
    VENDOR_HEADER + ",,vendor,vneid,Trung tâm RAR,,rar@c06.example,,\n"
    "province,01,vendor,provincial_procedure_system,VNPT Hà Nội,,hanoi@vnpt.example,,\n"
    "vendor,vnpt-it,head,,Nguyễn Văn Bình,Giám đốc,binh@vnpt-it.example,,\n"
    "province,01,head,,Lê Văn Cường,Phó Chủ tịch,cuong@hanoi.example,,\n"
)


@pytest.fixture
def vendor(db):
    from tasks.models import Vendor

    return Vendor.objects.create(code="vnpt-it", name="VNPT-IT")


def test_system_vendors_and_a_vendors_people_are_imported(contacts_file, capsys, vendor):
    path = contacts_file(VENDORS)
    call_command("import_contacts", path, apply=True)
    national = Contact.objects.get(email="rar@c06.example")
    assert (national.role, national.system, national.province_id, national.unit_kind) == (
        "vendor",
        "vneid",
        None,
        "system",
    )
    hanoi = Contact.objects.get(email="hanoi@vnpt.example")
    assert (hanoi.role, hanoi.system, hanoi.province_id) == ("vendor", "provincial_procedure_system", "01")
    head = Contact.objects.get(email="binh@vnpt-it.example")
    assert (head.role, head.vendor, head.system) == ("head", vendor, "")
    capsys.readouterr()
    call_command("import_contacts", path, apply=True)  # the same file again changes nothing
    assert "0 to create, 0 to update, 4 unchanged" in capsys.readouterr().out
    # A vendor's contact is matched by its system, province and address: a new name updates it.
    call_command(
        "import_contacts", contacts_file(VENDOR_HEADER + ",,vendor,vneid,RAR Centre,,rar@c06.example,,en\n"), apply=True
    )
    assert Contact.objects.get(email="rar@c06.example").name == "RAR Centre"
    assert Contact.objects.count() == 4


def test_the_imported_contacts_of_a_vendor_are_told_what_it_blocks(contacts_file, vendor, run, quiet, province_officer):
    from django.core import mail

    from alerts.services.delivery import digests_send
    from tasks.models import Assignment
    from tasks.services import assignment_update

    call_command("import_contacts", contacts_file(VENDORS), apply=True)
    hanoi = Assignment.objects.get(task__code="T22", province_id="01", level="province")
    assignment_update(
        assignment=hanoi,
        actor=province_officer,
        version=1,
        status="blocked",
        progress=10,
        blocked_by_vendor=vendor,
        blocked_reason="Waiting for the connector",
    )
    run(rules=["blocked_vendor"])
    digests_send()
    assert [m.to[0] for m in mail.outbox] == ["binh@vnpt-it.example"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (",,vendor,,A,,a@x.example,,", "row 2, column system: is required for role vendor"),
        (",,vendor,fax,A,,a@x.example,,", "row 2, column system: unknown system 'fax'"),
        ("agency,BCA,vendor,vneid,A,,a@x.example,,", "row 2, column unit_kind: a system's vendor is national"),
        (",01,vendor,vneid,A,,a@x.example,,", "row 2, column unit_kind: is required with a unit_code"),
        ("province,1,vendor,vneid,A,,a@x.example,,", "row 2, column unit_code: '1': a province code is written"),
        ("province,01,head,vneid,A,,a@x.example,,", "row 2, column system: is given for role vendor only"),
        ("vendor,acme,head,,A,,a@x.example,,", "row 2, column unit_code: unknown vendor 'acme'"),
        (",,head,,A,,a@x.example,,", "row 2, column unit_kind: is required"),
        (
            "province,01,vendor,vneid,A,,cuong@hanoi.example,,",
            "row 6, column email: cuong@hanoi.example is already a contact of province 01 on row 2",
        ),
    ],
)
def test_bad_vendor_rows_are_named_by_row_and_column(contacts_file, capsys, vendor, line, expected):
    path = contacts_file(VENDORS.replace(VENDOR_HEADER, VENDOR_HEADER + line + "\n"))
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_contacts", path, apply=True)
    assert expected in capsys.readouterr().err
    assert not Contact.objects.exists()


def test_a_province_address_already_taken_is_refused_before_the_database_does(contacts_file, capsys, vendor):
    call_command("import_contacts", contacts_file(VENDORS), apply=True)
    line = "province,01,vendor,vneid,A,,cuong@hanoi.example,,"
    with pytest.raises(CommandError):
        call_command("import_contacts", contacts_file(VENDOR_HEADER + line + "\n"), apply=True)
    assert "row 2, column email: cuong@hanoi.example is already a contact of province 01" in capsys.readouterr().err
