from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    """The operations desk (DESIGN.md §12): incidents, intervention teams, escalation, the live board. It sits
    above alerts: it registers its alert rules (support.rules) and its audit-trail sources (support.trail),
    and listens to the reports' signal (support.receivers); nothing below imports it."""

    name = "support"
    verbose_name = _("Operations desk")

    def ready(self):
        from alerts import specs
        from support import (
            receivers,  # noqa: F401 - connects to reports' signal
            rules,
            trail,
        )

        specs.register(*rules.RULES)
        trail.register()
