from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    """The audit trail, on top of every app: it gathers the trail sources the apps declare."""

    name = "audit"
    verbose_name = _("Audit trail")

    def ready(self):
        from audit import trail
        from audit.registry import register_audited_models

        # After the apps below declared their sources and kept models (INSTALLED_APPS order).
        register_audited_models()
        trail.register()
