"""Small helpers of the task pages: status badges and "days left or past"."""

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tasks.models import DISPLAY_COLOURS, DisplayStatus

register = template.Library()


@register.simple_tag
def display_badge(value):
    """A coloured badge for a display status (green–amber–red); grey when there is none."""
    if not value:
        return format_html('<span class="status status-grey">{}</span>', "—")
    status = DisplayStatus(value)
    return format_html(
        '<span class="status status-{}" data-status="{}">{}</span>', DISPLAY_COLOURS[status], status.value, status.label
    )


@register.simple_tag
def deadline_hint(deadline, today, completed=False):
    """'12 days left', 'due today' or '30 days past'; nothing once completed."""
    if completed or deadline is None:
        return ""
    days = (deadline - today).days
    if days > 0:
        return ngettext("%(days)s day left", "%(days)s days left", days) % {"days": days}
    if days == 0:
        return _("due today")
    return ngettext("%(days)s day past", "%(days)s days past", -days) % {"days": -days}


@register.filter
def percent(value):
    """0.4567 -> '45.7'"""
    return f"{(value or 0) * 100:.1f}"
