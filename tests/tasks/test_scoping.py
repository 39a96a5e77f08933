import pytest

from tasks.models import Assignment
from tasks.scoping import scope_for_user


@pytest.mark.django_db
def test_read_all_roles_see_everything_and_change_nothing(steering, inspector):
    total = Assignment.objects.count()
    for user in (steering, inspector):
        scope = scope_for_user(user)
        assert Assignment.objects.visible_to(scope).count() == total
        assert not Assignment.objects.updatable_by(scope).exists()


@pytest.mark.django_db
def test_agency_officer_changes_only_own_agency_assignments(agency_officer):
    scope = scope_for_user(agency_officer)
    updatable = Assignment.objects.updatable_by(scope)
    assert updatable.exists()
    assert set(updatable.values_list("agency__code", flat=True)) == {"BCA"}
    # Sees the province and commune assignments of tasks it leads (e.g. T22 province-level, T23 commune-level).
    visible = Assignment.objects.visible_to(scope)
    assert visible.filter(task__code="T23").count() == 3321
    assert not visible.filter(task__code="T57").exists()  # led by the Supreme People's Court alone


@pytest.mark.django_db
def test_province_officer_covers_the_province_and_its_communes(province_officer, outsider_province_officer):
    scope = scope_for_user(province_officer)
    visible = Assignment.objects.visible_to(scope)
    assert set(visible.values_list("province_id", flat=True)) == {"01"}
    assert visible.filter(level="commune", commune_id="00004").exists()
    assert Assignment.objects.updatable_by(scope).count() == visible.count()
    other = scope_for_user(outsider_province_officer)
    assert not Assignment.objects.visible_to(other).filter(province_id="01").exists()


@pytest.mark.django_db
def test_commune_clerk_covers_only_the_commune(commune_clerk):
    scope = scope_for_user(commune_clerk)
    visible = Assignment.objects.visible_to(scope)
    assert set(visible.values_list("commune_id", flat=True)) == {"00004"}
    assert visible.count() == Assignment.objects.filter(level="commune", commune_id="00004").count() > 0


@pytest.mark.django_db
def test_user_without_membership_sees_nothing(django_user_model):
    user = django_user_model.objects.create_user("nobody", password="x" * 12)
    scope = scope_for_user(user)
    assert not Assignment.objects.visible_to(scope).exists()


@pytest.mark.django_db
def test_an_agency_sees_the_assignments_it_blocks_but_cannot_change_them(agency_officer, other_agency_officer):
    """The blocking agency's head answers for the blocker (DESIGN.md §8), so its officers see the assignments
    that name it, even of tasks it neither leads nor coordinates."""
    from tasks.models import Agency, AssignmentStatus

    blocked = Assignment.objects.filter(task__code="T57").first()  # led by TANDTC alone
    scope = scope_for_user(agency_officer)
    assert not Assignment.objects.visible_to(scope).filter(pk=blocked.pk).exists()
    Assignment.objects.filter(pk=blocked.pk).update(
        status=AssignmentStatus.BLOCKED, blocked_by=Agency.objects.get(code="BCA"), blocked_reason="waiting"
    )
    assert Assignment.objects.visible_to(scope).filter(pk=blocked.pk).exists()
    assert not Assignment.objects.updatable_by(scope).filter(pk=blocked.pk).exists()
