from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TasksConfig(AppConfig):
    name = "tasks"
    verbose_name = _("Tasks and assignments")

    def ready(self):
        from tasks import schema  # noqa: F401 - registers the OpenAPI extensions
