"""Building the caller's Scope (tasks.roles) once per request, from the user's membership or from the API
key's client. What a scope may see and change is each app's queryset methods taking it
(`Assignment.objects.visible_to(scope)`, `DailyReport.objects.visible_to(scope)`, …), so scoping lives in
querysets, not in views."""

from typing import Any

from tasks.models import Assignment, Membership
from tasks.roles import NO_SCOPE, READ_ALL_ROLES, UNIT_ROLES, Role, Scope

__all__ = ["NO_SCOPE", "READ_ALL_ROLES", "UNIT_ROLES", "Scope", "acts_on_behalf", "scope_for_request", "scope_for_user"]


def scope_for_user(user: Any) -> Scope:
    """The user's scope; cached on the user object for the request."""
    if user is None or not user.is_authenticated:
        return NO_SCOPE
    cached = getattr(user, "_plan02_scope", None)
    if cached is not None:
        return cached
    membership = Membership.objects.select_related("commune", "working_group").filter(user_id=user.pk).first()
    if membership is None:
        scope = Scope(role=Role.ADMIN, user_id=user.pk) if user.is_superuser else Scope(user_id=user.pk)
    else:
        scope = Scope(
            role=membership.role,
            agency_id=membership.agency_id,
            province_id=membership.province_id,
            commune_id=membership.commune_id,
            commune_province_id=membership.commune.province_id if membership.commune is not None else None,
            user_id=user.pk,
            working_group=membership.working_group.number if membership.working_group is not None else None,
        )
    user._plan02_scope = scope
    return scope


def scope_for_request(request: Any) -> Scope:
    """The scope of an API request: the key's client when it authenticated with one (request.auth offers
    `as_scope()`: reports.models.ApiClient, which this app may not import), else the session's user."""
    as_scope = getattr(getattr(request, "auth", None), "as_scope", None)
    if as_scope is not None:
        return as_scope()
    return scope_for_user(request.user)


def acts_on_behalf(scope: Scope, assignment: Assignment) -> bool:
    """A province officer changing a commune's assignment does it on the commune's behalf (DESIGN.md §3)."""
    return scope.is_province and assignment.level == "commune"
