import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from tasks.demo import DEMO_USERS
from tasks.models import Membership, Role


@pytest.mark.django_db
def test_bootstrap_creates_demo_users_with_their_roles_and_units(settings, capsys):
    settings.DEMO_PASSWORD = "demo-pass-123"
    call_command("bootstrap", days=0)
    memberships = {m.user.username: m for m in Membership.objects.select_related("user")}
    assert set(DEMO_USERS) <= set(memberships)
    assert memberships["agency"].role == Role.AGENCY_OFFICER and memberships["agency"].agency.code == "BCA"
    assert memberships["province"].province_id == "01"
    assert memberships["commune"].commune_id == "00004"
    assert get_user_model().objects.get(username="commune").check_password("demo-pass-123")
    assert get_user_model().objects.get(username="admin").is_superuser


@pytest.mark.django_db
def test_second_bootstrap_keeps_users_and_data(settings, capsys):
    settings.DEMO_PASSWORD = "first-password-1"
    call_command("bootstrap", days=0)
    settings.DEMO_PASSWORD = "second-password-2"
    users_before = get_user_model().objects.count()
    call_command("bootstrap", days=0)
    out = capsys.readouterr().out
    assert "kept as they are" in out
    assert get_user_model().objects.count() == users_before
    assert get_user_model().objects.get(username="steering").check_password("first-password-1")


@pytest.mark.django_db
def test_generated_password_is_printed_once(settings, capsys):
    settings.DEMO_PASSWORD = None
    call_command("bootstrap", days=0)
    first = capsys.readouterr().out
    assert "generated demo password" in first
    password = first.split("(shown once): ")[1].split()[0]
    assert get_user_model().objects.get(username="inspector").check_password(password)
    call_command("bootstrap", days=0)
    assert "generated demo password" not in capsys.readouterr().out


@pytest.mark.django_db
def test_bootstrap_refuses_demo_data_with_debug_off_unless_asked_for(settings):
    from reports.models import DailyReport

    settings.DEMO_DATA_ALLOWED = False  # DJANGO_DEBUG off and PLAN02_ALLOW_DEMO_DATA unset: production
    with pytest.raises(CommandError, match="--allow-demo-data"):
        call_command("bootstrap", days=0)
    assert not get_user_model().objects.filter(username__in=DEMO_USERS).exists()

    call_command("bootstrap", days=1, allow_demo_data=True)  # the flag also covers the seed_demo it runs
    assert get_user_model().objects.get(username="admin").is_superuser
    assert DailyReport.objects.exists()


@pytest.mark.django_db
def test_seed_demo_refuses_with_debug_off_unless_allowed(settings):
    from reports.models import DailyReport

    settings.DEMO_DATA_ALLOWED = False
    with pytest.raises(CommandError, match="PLAN02_ALLOW_DEMO_DATA=true"):
        call_command("seed_demo", days=1, no_progress=True)
    assert not DailyReport.objects.exists()
