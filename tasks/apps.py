from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class TasksConfig(AppConfig):
    name = "tasks"
    verbose_name = _("Tasks and assignments")

    def ready(self):
        from core import pagecache
        from tasks import (
            schema,  # noqa: F401 - registers the OpenAPI extensions
            trail,
        )

        trail.register()

        # A role given or taken, a user deactivated or given a new password: what a session may see changes.
        pagecache.watch("tasks.Membership")
        pagecache.watch(settings.AUTH_USER_MODEL)
