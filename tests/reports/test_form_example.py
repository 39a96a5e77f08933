"""fixtures/report_form_example.xlsx, the README's example of an official form (README, "Report forms"): a
version 2 that renames received_direct, drops returned and adds consultations. It imports as the README says,
and once in force the form's description and the intake follow it, without a restart (the pages, the upload
and the dashboards under such a version: tests/reports/test_forms.py, tests/dashboards/test_forms_dashboards.py)."""

import datetime
import io

import pytest
from django.conf import settings
from django.core.management import call_command

from reports.models import FormVersion
from tests.reports.conftest import local
from tests.reports.helpers import days_ago
from tests.reports.test_forms import v2_payload

EXAMPLE = settings.BASE_DIR / "fixtures" / "report_form_example.xlsx"

pytestmark = pytest.mark.django_db


def test_the_example_form_imports_as_printed_and_the_api_follows_it(tmp_path, freeze, client, province_key):
    freeze(local(days_ago(0), 9))
    effective = days_ago(-1)
    out = io.StringIO()
    call_command("import_form", str(EXAMPLE), "--effective-from", effective.isoformat(), stdout=out)
    assert "indicator renamed: received_direct → received_at_desk" in out.getvalue()
    assert "indicator added: consultations" in out.getvalue()
    assert "indicator dropped: returned" in out.getvalue()
    assert FormVersion.objects.count() == 1  # a dry run writes nothing
    call_command("import_form", str(EXAMPLE), "--effective-from", effective.isoformat(), "--apply", stdout=out)
    assert FormVersion.objects.count() == 2

    freeze(local(effective + datetime.timedelta(days=1), 7))
    auth = {"HTTP_AUTHORIZATION": f"Token {province_key[1]}"}
    described = client.get(f"/api/v1/reports/form/?date={effective.isoformat()}", **auth).json()
    codes = [i["code"] for i in described["indicators"]]
    assert "consultations" in codes and "received_at_desk" in codes and "returned" not in codes
    sent = client.post(
        "/api/v1/reports/daily/",
        v2_payload(effective.isoformat(), consultations=12),
        content_type="application/json",
        **auth,
    )
    assert sent.status_code == 201, sent.content
