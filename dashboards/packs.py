"""The weekly pack (DESIGN.md §14): the phase dashboard as of the end of yesterday, as a PDF, mailed to the
steering committee once per ISO week, on the beat schedule (plan02/celery.py, Monday morning).

Exactly once: a WeeklyPackMailing row per ISO week is inserted first (unique constraint
`weekly_pack_once`); whoever inserts it sends, and a second run of the same week — the beat firing twice,
two workers, a retry — finds it and sends nothing. A run that dies after claiming the week leaves it
`sending`: nothing is sent twice; the admin sees it (Weekly pack mailings) and the next week goes out as
usual.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.pdf import render_pdf
from dashboards import selectors, snapshots
from dashboards.models import WeeklyPackMailing
from tasks.roles import Role

logger = logging.getLogger(__name__)


def steering_addresses() -> list[str]:
    """E-mail addresses of the active members of the steering committee."""
    users = (
        get_user_model()
        .objects.filter(is_active=True, membership__role=Role.STEERING, email__gt="")
        .values_list("email", flat=True)
    )
    return sorted({email.strip().lower() for email in users if email.strip()})


def weekly_pack_send(*, today: datetime.date | None = None) -> WeeklyPackMailing | None:
    """Mail this week's pack unless it went already. Returns the mailing row, or None when this ISO week's
    pack was already claimed by another run."""
    today = today or timezone.localdate()
    year, week, _weekday = today.isocalendar()
    as_of = today - datetime.timedelta(days=1)
    try:
        with transaction.atomic():
            mailing = WeeklyPackMailing.objects.create(
                iso_year=year, iso_week=week, as_of=as_of, created_at=timezone.now()
            )
    except IntegrityError:
        logger.info("weekly pack %s-W%02d already sent or being sent", year, week)
        return None
    recipients = steering_addresses()
    try:
        with translation.override(settings.LANGUAGE_CODE):
            snapshots.as_of_ensure(as_of)
            pdf = render_pdf("dashboards/pdf/phases.html", selectors.phases_page(as_of))
            subject = _("Plan 02: the weekly pack, as of %(day)s") % {"day": as_of.strftime("%d/%m/%Y")}
            body = _(
                "The phase deadlines of Plan 02 as of the end of %(day)s are attached (PDF). The portal has the "
                "dashboards, the targets and the meetings' packs."
            ) % {"day": as_of.strftime("%d/%m/%Y")}
        if recipients:
            message = EmailMessage(subject, body, to=[settings.DEFAULT_FROM_EMAIL], bcc=recipients)
            message.attach(f"plan02-pack-{year}-W{week:02d}.pdf", pdf, "application/pdf")
            message.send()
    except Exception as exc:
        logger.exception("weekly pack %s-W%02d not sent", year, week)
        WeeklyPackMailing.objects.filter(pk=mailing.pk).update(
            status=WeeklyPackMailing.Status.FAILED, error=f"{exc.__class__.__name__}: {exc}"[:500]
        )
        mailing.refresh_from_db()
        return mailing
    WeeklyPackMailing.objects.filter(pk=mailing.pk).update(
        status=WeeklyPackMailing.Status.SENT, recipients=len(recipients), sent_at=timezone.now()
    )
    mailing.refresh_from_db()
    return mailing
