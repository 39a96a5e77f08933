"""The e-mail digest: one message per person per run, in the person's language, as text and HTML, with links
into the portal (ALERTS_PORTAL_URL). Sent through Django's e-mail settings (EMAIL_BACKEND, EMAIL_HOST, …):
the console in the embedded mode."""

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import ngettext

from alerts import specs
from alerts.display import alert_title, alert_url
from alerts.models import Alert, Digest, DigestItem
from alerts.selectors import alert_joins
from alerts.sql import ids_in

# Lines per rule in one message; the rest is one link away ("and 12 more").
SECTION_LIMIT = 20


def alerts_of(digests: Iterable[Digest]) -> dict[int, list[Alert]]:
    """{digest id: its alerts}, for any number of digests in one query."""
    ids = [d.pk for d in digests]
    found: defaultdict[int, list[Alert]] = defaultdict(list)
    items = (
        DigestItem.objects.filter(digest_id__in=ids_in(ids))
        .select_related("alert", *(f"alert__{join}" for join in alert_joins()))
        .order_by("digest_id", "alert__rule", "alert__since", "alert_id")
    )
    for item in items:
        found[item.digest_id].append(item.alert)
    return found


def absolute(path: str) -> str:
    return f"{settings.ALERTS_PORTAL_URL}{path}"


def context(digest: Digest, alerts: list[Alert]) -> dict[str, Any]:
    """What the templates show, computed in the active language."""
    order = {rule: index for index, rule in enumerate(specs.codes())}
    labels = dict(specs.rule_choices())
    by_rule: defaultdict[str, list[Alert]] = defaultdict(list)
    for alert in alerts:
        by_rule[alert.rule].append(alert)
    sections = []
    for rule in sorted(by_rule, key=lambda r: order.get(r, 99)):
        rows = by_rule[rule]
        sections.append(
            {
                "rule": rule,
                "label": labels.get(rule, rule),
                "items": [{"title": alert_title(a), "url": absolute(alert_url(a))} for a in rows[:SECTION_LIMIT]],
                "more": max(0, len(rows) - SECTION_LIMIT),
                "more_url": absolute(reverse("alerts:list") + f"?rule={rule}&open=true"),
            }
        )
    return {
        "digest": digest,
        "name": digest.name,
        "count": len(alerts),
        "sections": sections,
        "day": date_format(timezone.localdate(digest.created_at), "SHORT_DATE_FORMAT"),
        "notifications_url": absolute(reverse("alerts:notifications")),
        "preferences_url": absolute(reverse("alerts:preferences")),
        "portal_url": settings.ALERTS_PORTAL_URL,
        "language": digest.language,
    }


def message(digest: Digest, alerts: list[Alert], *, connection: Any = None) -> EmailMultiAlternatives:
    """The digest as a message (text with an HTML alternative), in the digest's language."""
    with translation.override(digest.language):
        data = context(digest, alerts)
        subject = ngettext(
            "[plan02] %(count)s new alert · %(day)s", "[plan02] %(count)s new alerts · %(day)s", data["count"]
        ) % {"count": data["count"], "day": data["day"]}
        text = render_to_string("alerts/email/digest.txt", data)
        html = render_to_string("alerts/email/digest.html", data)
        headers = {"Content-Language": digest.language, "X-plan02-digest": str(digest.pk)}
        mail = EmailMultiAlternatives(
            subject=subject,
            body=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[digest.email],
            headers=headers,
            connection=connection,
        )
        mail.attach_alternative(html, "text/html")
    return mail
