"""Server-rendered SVG charts: they print, work without JavaScript, and are cheap to test."""

from dataclasses import dataclass

from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from dashboards import formview

# The drawing's units; static/css/plan02.css gives the text 13 of them and lays the charts out two a row.
WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 14, 18, 32


def _scale(values, y_max):
    top = y_max if y_max is not None else max([v for v in values if v is not None] or [0]) or 1
    return top


def _fmt(value, percent):
    if percent:
        return f"{value * 100:.0f}%"
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    return f"{value:.0f}"


def chart(points, *, title, kind="line", percent=False, y_max=None, target=None, target_label=""):
    """points: [(date, value or None)]. kind: "line" or "bar". Returns safe SVG markup."""
    values = [v for _, v in points]
    top = _scale(values + ([target] if target is not None else []), y_max)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = max(len(points), 1)
    step = plot_w / n

    def x(i):
        return LEFT + step * (i + 0.5)

    def y(v):
        return TOP + plot_h * (1 - min(v, top) / top)

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" class="axis"/>',
    ]
    for fraction in (0, 0.5, 1):
        value = top * fraction
        parts.append(
            f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" class="tick">{_fmt(value, percent)}</text>'
            f'<line x1="{LEFT}" y1="{y(value):.1f}" x2="{WIDTH - RIGHT}" y2="{y(value):.1f}" class="grid"/>'
        )
    if kind == "bar":
        for i, (_day, value) in enumerate(points):
            if value is None:
                continue
            parts.append(
                f'<rect x="{x(i) - step * 0.4:.1f}" y="{y(value):.1f}" width="{step * 0.8:.1f}" '
                f'height="{TOP + plot_h - y(value):.1f}" class="bar"><title>{_fmt(value, percent)}</title></rect>'
            )
    else:
        segment = []
        for i, (_day, value) in enumerate(points):
            if value is None:
                if len(segment) > 1:
                    parts.append(f'<polyline points="{" ".join(segment)}" class="line"/>')
                segment = []
                continue
            segment.append(f"{x(i):.1f},{y(value):.1f}")
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="2" class="dot">'
                f"<title>{_fmt(value, percent)}</title></circle>"
            )
        if len(segment) > 1:
            parts.append(f'<polyline points="{" ".join(segment)}" class="line"/>')
    if target is not None:
        parts.append(
            f'<line x1="{LEFT}" y1="{y(target):.1f}" x2="{WIDTH - RIGHT}" y2="{y(target):.1f}" class="target"/>'
            f'<text x="{WIDTH - RIGHT}" y="{y(target) - 4:.1f}" text-anchor="end" class="target-label">'
            f"{escape(target_label)}</text>"
        )
    if points:
        for i in sorted({0, n // 2, n - 1}):
            parts.append(
                f'<text x="{x(i):.1f}" y="{HEIGHT - 8}" text-anchor="middle" class="tick">'
                f"{date_format(points[i][0], 'd/m')}</text>"
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))


@dataclass(frozen=True)
class Chart:
    """A chart with the title and legend shown above it (the SVG's own <title> is only a tooltip)."""

    svg: str
    title: str
    legend: list[tuple[str, str]]  # (swatch class: bar | line | target, text)


def trend_charts(trend, *, spec, completeness=True, days=60):
    """The dashboards' trend charts over rollup rows (or a commune's reports shaped like them), in the form version
    `spec` of the day shown (dashboards.formview): its first total per day as bars, each of its rates as a line
    (with the line of the target it is held to), and the reporting completeness. Each day is read in the version
    of its own day: a rate that version lacks leaves a gap."""
    by_day = formview.specs_by_day(r["date"] for r in trend)
    derived = [(r["date"], formview.derived(by_day[r["date"]], formview.series_of(r))) for r in trend]
    period = _("each day of the last %(days)s days") % {"days": days}
    specs = []
    for total in formview.totals(spec)[:1]:
        label = formview.label_of(total)
        specs.append(
            (
                _("%(label)s per day") % {"label": capfirst(label)},
                [("bar", _("%(label)s, %(period)s") % {"label": label, "period": period})],
                dict(points=[(d, x.get(total.code)) for d, x in derived], kind="bar"),
            )
        )
    for rate in formview.ratios(spec):
        label = formview.label_of(rate)
        target = formview.rate_target(spec, rate)
        target_label = _("target %(value)s%%") % {"value": f"{target * 100:.0f}"} if target is not None else ""
        specs.append(
            (
                capfirst(label),
                [("line", _("%(label)s, %(period)s") % {"label": label, "period": period})]
                + ([("target", target_label)] if target is not None else []),
                dict(
                    points=[(d, x.get(rate.code)) for d, x in derived],
                    percent=True,
                    y_max=1,
                    target=target,
                    target_label=target_label,
                ),
            )
        )
    if completeness:
        specs.append(
            (
                _("Reporting completeness"),
                [("line", _("share of the expected localities that reported, %(period)s") % {"period": period})],
                dict(
                    points=[
                        (
                            r["date"],
                            r["localities_received"] / r["localities_expected"] if r["localities_expected"] else None,
                        )
                        for r in trend
                    ],
                    percent=True,
                    y_max=1,
                ),
            )
        )
    return [
        Chart(svg=chart(options.pop("points"), title=title, **options), title=title, legend=legend)
        for title, legend, options in specs
    ]
