from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    """Open to other systems (DESIGN.md §14): the changes feed over the outbox of events (core.events), the
    signed webhooks that push the same events, and single sign-on with the government's identity services
    (integrations.sso). It reads the events the apps below write; none of them knows about it."""

    name = "integrations"
    verbose_name = _("Integrations")

    def ready(self):
        from core import trail
        from integrations.models import WebhookEndpoint

        # The audit trail shows who registered, changed or switched off an endpoint, field by field; the
        # secret is never recorded (it signs every delivery), nor what the deliveries change by themselves.
        trail.keep_changes(
            trail.KeptModel(WebhookEndpoint, exclude=("secret", "failing_since", "created_at", "updated_at"))
        )
