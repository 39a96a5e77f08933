"""The API of DESIGN.md §12: shapes, scoping, bad input, conflicts."""

import datetime

import pytest

from support.models import Incident, Team
from tests.support.conftest import MONDAY, local

pytestmark = pytest.mark.django_db

BODY = {"category": "vneid", "system": "vneid", "severity": "blocking", "description": "VNeID không xác thực được"}
CREATED_FIELDS = {
    "id",
    "state",
    "category",
    "system",
    "severity",
    "locality",
    "reported_by",
    "created_at",
    "acknowledge_by",
    "resolve_by",
    "holder",
}


@pytest.fixture
def opened(clock, api_for, commune_clerk):
    response = api_for(user=commune_clerk).post("/api/v1/incidents/", BODY, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_create_answers_201_with_the_contract_fields(opened):
    assert CREATED_FIELDS <= set(opened)
    assert opened["state"] == "open" and opened["locality"] == "00004" and opened["reported_by"] == "clerk-badinh"
    assert opened["acknowledge_by"] == local(MONDAY, 11).isoformat()
    assert opened["holder"] == {"kind": "desk", "id": None, "name": "01"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"category": "wifi"}, "category"),
        ({"severity": "panic"}, "severity"),
        ({"colour": "red"}, "colour"),
        ({"description": ""}, "description"),
        ({"category": 7}, "category"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(clock, api_for, commune_clerk, change, field):
    response = api_for(user=commune_clerk).post("/api/v1/incidents/", {**BODY, **change}, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_keys_and_read_only_roles_may_not_report(clock, api_for, commune_key, steering):
    assert api_for(commune_key[1]).post("/api/v1/incidents/", BODY, format="json").status_code == 403
    assert api_for(user=steering).post("/api/v1/incidents/", BODY, format="json").status_code == 403


def test_list_is_scoped_and_filtered(opened, api_for, province_officer, outsider_province_officer, support_member):
    assert api_for(user=province_officer).get("/api/v1/incidents/").json()["count"] == 1
    assert api_for(user=outsider_province_officer).get("/api/v1/incidents/").json()["count"] == 0
    client = api_for(user=support_member)
    assert client.get("/api/v1/incidents/?severity=blocking&state=open&category=vneid").json()["count"] == 1
    assert client.get("/api/v1/incidents/?breached=true").json()["count"] == 0
    assert client.get("/api/v1/incidents/?severity=urgent").status_code == 400


def test_detail_has_history_and_comments(opened, api_for, commune_clerk, province_officer):
    url = f"/api/v1/incidents/{opened['id']}/"
    response = api_for(user=commune_clerk).post(url + "comments/", {"text": "Vẫn lỗi"}, format="json")
    assert response.status_code == 201
    body = api_for(user=province_officer).get(url).json()
    assert [h["action"] for h in body["history"]] == ["opened", "commented"]
    assert body["comments"] == [{"at": body["history"][1]["at"], "author": "clerk-badinh", "text": "Vẫn lỗi"}]
    assert "acknowledge" in body["actions"]


def test_steps_answer_by_the_conventions(opened, api_for, province_officer, outsider_province_officer, commune_clerk):
    url = f"/api/v1/incidents/{opened['id']}/"
    desk = api_for(user=province_officer)
    assert api_for(user=outsider_province_officer).post(url + "acknowledge/", {}, format="json").status_code == 404
    assert api_for(user=commune_clerk).post(url + "acknowledge/", {}, format="json").status_code == 403
    assert desk.post(url + "resolve/", {}, format="json").json()["errors"].keys() == {"resolution"}
    assert desk.post(url + "acknowledge/", {"version": 1}, format="json").json()["state"] == "acknowledged"
    again = desk.post(url + "acknowledge/", {}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    stale = desk.post(url + "escalate/", {"reason": "Cần trung ương", "version": 1}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"
    assert (
        desk.post(url + "escalate/", {"reason": "Cần trung ương"}, format="json").json()["holder"]["kind"] == "support"
    )
    assert api_for(user=commune_clerk).post(url + "reopen/", {"reason": "x"}, format="json").status_code == 409


def test_assign_to_a_team_of_another_province_is_refused(opened, api_for, province_officer):
    other = Team.objects.create(name="Đội TP.HCM", province_id="79")
    url = f"/api/v1/incidents/{opened['id']}/assign/"
    response = api_for(user=province_officer).post(url, {"team": other.pk}, format="json")
    assert response.status_code == 400 and "team" in response.json()["errors"]
    mine = Team.objects.create(name="Đội Hà Nội", province_id="01")
    response = api_for(user=province_officer).post(url, {"team": mine.pk}, format="json")
    assert response.json()["holder"] == {"kind": "team", "id": mine.pk, "name": "Đội Hà Nội"}
    teams = api_for(user=province_officer).get("/api/v1/teams/").json()["results"]
    assert [(t["name"], t["load"]) for t in teams] == [("Đội Hà Nội", 1)]


def test_board_counts(opened, api_for, support_member, province_officer, outsider_province_officer, clock):
    body = api_for(user=support_member).get("/api/v1/operations/board/").json()
    assert body["open"] == {"blocking": 1, "degraded": 0, "question": 0}
    assert body["by_category"] == {"vneid": 1} and body["breached"] == 0
    assert body["by_province"][0]["province"] == "01" and "as_of" in body
    clock.set(local(MONDAY, 12))
    assert api_for(user=province_officer).get("/api/v1/operations/board/?province=01").json()["breached"] == 1
    assert api_for(user=outsider_province_officer).get("/api/v1/operations/board/?province=01").status_code == 404
    assert api_for(user=support_member).get("/api/v1/operations/board/?province=99").status_code == 400


def test_support_requests_become_incidents(clock, province_officer):
    from reports.models import DailyReport
    from support.services import incidents_open_for_reports
    from tests.reports.factories import make_report

    asked = make_report("00004", MONDAY, support_needed=True)
    make_report("00008", MONDAY, support_needed=False)
    assert incidents_open_for_reports() == 1
    assert incidents_open_for_reports() == 0
    incident = Incident.objects.get()
    assert (incident.report_id, incident.commune_id, incident.state) == (asked.pk, "00004", "open")
    assert DailyReport.objects.filter(support_needed=True).count() == 1


def test_a_request_closed_through_the_support_requests_api_closes_its_incident(clock, api_for, province_officer):
    from support.services import incidents_check, incidents_open_for_reports
    from tests.reports.factories import make_report

    asked = make_report("00004", MONDAY, support_needed=True)
    incidents_open_for_reports()
    response = api_for(user=province_officer).post(
        f"/api/v1/support-requests/{asked.pk}/close/", {"resolution": "Đã cho mượn máy quét"}, format="json"
    )
    assert response.status_code == 200
    incidents_check()
    incident = Incident.objects.get(report=asked)
    assert (incident.state, incident.resolution) == ("closed", "Đã cho mượn máy quét")
    assert incidents_check().closed == 0


@pytest.mark.parametrize("persona", ["province_officer", "support_member", "commune_clerk"])
def test_list_and_board_cost_the_same_queries_for_2_or_6_incidents(
    clock, api_for, request, persona, commune_clerk, province_officer, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from support.services import incident_assign, incident_open

    team = Team.objects.create(name="Đội 1", province_id="01")
    client = api_for(user=request.getfixturevalue(persona))

    def add(n):
        for _ in range(n):
            incident = incident_open(actor=commune_clerk, category="power", severity="degraded", description="x")
            incident_assign(incident=incident, actor=province_officer, team=team.pk)

    def cost(url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    add(2)
    few = (cost("/api/v1/incidents/"), cost("/api/v1/operations/board/"), cost("/api/v1/teams/"))
    add(4)
    assert (cost("/api/v1/incidents/"), cost("/api/v1/operations/board/"), cost("/api/v1/teams/")) == few


def test_a_report_asking_for_support_opens_its_incident_when_accepted(
    clock, province_key, django_capture_on_commit_callbacks
):
    from reports.services import daily_report_submit
    from tests.reports.helpers import payload

    client, _key = province_key
    with django_capture_on_commit_callbacks(execute=True):
        outcome = daily_report_submit(
            payload=payload(
                "00004", MONDAY - datetime.timedelta(days=1), support_needed=True, difficulties="Máy in hỏng"
            ),
            client=client,
        )
    incident = Incident.objects.get()
    assert (incident.report.receipt, incident.description, incident.commune_id) == (
        outcome.receipt,
        "Máy in hỏng",
        "00004",
    )


def test_resolving_the_incident_at_the_desk_answers_its_reports_support_request_once(
    clock, api_for, commune_clerk, province_officer, support_member
):
    """§8 and §12 together: the desk's resolution is the request's answer (the clerk reads it on the support
    requests' page), written once even when the incident is reopened and resolved again; the request's
    alert closes; the incident's history says so once."""
    from alerts.models import Alert, SupportResolution
    from alerts.rules import Rule
    from alerts.services.runs import alerts_run
    from support.models import Action
    from support.services import incident_reopen, incident_resolve, incidents_check, incidents_open_for_reports
    from tests.reports.factories import make_report

    asked = make_report("00004", MONDAY, support_needed=True)
    incidents_open_for_reports()
    alerts_run(rules=[Rule.SUPPORT_NEEDED], trigger="test")
    assert Alert.objects.open().filter(rule=Rule.SUPPORT_NEEDED, report=asked).count() == 1
    incident = Incident.objects.get(report=asked)

    response = api_for(user=support_member).post(
        f"/api/v1/incidents/{incident.pk}/resolve/", {"resolution": "Đã thay máy quét"}, format="json"
    )
    assert response.status_code == 200
    answer = SupportResolution.objects.get(report=asked)
    assert (answer.resolution, answer.closed_by, answer.closed_at) == ("Đã thay máy quét", support_member, clock())
    assert not Alert.objects.open().filter(rule=Rule.SUPPORT_NEEDED, report=asked).exists()
    history = list(incident.events.order_by("pk").values_list("action", flat=True))
    assert history[-2:] == [Action.RESOLVED, Action.REQUEST_ANSWERED]
    # The support requests' API shows it closed with the desk's words.
    shown = api_for(user=commune_clerk).get(f"/api/v1/support-requests/{asked.pk}/").json()
    assert shown["resolution"] == "Đã thay máy quét"

    # Reopened and resolved again: the request keeps its first answer, the history gains no second row.
    clock.advance(hours=1)
    incident.refresh_from_db()
    incident_reopen(incident=incident, actor=commune_clerk, reason="Vẫn lỗi")
    incident.refresh_from_db()
    incident_resolve(incident=incident, actor=province_officer, resolution="Đã cài lại trình điều khiển")
    assert SupportResolution.objects.filter(report=asked).count() == 1
    assert SupportResolution.objects.get(report=asked).resolution == "Đã thay máy quét"
    assert incident.events.filter(action=Action.REQUEST_ANSWERED).count() == 1
    # The sweep that closes incidents of answered requests leaves a resolved one to its reporter.
    incidents_check()
    incident.refresh_from_db()
    assert incident.state == "resolved"


def test_an_incident_without_a_report_resolves_without_touching_support_requests(
    clock, commune_clerk, province_officer
):
    from alerts.models import SupportResolution
    from support.models import Action
    from support.services import incident_open, incident_resolve

    incident = incident_open(actor=commune_clerk, category="power", severity="degraded", description="Mất điện")
    incident_resolve(incident=incident, actor=province_officer, resolution="Có điện lại")
    assert not SupportResolution.objects.exists()
    assert not incident.events.filter(action=Action.REQUEST_ANSWERED).exists()
