"""API keys: issued by the command, the admin or a province officer for its communes; shown once, stored
hashed, revocable."""

import hashlib
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.utils import translation

from reports import services
from reports.models import ApiClient
from tests.reports.helpers import payload

pytestmark = pytest.mark.django_db
REPORTS = "/api/v1/reports/daily/"


def issue(*args):
    out = io.StringIO()
    call_command("issue_key", *args, stdout=out)
    return out.getvalue().splitlines()


def test_issue_key_prints_the_key_on_its_last_line_and_stores_only_its_hash(api_for):
    lines = issue("--locality", "00004", "--name", "Ba Đình desk")
    key = lines[-1]
    client = ApiClient.objects.get()
    assert (client.commune_id, client.province_id, client.name) == ("00004", None, "Ba Đình desk")
    assert client.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert client.key_prefix == key[:12] and len(key) > 40
    assert not any(key in str(value) for value in ApiClient.objects.values().get().values())
    assert api_for(key).post(REPORTS, payload(), format="json").status_code == 201


def test_issue_key_for_a_province():
    key = issue("--locality", "01", "--name", "Hà Nội system")[-1]
    client = ApiClient.objects.get()
    assert (client.province_id, client.commune_id) == ("01", None)
    assert key.startswith(services.KEY_START)


def test_issue_key_refuses_an_unknown_locality():
    with translation.override("en"), pytest.raises(CommandError, match="Unknown locality"):
        issue("--locality", "99999", "--name", "x")
    with pytest.raises(CommandError):
        issue("--locality", "4", "--name", "x")


def test_keys_are_unique():
    keys = {issue("--locality", "00004", "--name", f"desk {i}")[-1] for i in range(3)}
    assert len(keys) == 3


def test_revoke_key_by_prefix_refuses_the_key(api_for):
    key = issue("--locality", "00004", "--name", "desk")[-1]
    out = io.StringIO()
    call_command("revoke_key", "--prefix", key[:12], stdout=out)
    assert "Revoked" in out.getvalue()
    assert api_for(key).get(REPORTS).status_code == 401
    out = io.StringIO()
    call_command("revoke_key", "--key", key, stdout=out)
    assert "already revoked" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("revoke_key", "--id", 999999)


def test_province_officers_issue_keys_for_their_communes_only(province_officer, outsider_province_officer):
    client, _key = services.api_client_issue(name="desk", locality="00004", created_by=province_officer)
    assert client.created_by == province_officer
    with pytest.raises(PermissionDenied):
        services.api_client_issue(name="desk", locality="00004", created_by=outsider_province_officer)
    with pytest.raises(PermissionDenied):
        services.api_client_issue(name="own", locality="01", created_by=province_officer)
    with pytest.raises(PermissionDenied):
        services.api_client_revoke(client=client, revoked_by=outsider_province_officer)
    assert services.api_client_revoke(client=client, revoked_by=province_officer) is True
    assert services.api_client_revoke(client=client, revoked_by=province_officer) is False


@pytest.mark.parametrize("persona", ["commune_clerk", "steering", "inspector", "agency_officer"])
def test_others_issue_no_keys(request, persona):
    with pytest.raises(PermissionDenied):
        services.api_client_issue(name="desk", locality="00004", created_by=request.getfixturevalue(persona))


def test_a_key_needs_a_name():
    with pytest.raises(ValidationError):
        services.api_client_issue(name=" ", locality="00004")


# --- the admin ----------------------------------------------------------------------------------------------


def test_admin_issues_a_key_and_sees_it_once(client, admin_user, api_for):
    client.force_login(admin_user)
    assert client.get("/admin/reports/apiclient/add/").status_code == 200
    response = client.post("/admin/reports/apiclient/add/", {"name": "Hà Nội system", "locality": "01"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = response.context["key"]
    assert key in response.text
    assert api_for(key).post(REPORTS, payload("00008"), format="json").status_code == 201
    listing = client.get("/admin/reports/apiclient/")
    assert key not in listing.text and key[:12] in listing.text


def test_admin_add_form_reports_an_unknown_locality(client, admin_user):
    client.force_login(admin_user)
    response = client.post("/admin/reports/apiclient/add/", {"name": "x", "locality": "99999"})
    assert response.status_code == 200
    assert "key" not in response.context
    assert not ApiClient.objects.exists()


def test_admin_action_revokes_keys(client, admin_user, commune_key, api_for):
    client.force_login(admin_user)
    response = client.post(
        "/admin/reports/apiclient/", {"action": "revoke_keys", "_selected_action": [commune_key[0].pk]}
    )
    assert response.status_code == 302
    revoked = ApiClient.objects.get()
    assert revoked.revoked_at is not None and revoked.revoked_by == admin_user
    assert api_for(commune_key[1]).get(REPORTS).status_code == 401


# --- the province officer's page ----------------------------------------------------------------------------


def test_province_officer_issues_a_key_from_the_browser(client, province_officer, api_for):
    client.force_login(province_officer)
    page = client.get("/reports/keys/")
    assert page.status_code == 200
    assert 'value="00004"' in page.text and 'value="25747"' not in page.text
    response = client.post("/reports/keys/", {"name": "Ba Đình desk", "locality": "00004"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = response.context["key"]
    assert api_for(key).post(REPORTS, payload(), format="json").status_code == 201
    listing = client.get("/reports/keys/")
    assert key not in listing.text and key[:12] in listing.text


def test_province_officer_cannot_issue_for_another_province(client, province_officer):
    client.force_login(province_officer)
    response = client.post("/reports/keys/", {"name": "x", "locality": "25747"})
    assert response.status_code == 403
    assert not ApiClient.objects.exists()


def test_province_officer_revokes_only_its_communes_keys(client, province_officer, commune_key, outsider_province_key):
    other = services.api_client_issue(name="HCMC desk", locality="25747")[0]
    client.force_login(province_officer)
    assert client.post(f"/reports/keys/{other.pk}/revoke/").status_code == 404
    assert client.post(f"/reports/keys/{commune_key[0].pk}/revoke/").status_code == 302
    assert ApiClient.objects.get(pk=commune_key[0].pk).revoked_by == province_officer
    assert ApiClient.objects.get(pk=other.pk).revoked_at is None


@pytest.mark.parametrize("persona", ["commune_clerk", "steering", "agency_officer"])
def test_key_page_is_for_province_officers_and_the_admin(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get("/reports/keys/").status_code == 403
