from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    """Rollups, task snapshots and their jobs; the dashboards that read them. Intake (reports) and the task
    workflow (tasks) announce their changes with signals; this app listens, so they never import it."""

    name = "dashboards"
    verbose_name = _("Dashboards")

    def ready(self):
        from core import pagecache
        from dashboards import (
            receivers,  # noqa: F401 - connects to reports' and tasks' signals
            trail,
        )
        from dashboards.cache import GENERATION

        trail.register()
        pagecache.register_generation(GENERATION)  # whole pages follow the rollups and snapshots
        pagecache.watch("dashboards.RollupAlarm")  # an admin's page counts the open alarms
