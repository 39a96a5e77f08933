from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    """Early warning: contacts, the alert rules and their job, notifications, e-mail digests, the blocker
    register and support requests. The apps below announce their changes with signals; this app listens
    (alerts.receivers), so none of them imports it. The apps above register their own rules (alerts.specs)
    from their ready(), as this one does."""

    name = "alerts"
    verbose_name = _("Early warning")

    def ready(self):
        from alerts import (
            receivers,  # noqa: F401 - connects to tasks' signal
            regime_rules,
            rules,
            specs,
            trail,
            work_items,
        )

        specs.register(*rules.RULES, *regime_rules.RULES, *work_items.RULES)
        trail.register()
