"""The audit app gathers, never hard-codes (core.trail): a source another app declares appears in the trail,
its filters, its page, its API and its export without the audit app knowing it; a source or a kept model
declared wrong is refused at start-up, not at the first read."""

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from alerts.models import ContactImport
from audit.registry import auditlog_options
from audit.trail import TrailFilter, audit_trail, describe
from core import trail
from reports.models import ApiClient

pytestmark = pytest.mark.django_db


def _describe_contacts(row):
    return trail.Description(object_type="contact_import", summary=f"{row.details['created']} created")


CONTACTS = trail.Kind("test_contacts", "contacts imported", _describe_contacts)


def contacts_source():
    return trail.TrailSource(
        kinds=(CONTACTS,),
        queryset=ContactImport.objects.all(),
        time="imported_at",
        actors=("imported_by",),
        words=("filename",),
        columns=trail.columns(
            at="imported_at",
            kind=CONTACTS,
            user="imported_by",
            object_id="pk",
            object_code="filename",
            data=trail.data(created="created"),
        ),
    )


@pytest.fixture
def registry(monkeypatch):
    """The trail's registry as the apps left it, restored after the test."""
    monkeypatch.setattr(trail, "_sources", list(trail._sources))
    monkeypatch.setattr(trail, "_kinds", dict(trail._kinds))
    return trail


@pytest.fixture
def contacts_import(db):
    return ContactImport.objects.create(
        imported_by="nat-admin", filename="contacts.xlsx", checksum="c" * 64, created=3, updated=0, unchanged=0
    )


def test_every_app_below_declared_its_kinds_and_record_changes_come_last():
    codes = [kind.code for kind in trail.kinds()]
    assert set(codes) == {
        "assignment_update",
        "subtask_update",
        "local_plan",
        "catalogue_import",
        "form_imported",
        "report_submitted",
        "report_corrected",
        "key_issued",
        "key_revoked",
        "lock_exception",
        "report_approved",
        "approval_withdrawn",
        "warning_explained",
        "warning_confirmed",
        "meeting_frozen",
        "target_value",
        "incident_step",
        "inspection",
        "finding",
        "followup_update",
        "record_change",
    }
    assert codes[-1] == "record_change"


def test_a_source_another_app_declares_is_in_the_trail_its_filters_and_its_api(
    registry, contacts_import, api_for, inspector
):
    assert list(audit_trail(TrailFilter(kind="test_contacts"))) == []
    registry.register(contacts_source())
    (event,) = [describe(row) for row in audit_trail(TrailFilter(kind="test_contacts"))]
    assert (event["actor"], event["at"], event["kind_label"]) == (
        "nat-admin",
        contacts_import.imported_at,
        "contacts imported",
    )
    assert (event["object"]["code"], event["summary"]) == ("contacts.xlsx", "3 created")
    assert [describe(row)["kind"] for row in audit_trail(TrailFilter(actor="nat-admin", q="contacts"))] == [
        "test_contacts"
    ]
    response = api_for(user=inspector).get("/api/v1/audit/", {"kind": "test_contacts"})
    assert response.status_code == 200, response.content
    assert [e["object"]["code"] for e in response.json()["results"]] == ["contacts.xlsx"]


def test_a_kind_no_app_declares_is_refused_by_name(api_for, inspector):
    response = api_for(user=inspector).get("/api/v1/audit/", {"kind": "test_contacts"})
    assert response.status_code == 400 and "kind" in response.json()["errors"]


def test_a_source_with_other_columns_is_refused_at_registration(registry):
    broken = contacts_source()
    columns = dict(broken.columns)
    columns.pop("e_data")
    with pytest.raises(trail.TrailError, match="gives"):
        registry.register(trail.TrailSource(**{**broken.__dict__, "columns": columns}))


def test_a_kind_declared_twice_is_refused(registry):
    twin = trail.Kind("assignment_update", "again", _describe_contacts)
    source = contacts_source()
    with pytest.raises(trail.TrailError, match="declared twice"):
        registry.register(trail.TrailSource(**{**source.__dict__, "kinds": (twin,)}))


def test_a_kept_model_that_would_keep_a_secret_is_refused():
    with pytest.raises(trail.TrailError, match="password"):
        auditlog_options(trail.KeptModel(get_user_model(), exclude=("last_login",)))
    with pytest.raises(trail.TrailError, match="key_hash"):
        auditlog_options(trail.KeptModel(ApiClient))
    assert "key_hash" in auditlog_options(trail.KeptModel(ApiClient, exclude=("key_hash",)))["exclude_fields"]


def test_a_row_of_a_kind_no_longer_declared_still_reads(contacts_import):
    row = {
        "e_at": timezone.now(),
        "e_kind": "gone_kind",
        "e_user": "someone",
        "e_client_prefix": None,
        "e_client_name": None,
        "e_object_id": "1",
        "e_object_code": "x",
        "e_object_label": "y",
        "e_model": None,
        "e_action": None,
        "e_data": None,
    }
    event = describe(row)
    assert (event["kind_label"], event["object"]["type"], event["object"]["label"]) == ("gone_kind", "gone_kind", "y")
