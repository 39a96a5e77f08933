"""A system's fault escalated goes to the system's owner or vendor too (DESIGN.md §12, issue 18 item 2):
contacts of role `vendor` (alerts.Contact), national or of the incident's province; told once per incident,
by e-mail after commit, and shown on the incident (page and API)."""

import pytest
from django.core import mail
from django.db import IntegrityError

from alerts.models import Contact
from support import jobs, services
from support.models import Action, VendorNotice
from tests.support.conftest import MONDAY, local

pytestmark = pytest.mark.django_db


@pytest.fixture
def vendors(db):
    return {
        "vneid": Contact.objects.create(
            role=Contact.Role.VENDOR, system="vneid", name="Trung tâm RAR", email="rar@vendor.example", phone="069"
        ),
        "hanoi_dvc": Contact.objects.create(
            role=Contact.Role.VENDOR,
            system="provincial_procedure_system",
            province_id="01",
            name="VNPT Hà Nội",
            email="hotro@vnpt-hn.example",
        ),
        "hcmc_dvc": Contact.objects.create(
            role=Contact.Role.VENDOR,
            system="provincial_procedure_system",
            province_id="79",
            name="Viettel TP.HCM",
            email="hotro@viettel-hcm.example",
        ),
    }


def open_incident(clerk, system):
    return services.incident_open(
        actor=clerk,
        category="vneid" if system == "vneid" else "provincial_procedure_system",
        system=system,
        severity="blocking",
        description="Không đăng nhập được",
    )


def test_a_province_escalating_a_systems_fault_tells_its_vendors_once(
    clock, vendors, commune_clerk, province_officer, client, django_capture_on_commit_callbacks
):
    incident = open_incident(commune_clerk, "provincial_procedure_system")
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_escalate(incident=incident, actor=province_officer, reason="Hệ thống của tỉnh ngừng")
    # Hà Nội's vendor of that system; not HCMC's, not VNeID's.
    notice = VendorNotice.objects.get()
    assert (notice.incident, notice.contact, notice.email) == (incident, vendors["hanoi_dvc"], "hotro@vnpt-hn.example")
    assert notice.sent_at is not None  # the desk's job ran after commit (eager in tests) and sent it
    assert [m.to for m in mail.outbox] == [["hotro@vnpt-hn.example"]]
    assert f"#{incident.pk}" in mail.outbox[0].subject
    assert incident.events.filter(action=Action.VENDOR_TOLD, text="VNPT Hà Nội").count() == 1

    # Past its times now (the breach's own escalation), the jobs run again: nobody is told twice.
    clock.set(local(MONDAY, 23))
    jobs.incidents_check()
    jobs.incidents_notify()
    assert VendorNotice.objects.count() == 1 and len(mail.outbox) == 1
    assert incident.events.filter(action=Action.VENDOR_TOLD).count() == 1

    # Shown on the incident: its page and its API.
    client.force_login(commune_clerk)
    page = client.get(f"/operations/incidents/{incident.pk}/").content.decode()
    assert 'data-testid="incident-vendors"' in page and "VNPT Hà Nội" in page
    body = client.get(f"/api/v1/incidents/{incident.pk}/").json()
    assert [(v["name"], v["email"]) for v in body["vendors"]] == [("VNPT Hà Nội", "hotro@vnpt-hn.example")]


def test_a_breach_escalates_to_the_national_vendor_once(
    clock, vendors, commune_clerk, django_capture_on_commit_callbacks
):
    incident = open_incident(commune_clerk, "vneid")
    clock.set(local(MONDAY, 11, 1))  # past the 2 office hours to acknowledge
    jobs.incidents_check()
    jobs.incidents_check()
    notice = VendorNotice.objects.get()
    assert (notice.incident, notice.contact) == (incident, vendors["vneid"])
    assert [m.to for m in mail.outbox] == [["rar@vendor.example"]]
    event = incident.events.get(action=Action.VENDOR_TOLD)
    assert event.actor is None  # told by the desk's own escalation, not a person


def test_an_incident_without_a_system_or_without_escalation_tells_no_vendor(
    clock, vendors, commune_clerk, province_officer
):
    plain = services.incident_open(actor=commune_clerk, category="power", severity="blocking", description="Mất điện")
    services.incident_escalate(incident=plain, actor=province_officer, reason="Cần hỗ trợ")
    open_incident(commune_clerk, "vneid")  # a system's fault, not escalated
    assert not VendorNotice.objects.exists()
    assert services.vendor_notices_send() == 0


@pytest.mark.parametrize(
    "fields",
    [
        {"role": Contact.Role.VENDOR, "system": ""},  # a vendor of no system
        {"role": Contact.Role.VENDOR, "system": "vneid", "commune_id": "00004"},  # of a commune
        {"role": Contact.Role.FOCAL_POINT, "system": "vneid", "province_id": "01"},  # a unit's contact with a system
    ],
)
def test_a_vendor_is_a_systems_contact_not_a_units(db, fields):
    with pytest.raises(IntegrityError):
        Contact.objects.create(name="X", email="x@vendor.example", **fields)


def test_whom_to_call_lists_the_national_vendors_and_the_provinces_own(client, vendors, commune_clerk):
    client.force_login(commune_clerk)
    page = client.get("/operations/teams/")
    assert [v.name for v in page.context["vendors"]] == ["VNPT Hà Nội", "Trung tâm RAR"]  # by system code
    assert not [c for c in page.context["contacts"] if c.role == Contact.Role.VENDOR]
    assert 'data-testid="vendors"' in page.content.decode()
