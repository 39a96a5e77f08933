"""Who may see and change what (DESIGN.md §3). Every list, detail, filter, export and dashboard query goes
through these helpers, so scoping lives in querysets and not only in views.

A `Scope` is built once per request from the user's membership or from the API client of the key.
"""

from dataclasses import dataclass

from django.db.models import Q

from tasks.models import Assignment, Role

READ_ALL_ROLES = {Role.ADMIN, Role.STEERING, Role.INSPECTOR}
UNIT_ROLES = {Role.AGENCY_OFFICER, Role.PROVINCE_OFFICER, Role.COMMUNE_CLERK}


@dataclass(frozen=True)
class Scope:
    role: str | None = None
    agency_id: int | None = None
    province_id: str | None = None
    commune_id: str | None = None
    # The commune's province, for a commune clerk or a commune API key.
    commune_province_id: str | None = None
    user_id: int | None = None
    client_id: int | None = None

    @property
    def reads_all(self):
        return self.role in READ_ALL_ROLES

    @property
    def is_admin(self):
        return self.role == Role.ADMIN

    @property
    def is_api_client(self):
        return self.client_id is not None

    @property
    def has_unit(self):
        return self.role in UNIT_ROLES

    def locality_code(self):
        return self.commune_id or self.province_id


NO_SCOPE = Scope()


def scope_for_user(user):
    """The user's scope; cached on the user object for the request."""
    if user is None or not user.is_authenticated:
        return NO_SCOPE
    cached = getattr(user, "_plan02_scope", None)
    if cached is not None:
        return cached
    from tasks.models import Membership

    membership = Membership.objects.select_related("commune").filter(user_id=user.pk).first()
    if membership is None:
        scope = Scope(role=Role.ADMIN, user_id=user.pk) if user.is_superuser else Scope(user_id=user.pk)
    else:
        scope = Scope(
            role=membership.role,
            agency_id=membership.agency_id,
            province_id=membership.province_id,
            commune_id=membership.commune_id,
            commune_province_id=membership.commune.province_id if membership.commune_id else None,
            user_id=user.pk,
        )
    user._plan02_scope = scope
    return scope


def scope_for_client(client):
    """An API client acts for its commune, or for its province and the province's communes."""
    if client.commune_id:
        return Scope(
            role=Role.COMMUNE_CLERK,
            commune_id=client.commune_id,
            commune_province_id=client.commune.province_id,
            client_id=client.pk,
        )
    return Scope(role=Role.PROVINCE_OFFICER, province_id=client.province_id, client_id=client.pk)


def scope_for_request(request):
    from reports.models import ApiClient

    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiClient):
        return scope_for_client(auth)
    return scope_for_user(request.user)


# --- assignments ----------------------------------------------------------------------------------------


def assignments_visible(scope, queryset=None):
    """Assignments the scope may see: everything for read-all roles; an agency's own assignments and those
    of the tasks it leads or coordinates; a province's and its communes'; a commune's own."""
    qs = Assignment.objects.all() if queryset is None else queryset
    if scope.reads_all:
        return qs
    if scope.role == Role.AGENCY_OFFICER:
        return qs.filter(
            Q(agency_id=scope.agency_id)
            | Q(task__lead_agency_id=scope.agency_id)
            | Q(task__in=_tasks_coordinated_by(scope.agency_id))
        )
    if scope.role == Role.PROVINCE_OFFICER:
        return qs.filter(province_id=scope.province_id)  # province and commune assignments carry province_id
    if scope.role == Role.COMMUNE_CLERK:
        return qs.filter(commune_id=scope.commune_id)
    return qs.none()


def updatable_q(scope):
    """The rule of assignments_updatable() as a Q, so a list can annotate "may update" per row in SQL.
    None when the scope may change nothing."""
    if scope.is_api_client:
        return None
    if scope.role == Role.AGENCY_OFFICER:
        return Q(agency_id=scope.agency_id)
    if scope.role == Role.PROVINCE_OFFICER:
        return Q(province_id=scope.province_id)
    if scope.role == Role.COMMUNE_CLERK:
        return Q(commune_id=scope.commune_id)
    return None


def assignments_updatable(scope, queryset=None):
    """Assignments the scope may change: its own unit's; a province officer also its communes'.
    Read-only roles and API keys change nothing."""
    qs = Assignment.objects.all() if queryset is None else queryset
    condition = updatable_q(scope)
    return qs.none() if condition is None else qs.filter(condition)


def acts_on_behalf(scope, assignment):
    """A province officer changing a commune's assignment does it on the commune's behalf (DESIGN.md §3)."""
    return scope.role == Role.PROVINCE_OFFICER and assignment.level == "commune"


def _tasks_coordinated_by(agency_id):
    from tasks.models import Task

    return Task.objects.filter(coordinating_agencies=agency_id).values("pk")


# --- localities and reports -----------------------------------------------------------------------------


def localities_q(scope, *, province_field="province", commune_field="commune"):
    """A Q that keeps rows of the localities the scope may see (rows carry a province and maybe a commune).
    Read-all roles see every locality; a province sees itself and its communes; a commune itself."""
    if scope.reads_all:
        return Q()
    if scope.role == Role.PROVINCE_OFFICER:
        return Q(**{f"{province_field}_id": scope.province_id})
    if scope.role == Role.COMMUNE_CLERK:
        return Q(**{f"{commune_field}_id": scope.commune_id})
    if scope.role == Role.AGENCY_OFFICER:
        # Agencies follow tasks, not localities' daily figures.
        return Q(pk__in=[])
    return Q(pk__in=[])


def may_act_for_locality(scope, *, province_id, commune_id=None):
    """May the scope submit or correct a report of this locality (a province itself, or a commune)?"""
    if scope.role == Role.COMMUNE_CLERK:
        return commune_id is not None and commune_id == scope.commune_id
    if scope.role == Role.PROVINCE_OFFICER:
        return province_id == scope.province_id
    return False
