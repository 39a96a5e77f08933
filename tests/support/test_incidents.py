"""Incidents: opening, times per severity in office hours, the state machine, scoping, escalation once, the
API's shapes and bad input (DESIGN.md §12)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from alerts.models import Alert, Notification
from support import services
from support.models import Incident, IncidentEvent, State, Team
from support.rules import ACKNOWLEDGE_LATE, BREACH, OPEN, RESOLVE_LATE
from tests.support.conftest import MONDAY, local

pytestmark = pytest.mark.django_db


def report(clerk, **extra):
    data = {"category": "network", "severity": "blocking", "description": "Mất mạng từ 8 giờ", **extra}
    return services.incident_open(actor=clerk, **data)


# --- opening and times -------------------------------------------------------------------------------------------


def test_blocking_incident_gets_two_and_eight_office_hours(clock, commune_clerk):
    incident = report(commune_clerk)
    assert (incident.province_id, incident.commune_id, incident.state) == ("01", "00004", State.OPEN)
    assert incident.acknowledge_by == local(MONDAY, 11)
    # 8 office hours from Monday 09:00: 8 h until 17:00 is exactly the day's rest.
    assert incident.resolve_by == local(MONDAY, 17)
    assert list(incident.events.values_list("action", "to_state")) == [("opened", "open")]


def test_degraded_incident_gets_one_and_three_office_days(clock, commune_clerk):
    clock.set(local(MONDAY + datetime.timedelta(days=4), 15))  # Friday 15:00
    incident = report(commune_clerk, severity="degraded")
    assert incident.acknowledge_by == local(MONDAY + datetime.timedelta(days=7), 15)  # next Monday
    assert incident.resolve_by == local(MONDAY + datetime.timedelta(days=9), 15)  # next Wednesday


def test_times_come_from_settings(clock, commune_clerk, settings):
    settings.INCIDENT_TIMES = {
        **settings.INCIDENT_TIMES,
        "blocking": (datetime.timedelta(hours=1), datetime.timedelta(hours=3)),
    }
    incident = report(commune_clerk)
    assert (incident.acknowledge_by, incident.resolve_by) == (local(MONDAY, 10), local(MONDAY, 12))


@pytest.mark.parametrize(
    ("field", "data"),
    [
        ("category", {"category": "wifi"}),
        ("severity", {"severity": "urgent"}),
        ("system", {"system": "facebook"}),
        ("description", {"description": "  "}),
        ("locality", {"locality": "00008"}),
    ],
)
def test_bad_input_names_the_field(clock, commune_clerk, field, data):
    with pytest.raises(ValidationError) as caught:
        report(commune_clerk, **data)
    assert field in caught.value.error_dict
    assert not Incident.objects.exists()


def test_disguised_file_is_refused(clock, commune_clerk):
    fake = SimpleUploadedFile("photo.png", b"<html><script>alert(1)</script></html>")
    with pytest.raises(ValidationError) as caught:
        report(commune_clerk, files=[fake])
    assert caught.value.error_dict["files"][0].code == "file_content"


def test_province_reports_for_its_commune_not_another_provinces(clock, province_officer):
    assert report(province_officer, locality="00008").commune_id == "00008"
    with pytest.raises(ValidationError) as caught:
        report(province_officer, locality="26734")
    assert "locality" in caught.value.error_dict


def test_support_team_and_read_only_roles_do_not_open(clock, support_member, steering):
    for user in (support_member, steering):
        with pytest.raises(services.IncidentNotAllowed):
            report(user)


# --- the state machine ----------------------------------------------------------------------------------------------


def test_full_path_writes_one_history_row_per_step(clock, commune_clerk, province_officer):
    incident = report(commune_clerk)
    team = Team.objects.create(name="Tổ kỹ thuật", province_id="01")
    services.incident_acknowledge(incident=incident, actor=province_officer, version=1)
    services.incident_assign(incident=incident, actor=province_officer, team=team.pk)
    services.incident_comment(incident=incident, actor=commune_clerk, text="Vẫn chưa có mạng")
    services.incident_resolve(incident=incident, actor=province_officer, resolution="Đã thay bộ chuyển mạch")
    done = services.incident_close(incident=incident, actor=commune_clerk)
    assert done.state == State.CLOSED and done.version == 5
    rows = list(IncidentEvent.objects.filter(incident=incident).values_list("action", "from_state", "to_state"))
    assert rows == [
        ("opened", "", "open"),
        ("acknowledged", "open", "acknowledged"),
        ("assigned", "acknowledged", "in_progress"),
        ("commented", "in_progress", "in_progress"),
        ("resolved", "in_progress", "resolved"),
        ("closed", "resolved", "closed"),
    ]


def test_resolving_needs_a_resolution_and_reopening_a_reason(clock, commune_clerk, province_officer):
    incident = report(commune_clerk)
    with pytest.raises(ValidationError) as caught:
        services.incident_resolve(incident=incident, actor=province_officer, resolution=" ")
    assert "resolution" in caught.value.error_dict
    services.incident_resolve(incident=incident, actor=province_officer, resolution="Xong")
    services.incident_close(incident=incident, actor=commune_clerk)
    with pytest.raises(ValidationError) as caught:
        services.incident_reopen(incident=incident, actor=commune_clerk, reason="")
    assert "reason" in caught.value.error_dict
    clock.advance(hours=1)
    reopened = services.incident_reopen(incident=incident, actor=commune_clerk, reason="Lại mất mạng")
    assert reopened.state == State.OPEN and reopened.acknowledge_by == local(MONDAY, 12)


def test_invalid_transition_and_stale_version_write_nothing(clock, commune_clerk, province_officer):
    incident = report(commune_clerk)
    with pytest.raises(services.InvalidTransition):
        services.incident_close(incident=incident, actor=commune_clerk)
    services.incident_acknowledge(incident=incident, actor=province_officer)
    with pytest.raises(services.InvalidTransition):
        services.incident_acknowledge(incident=incident, actor=province_officer)
    with pytest.raises(services.StaleVersion):
        services.incident_resolve(incident=incident, actor=province_officer, resolution="x", version=1)
    assert incident.events.count() == 2


# --- scoping ---------------------------------------------------------------------------------------------------------


def test_another_province_neither_sees_nor_acts(clock, commune_clerk, outsider_province_officer, other_commune_clerk):
    incident = report(commune_clerk)
    for outsider in (outsider_province_officer, other_commune_clerk):
        with pytest.raises(services.IncidentNotAllowed) as caught:
            services.incident_acknowledge(incident=incident, actor=outsider)
        assert caught.value.visible is False


def test_clerk_sees_but_may_not_act_as_the_desk(clock, commune_clerk):
    incident = report(commune_clerk)
    with pytest.raises(services.IncidentNotAllowed) as caught:
        services.incident_acknowledge(incident=incident, actor=commune_clerk)
    assert caught.value.visible is True


def test_support_team_acts_on_every_province(clock, commune_clerk, support_member):
    incident = report(commune_clerk)
    assert services.incident_acknowledge(incident=incident, actor=support_member).state == State.ACKNOWLEDGED


def test_team_member_acts_on_the_incident_assigned_to_the_team(
    clock, commune_clerk, province_officer, other_commune_clerk
):
    team = Team.objects.create(name="Tổ lưu động", province_id="01")
    team.members.add(other_commune_clerk)
    incident = report(commune_clerk)
    services.incident_assign(incident=incident, actor=province_officer, team=team.pk)
    assert (
        services.incident_resolve(incident=incident, actor=other_commune_clerk, resolution="Đã sửa").state == "resolved"
    )


# --- notification and escalation -------------------------------------------------------------------------------------


def test_new_incident_tells_the_province_desk_once(
    clock, commune_clerk, province_officer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        incident = report(commune_clerk)
    assert Notification.objects.filter(user=province_officer, alert__rule=OPEN).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_comment(incident=incident, actor=commune_clerk, text="Thêm thông tin")
    services.incidents_notify()
    assert Notification.objects.filter(user=province_officer, alert__rule=OPEN).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_acknowledge(incident=incident, actor=province_officer)
    assert not Alert.objects.open().filter(rule=OPEN).exists()


def test_each_breach_escalates_once_and_closes_when_resolved(
    clock, commune_clerk, province_officer, support_member, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        incident = report(commune_clerk)
    clock.set(local(MONDAY, 10, 59))
    services.incidents_check()
    assert not Alert.objects.filter(rule=BREACH).exists()
    clock.set(local(MONDAY, 11, 1))  # past the 2 hours to acknowledge
    services.incidents_check()
    services.incidents_check()  # again: nothing twice
    incident.refresh_from_db()
    assert incident.escalated
    assert list(Alert.objects.filter(rule=BREACH).values_list("threshold", flat=True)) == [ACKNOWLEDGE_LATE]
    assert Notification.objects.filter(user=support_member, alert__rule=BREACH).count() == 1
    assert incident.events.filter(action="escalated").count() == 1
    clock.set(local(MONDAY + datetime.timedelta(days=1), 8))  # past 17:00 Monday: the time to resolve
    call_command("incidents_check", "--no-email", stdout=open("/dev/null", "w"))
    assert set(Alert.objects.filter(rule=BREACH).values_list("threshold", flat=True)) == {
        ACKNOWLEDGE_LATE,
        RESOLVE_LATE,
    }
    assert incident.events.filter(action="escalated").count() == 1  # escalated once, whatever breaches follow
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_resolve(incident=incident, actor=province_officer, resolution="Đã xử lý")
    assert not Alert.objects.open().filter(rule=BREACH).exists()


def test_resolved_incident_closes_by_itself_after_three_days(clock, commune_clerk, province_officer):
    incident = report(commune_clerk)
    services.incident_resolve(incident=incident, actor=province_officer, resolution="Xong")
    clock.advance(days=3, minutes=1)
    services.incidents_check()
    incident.refresh_from_db()
    assert incident.state == State.CLOSED and incident.events.last().actor is None


# --- audit trail and history ---------------------------------------------------------------------------------------


def test_every_step_is_in_the_audit_trail(clock, commune_clerk, province_officer, api_for, inspector):
    incident = report(commune_clerk)
    services.incident_resolve(incident=incident, actor=province_officer, resolution="Đã xử lý")
    response = api_for(user=inspector).get("/api/v1/audit/", {"kind": "incident_step"})
    assert response.status_code == 200
    events = response.json()["results"]
    assert [(e["actor"], e["object"]["id"]) for e in events] == [
        ("officer-hanoi", str(incident.pk)),
        ("clerk-badinh", str(incident.pk)),
    ]


def test_history_cannot_be_changed(clock, commune_clerk):
    from core.models import AppendOnlyError

    event = report(commune_clerk).events.get()
    event.text = "sửa"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        IncidentEvent.objects.all().delete()


def test_seventy_steps_queue_one_notification_job_while_it_is_pending(
    clock, commune_clerk, province_officer, monkeypatch, django_capture_on_commit_callbacks
):
    """Each step asks for the desk's notifications after commit; the steps made while a job is pending share it
    (support.models.NotifyRequest): 70 steps, one job. The job takes the request before it reads, a duplicate
    delivery does nothing, and the next step queues the next job."""
    from alerts.models import Alert
    from support import jobs
    from support.models import IncidentEvent, NotifyRequest
    from support.services import (
        incident_acknowledge,
        incident_close,
        incident_escalate,
        incident_open,
        incident_reopen,
        incident_resolve,
    )

    queued = []
    monkeypatch.setattr(jobs.incidents_notify, "apply_async", lambda *a, **k: queued.append(k))
    desk = province_officer
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(10):
            incident = incident_open(actor=commune_clerk, category="power", severity="blocking", description=f"#{n}")
            incident_acknowledge(incident=incident, actor=desk)
            incident_escalate(incident=incident, actor=desk, reason="Cần trung ương")
            incident_resolve(incident=incident, actor=desk, resolution="Đã có điện")
            incident_reopen(incident=incident, actor=commune_clerk, reason="Lại mất điện")
            incident_resolve(incident=incident, actor=desk, resolution="Đã có điện lại")
            if n < 5:
                incident_close(incident=incident, actor=commune_clerk)
            else:
                incident_reopen(incident=incident, actor=commune_clerk, reason="Vẫn mất điện")
    assert IncidentEvent.objects.count() == 70
    assert len(queued) == 1
    assert queued[0] == {"kwargs": {"only_if_requested": True}, "countdown": jobs.NOTIFY_DELAY}
    assert NotifyRequest.objects.count() == 1

    told = jobs.incidents_notify(only_if_requested=True)  # the job, as the worker runs it
    # The five reopened ones (open again, not acknowledged) are told to the province's desk, once.
    assert Alert.objects.open().filter(rule="incident_open").count() == 5
    assert told["raised"] >= 5
    assert not NotifyRequest.objects.exists()
    assert jobs.incidents_notify(only_if_requested=True) == {"raised": 0, "escalated": 0}  # a duplicate delivery

    with django_capture_on_commit_callbacks(execute=True):
        incident_acknowledge(incident=incident, actor=desk)
    assert len(queued) == 2


def test_a_broker_that_is_down_gives_the_request_back(
    clock, commune_clerk, monkeypatch, django_capture_on_commit_callbacks
):
    from support import jobs
    from support.models import NotifyRequest
    from support.services import incident_open

    def down(*args, **kwargs):
        raise OSError("broker unreachable")

    monkeypatch.setattr(jobs.incidents_notify, "apply_async", down)
    with django_capture_on_commit_callbacks(execute=True):
        incident_open(actor=commune_clerk, category="power", severity="blocking", description="Mất điện")
    assert not NotifyRequest.objects.exists()  # the next step tries again; the beat's check tells people meanwhile
