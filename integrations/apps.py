from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    """Open to other systems (DESIGN.md §14): the changes feed over the outbox of events (core.events) and the
    signed webhooks that push the same events. It reads the events the apps below write; none of them knows
    about it."""

    name = "integrations"
    verbose_name = _("Integrations")

    def ready(self):
        from auditlog.registry import auditlog

        from integrations.models import WebhookEndpoint

        # The audit trail shows who registered, changed or switched off an endpoint, field by field; the
        # secret is never recorded (it signs every delivery).
        if not auditlog.contains(WebhookEndpoint):
            auditlog.register(WebhookEndpoint, exclude_fields=["secret", "messages"])
