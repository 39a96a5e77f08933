from functools import cache

from plan02.navigation import nav_items
from tasks.models import Task
from tasks.roles import Role
from tasks.scoping import scope_for_user


def portal(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    scope = scope_for_user(request.user)

    @cache
    def demo_catalogue():
        # Evaluated only by templates that list tasks, once per request.
        return Task.objects.filter(is_official=False).exists()

    role_label = Role(scope.role).label if scope.role else ""
    return {
        "scope": scope,
        "role_label": role_label,
        "nav_items": nav_items(request, scope),
        "demo_catalogue": demo_catalogue,
    }
