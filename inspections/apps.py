from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionsConfig(AppConfig):
    """Inspections (DESIGN.md §13): inspection plans, visits' findings, and the follow-up items their
    recommendations become, carried out through the tasks app's workflow service."""

    name = "inspections"
    verbose_name = _("Inspections")

    def ready(self):
        from alerts import specs
        from inspections import rules, trail

        specs.register(*rules.RULES)
        trail.register()
