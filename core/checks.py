"""System checks of the foundation (`manage.py check`, run before migrate and runserver)."""

from django.core import checks


@checks.register(checks.Tags.security)
def spreadsheets_refuse_xml_entities(app_configs=None, **kwargs):
    """Uploaded workbooks are parsed by openpyxl, which refuses XML entities only with defusedxml."""
    from core.spreadsheets import entities_refused

    if entities_refused():
        return []
    return [
        checks.Error(
            "openpyxl does not parse with defusedxml: an uploaded XLSX could expand XML entities (an XML bomb).",
            hint="Install the pinned requirements (defusedxml) and leave OPENPYXL_DEFUSEDXML unset.",
            id="core.E001",
        )
    ]
