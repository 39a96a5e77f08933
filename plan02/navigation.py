"""The main navigation, by role. Items whose URL name is not installed are skipped."""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from tasks.models import Role

EVERYONE = None
UNITS = {Role.AGENCY_OFFICER, Role.PROVINCE_OFFICER, Role.COMMUNE_CLERK}
LOCAL = {Role.PROVINCE_OFFICER, Role.COMMUNE_CLERK}
READ_ALL = {Role.ADMIN, Role.STEERING, Role.INSPECTOR, Role.SUPPORT}

# (url name, label, roles that see it or EVERYONE)
NAV = [
    ("home", _("Overview"), EVERYONE),
    ("dashboard:national", _("Dashboards"), EVERYONE),
    ("tasks:mine", _("My tasks"), UNITS),
    ("tasks:province_communes", _("My communes"), {Role.PROVINCE_OFFICER}),
    ("tasks:list", _("Tasks"), EVERYONE),
    ("tasks:plans", _("Local plans"), EVERYONE),
    ("inspections:list", _("Inspections"), EVERYONE),
    ("reports:mine", _("Daily reports"), LOCAL),
    ("reports:list", _("Daily reports"), READ_ALL),
    ("alerts:list", _("Early warning"), EVERYONE),
    ("support:board", _("Operations"), EVERYONE),
    # Reachable from any page: a commune or a province reports an incident at any time (DESIGN.md §12).
    ("support:new", _("Report an incident"), LOCAL),
    ("localities:provinces", _("Provinces"), EVERYONE),
    ("api-docs", _("API"), EVERYONE),
    ("audit:trail", _("Audit trail"), {Role.INSPECTOR, Role.ADMIN}),
    ("admin:index", _("Administration"), {Role.ADMIN}),
]


def nav_items(request, scope):
    items = []
    for name, label, roles in NAV:
        if roles is not EVERYONE and scope.role not in roles:
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        items.append({"url": url, "label": label, "active": False})
    # The current page is the item with the longest URL that starts the path ("/tasks/mine/", not "/tasks/").
    matches = [i for i in items if (request.path == i["url"] if i["url"] == "/" else request.path.startswith(i["url"]))]
    if matches:
        max(matches, key=lambda i: len(i["url"]))["active"] = True
    return items
