from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Daily reports")

    def ready(self):
        from reports import (
            auth,  # noqa: F401 - the keys' receivers
            schema,  # noqa: F401 - registers the OpenAPI extensions
            trail,
        )

        trail.register()
