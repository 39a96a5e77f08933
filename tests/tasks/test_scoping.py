import pytest

from tasks.models import Assignment
from tasks.scoping import assignments_updatable, assignments_visible, scope_for_user


@pytest.mark.django_db
def test_read_all_roles_see_everything_and_change_nothing(steering, inspector):
    total = Assignment.objects.count()
    for user in (steering, inspector):
        scope = scope_for_user(user)
        assert assignments_visible(scope).count() == total
        assert not assignments_updatable(scope).exists()


@pytest.mark.django_db
def test_agency_officer_changes_only_own_agency_assignments(agency_officer):
    scope = scope_for_user(agency_officer)
    updatable = assignments_updatable(scope)
    assert updatable.exists()
    assert set(updatable.values_list("agency__code", flat=True)) == {"BCA"}
    # Sees the province and commune assignments of tasks it leads (e.g. T22 province-level, T23 commune-level).
    visible = assignments_visible(scope)
    assert visible.filter(task__code="T23").count() == 3321
    assert not visible.filter(task__code="T57").exists()  # led by the Supreme People's Court alone


@pytest.mark.django_db
def test_province_officer_covers_the_province_and_its_communes(province_officer, outsider_province_officer):
    scope = scope_for_user(province_officer)
    visible = assignments_visible(scope)
    assert set(visible.values_list("province_id", flat=True)) == {"01"}
    assert visible.filter(level="commune", commune_id="00004").exists()
    assert assignments_updatable(scope).count() == visible.count()
    other = scope_for_user(outsider_province_officer)
    assert not assignments_visible(other).filter(province_id="01").exists()


@pytest.mark.django_db
def test_commune_clerk_covers_only_the_commune(commune_clerk):
    scope = scope_for_user(commune_clerk)
    visible = assignments_visible(scope)
    assert set(visible.values_list("commune_id", flat=True)) == {"00004"}
    assert visible.count() == Assignment.objects.filter(level="commune", commune_id="00004").count() > 0


@pytest.mark.django_db
def test_user_without_membership_sees_nothing(django_user_model):
    user = django_user_model.objects.create_user("nobody", password="x" * 12)
    scope = scope_for_user(user)
    assert not assignments_visible(scope).exists()
