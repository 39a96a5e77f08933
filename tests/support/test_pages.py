"""The desk's pages: the board (and its polled panel), the list and its exports, the form, the thread, teams."""

import pytest

from support import services
from support.models import Incident, Team

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(clock, commune_clerk):
    return services.incident_open(actor=commune_clerk, category="power", severity="blocking", description="Mất điện")


def test_board_national_and_per_province(client, incident, support_member, province_officer, outsider_province_officer):
    client.force_login(support_member)
    page = client.get("/operations/")
    assert page.status_code == 200 and b'hx-trigger="every 30s"' in page.content
    assert client.get("/operations/board/?province=01").context["figures"]["open"]["blocking"] == 1
    client.force_login(outsider_province_officer)
    assert client.get("/operations/board/").context["figures"]["open"]["blocking"] == 0
    assert client.get("/operations/?province=01").status_code == 404


def test_report_form_opens_an_incident(client, clock, commune_clerk):
    client.force_login(commune_clerk)
    assert b"/operations/incidents/new/" in client.get("/").content  # in the navigation of every page
    response = client.post(
        "/operations/incidents/new/", {"category": "network", "severity": "degraded", "description": "Mạng chậm"}
    )
    incident = Incident.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/operations/incidents/{incident.pk}/"
    bad = client.post("/operations/incidents/new/", {"category": "wifi", "severity": "x", "description": ""})
    assert bad.status_code == 400


def test_incident_page_buttons_act(client, incident, province_officer, commune_clerk):
    client.force_login(province_officer)
    page = client.get(f"/operations/incidents/{incident.pk}/")
    assert page.context["actions"][:2] == ["acknowledge", "assign"]
    client.post(f"/operations/incidents/{incident.pk}/acknowledge/", {"version": "1"})
    client.post(f"/operations/incidents/{incident.pk}/resolve/", {"resolution": "Đã có điện"})
    client.force_login(commune_clerk)
    assert client.get(f"/operations/incidents/{incident.pk}/").context["actions"][:2] == ["close", "reopen"]
    client.post(f"/operations/incidents/{incident.pk}/close/")
    incident.refresh_from_db()
    assert incident.state == "closed"
    assert client.post(f"/operations/incidents/{incident.pk}/resolve/", {"resolution": "x"}).status_code == 403


def test_commune_list_and_exports_are_scoped(client, incident, other_commune_clerk, commune_clerk):
    client.force_login(other_commune_clerk)
    assert list(client.get("/operations/incidents/").context["page"]) == []
    assert client.get(f"/operations/incidents/{incident.pk}/").status_code == 404
    client.force_login(commune_clerk)
    assert [i.pk for i in client.get("/operations/incidents/").context["page"]] == [incident.pk]
    csv = client.get("/operations/incidents/export.csv")
    assert csv["Content-Type"].startswith("text/csv") and b"power" in b"".join(csv.streaming_content)
    assert client.get("/operations/incidents/export.xlsx").status_code == 200


def test_teams_page_shows_load_and_whom_to_call(client, incident, province_officer, commune_clerk):
    from alerts.models import Contact

    team = Team.objects.create(name="Tổ điện lực", province_id="01")
    services.incident_assign(incident=incident, actor=province_officer, team=team.pk)
    Contact.objects.create(province_id="01", role="focal_point", name="Đầu mối Sở KH&CN", email="dm@example.org")
    Contact.objects.create(province_id="79", role="focal_point", name="Đầu mối TP.HCM", email="hcm@example.org")
    client.force_login(commune_clerk)
    page = client.get("/operations/teams/")
    assert [(t.name, t.load) for t in page.context["teams"]] == [("Tổ điện lực", 1)]
    assert [u.username for u in page.context["desk"]] == ["officer-hanoi"]
    assert [c.name for c in page.context["contacts"]] == ["Đầu mối Sở KH&CN"]


@pytest.mark.parametrize("team", ["9" * 30, "abc", ""])
def test_a_bad_team_on_the_page_is_a_message_not_an_error(client, incident, province_officer, team):
    client.force_login(province_officer)
    response = client.post(f"/operations/incidents/{incident.pk}/assign/", {"team": team}, follow=True)
    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    incident.refresh_from_db()
    assert incident.state == "open"
