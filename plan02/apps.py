from django.apps import AppConfig


class Plan02Config(AppConfig):
    """The project package as an app, on top: its templates, navigation and commands."""

    name = "plan02"
    verbose_name = "plan02"
