"""How an alert reads: its subject, its one-line title in the active language, and where it leads in the
portal — each asked of the alert's rule and subject kind (alerts.specs). Expects alerts read with
alerts.selectors.alert_joins() (no query here)."""

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext

from alerts import specs
from alerts.models import Alert
from tasks.roles import Role, Scope


def subject(alert: Alert) -> dict[str, Any]:
    """{"kind", "id", "code", "label"}: an assignment (id, task code), a commune (its code), a report (id, its
    locality's code), or what the subject kind of another app says."""
    kind = specs.subject_kind(alert.subject_kind)
    if kind is None:  # a kind no installed app registers any more
        return {"kind": alert.subject_kind, "id": None, "code": "", "label": alert.subject_key}
    return kind.describe(alert)


def alert_title(alert: Alert) -> str:
    try:
        rule = specs.rule(alert.rule)
    except KeyError:  # a rule no installed app registers any more
        return f"{alert.rule}: {subject(alert)['label']}"
    return rule.title(threshold=alert.threshold, subject=subject(alert)["label"], day=alert.day, since=alert.since)


def alert_url(alert: Alert) -> str:
    """The page that shows the alert's subject: the assignment, the commune's history, the support request."""
    kind = specs.subject_kind(alert.subject_kind)
    return kind.url(alert) if kind is not None else reverse("alerts:list")


# --- who was told --------------------------------------------------------------------------------------------
# A username is what the login form asks for, and the login locks an account after a few failures by
# username: a list of usernames lets whoever reads it lock those people out (issue 22, finding 8). So each
# reader sees the usernames they may know — their own, their own unit's people's, every one for the national
# roles and staff — and a label (role and unit, no username) for everyone else. API keys see labels only.


def person_label(user: Any) -> str:
    """ "Province officer, Thành phố Hà Nội": the person's role and unit, in the active language; expects the
    user read with its membership and the membership's unit (alerts.selectors.NOTIFIED_JOINS)."""
    try:
        membership = user.membership
    except ObjectDoesNotExist:
        return capfirst(gettext("user"))
    role = capfirst(str(Role(membership.role).label))
    unit = membership.agency or membership.province or membership.commune
    if unit is None:
        return role
    # Translators: who was told of an alert, when the reader may not see their username: "Province officer,
    # Thành phố Hà Nội".
    return gettext("%(role)s, %(unit)s") % {"role": role, "unit": unit.name}


def may_see_username(viewer: Scope, user: Any, *, staff: bool = False) -> bool:
    """May `viewer` (staff: the reader is a staff user) see `user`'s username? Their own, their unit's people's
    (the same agency, province or commune), and everyone's for the national roles and staff; never an API key."""
    if viewer.is_api_client:
        return False
    if staff or viewer.reads_all or (viewer.user_id is not None and user.pk == viewer.user_id):
        return True
    try:
        membership = user.membership
    except ObjectDoesNotExist:
        return False
    if membership.role != viewer.role:
        return False
    if viewer.is_agency:
        return membership.agency_id == viewer.agency_id
    if viewer.is_province:
        return membership.province_id == viewer.province_id
    if viewer.is_commune:
        return membership.commune_id == viewer.commune_id
    return False


def notified(alert: Alert, viewer: Scope, *, staff: bool = False) -> list[str]:
    """Who was told of the alert in the portal, as `viewer` may read it: usernames or labels, sorted. Expects
    the alert read with alerts.selectors.alert_list (its notifications, users and units prefetched)."""
    return sorted(
        n.user.username if may_see_username(viewer, n.user, staff=staff) else person_label(n.user)
        for n in alert.notifications.all()
    )
