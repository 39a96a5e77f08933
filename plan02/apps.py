from django.apps import AppConfig


class Plan02Config(AppConfig):
    """The project package as an app: its templates, commands and the audit trail's registrations."""

    name = "plan02"
    verbose_name = "plan02"

    def ready(self):
        from plan02.audit.registry import register_audited_models

        register_audited_models()
