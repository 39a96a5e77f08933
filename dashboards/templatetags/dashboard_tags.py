from django import template
from django.utils.formats import number_format

from reports.figures import received_total
from tasks.status import DISPLAY_COLOURS, DisplayStatus

register = template.Library()


@register.filter
def pct(value, digits=1):
    """A fraction 0..1 as a localised percentage; an em dash for None (no denominator)."""
    if value is None or value == "":
        return "—"
    return f"{number_format(value * 100, decimal_pos=int(digits))}%"


@register.filter
def share(numerator, denominator):
    return numerator / denominator if denominator else None


@register.filter
def status_colour(status):
    try:
        return DISPLAY_COLOURS[DisplayStatus(status)]
    except ValueError:
        return "grey"


@register.filter
def status_label(status):
    try:
        return DisplayStatus(status).label
    except ValueError:
        return status


@register.filter
def get(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def attr(obj, name):
    return getattr(obj, name, None)


@register.filter
def received(totals):
    """Dossiers received (online + at the desk + by post) of a totals mapping (reports.figures)."""
    return received_total(totals) if totals else 0
