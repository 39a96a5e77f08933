from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """The foundation as an app only for its few tables (cache generations); it imports no other app."""

    name = "core"
    verbose_name = _("Foundation")

    def ready(self):
        from core import checks  # noqa: F401 - registers the system checks
