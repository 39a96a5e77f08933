import pytest

from support.demo import demo_support_ensure
from support.models import Incident, State, Team, VendorNotice
from tasks.demo import demo_users_ensure

pytestmark = pytest.mark.django_db


def test_demo_has_teams_and_incidents_in_every_state_and_a_breach(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    demo_users_ensure(password="demo-" + "x" * 10)
    lines = []
    demo_support_ensure(write=lines.append)
    assert set(Incident.objects.values_list("state", flat=True)) == set(State.values)
    assert Team.objects.filter(province_id="01").count() == 2
    assert Incident.objects.breached().exists()
    assert Incident.objects.filter(escalated=True).count() >= 2  # one by the province, the breaches by the check
    # The systems' vendors, and those of the escalated systems' faults told (VNeID's breach, Hà Nội's one-stop).
    told = set(VendorNotice.objects.values_list("incident__system", flat=True))
    assert told == {"vneid", "provincial_procedure_system"}
    demo_support_ensure(write=lines.append)  # again: nothing added
    assert Incident.objects.count() == 7 and len(lines) == 1
