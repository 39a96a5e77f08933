from django import template
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from core.dates import parse_date
from tasks.status import DISPLAY_COLOURS, DisplayStatus

register = template.Library()


@register.filter
def coverage_line(coverage) -> str:
    """The freshness and coverage line of a dashboards.selectors.Coverage, in the active language (the pages and
    the exports' notes)."""
    if coverage.as_of is None:
        return _("no rollup yet for this day")
    line = _(
        "as of %(time)s · %(received)s of %(expected)s communes reported · %(late)s late · %(approved)s approved"
    ) % {
        "time": date_format(timezone.localtime(coverage.as_of), "SHORT_DATETIME_FORMAT"),
        "received": number_format(coverage.communes_received, force_grouping=True),
        "expected": number_format(coverage.communes_expected, force_grouping=True),
        "late": coverage.late,
        "approved": number_format(coverage.approved, force_grouping=True),
    }
    if getattr(coverage, "data", "all") == "approved":
        line += " · " + _("figures of approved reports only")
    return line


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
def measure(value, percent):
    """A total or rate of the form (dashboards.formview.Measure): a rate as a percentage, a total with grouping;
    an em dash when there is none (a zero denominator, or a day under a version without it)."""
    if percent:
        return pct(value)
    if value is None or value == "":
        return "—"
    return number_format(value, force_grouping=True)


@register.filter
def target_value(target, value):
    """A target's value in its unit: a share as a percentage, a count with grouping; — when not measured."""
    if value is None or value == "":
        return "—"
    if getattr(target, "unit", "") == "share":
        return pct(value)
    return number_format(value, decimal_pos=0 if float(value).is_integer() else 1, force_grouping=True)


@register.filter
def lang(value, language):
    """A frozen {"vi": …, "en": …} text of a meeting's pack in the reader's language."""
    if isinstance(value, dict):
        return value.get((language or "vi")[:2]) or value.get("vi") or ""
    return value


@register.filter
def isodate(value):
    """An ISO date string of a frozen pack as a date (for the date filter)."""
    if not value:
        return None
    return parse_date(value) if isinstance(value, str) else value


@register.filter
def split(value):
    return value.split()


@register.filter
def frozen_value(target, value):
    """A frozen target's value in its unit (see target_value)."""
    if value is None:
        return "—"
    if target.get("unit") == "share":
        return pct(value)
    return number_format(value, decimal_pos=0 if float(value).is_integer() else 1, force_grouping=True)
