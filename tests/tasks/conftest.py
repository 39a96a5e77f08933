"""Scenarios for the assignment workflow. The demo catalogue's deadlines (2025) are all past, so a test that
needs an assignment "on track" moves its task's deadline into the future itself."""

import datetime
import io

import pytest
from django.utils import timezone

from tasks.models import Assignment, Role, Task
from tests.conftest import make_user

# A minimal valid PDF: evidence files are checked by extension and by content.
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def set_deadline(code, days_from_today):
    """Move a task's deadline relative to today (Asia/Ho_Chi_Minh) and return the task."""
    Task.objects.filter(code=code).update(deadline=timezone.localdate() + datetime.timedelta(days=days_from_today))
    return Task.objects.get(code=code)


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """Personas are created per test; PBKDF2 would spend most of these tests' time hashing their passwords."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def bca_assignment(db):
    """BCA's own assignment of T15 (central, led by BCA alone), with its deadline 30 days ahead."""
    set_deadline("T15", 30)
    return Assignment.objects.select_related("task").get(task__code="T15", agency__code="BCA")


@pytest.fixture
def second_agency_officer(db):
    """A colleague at BCA: may update the same assignments as agency_officer."""
    return make_user("officer-bca-2", Role.AGENCY_OFFICER, agency="BCA")


@pytest.fixture
def coordinating_officer(db):
    """An officer of the Government Office (VPCP), which coordinates T01 (led by BCA): sees BCA's T01
    assignment but may not change it."""
    return make_user("officer-vpcp", Role.AGENCY_OFFICER, agency="VPCP")


@pytest.fixture
def badinh_t30(db):
    """Phường Ba Đình's assignment of T30 (commune-level: publish the one-stop desk's address)."""
    set_deadline("T30", 30)
    return Assignment.objects.select_related("task").get(task__code="T30", commune_id="00004")


@pytest.fixture
def pdf_file():
    def make(name="evidence.pdf", content=PDF_BYTES):
        from django.core.files.uploadedfile import SimpleUploadedFile

        return SimpleUploadedFile(name, content, content_type="application/pdf")

    return make


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def xlsx_rows(content):
    """The rows of the first sheet of an XLSX body, header first."""
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content), read_only=True)
    rows = [list(r) for r in workbook.worksheets[0].iter_rows(values_only=True)]
    workbook.close()
    return rows
