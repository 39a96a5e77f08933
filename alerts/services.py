"""Writes of the early-warning app. Each service runs in one transaction and writes its own history.

- `alerts_run(*, as_of, rules, trigger)`: evaluate the rules (alerts.rules over alerts.selectors' set-based
  reads), raise the new alerts, reopen those whose condition is back, close those whose condition ended, tell
  who must be told (in-portal notifications, one e-mail digest per person), and record the run. A fixed
  number of queries whatever the number of communes or assignments.
- `digests_send()`: send the pending digests, at most once each.
- `alerts_close_ended(*, assignment_ids)`: after an assignment changed, close at once its alerts whose condition
  ended (completed, updated, unblocked); raising new ones is the run's job.
- `notification_mark_read`, `notifications_mark_all_read`, `preference_update`, `support_request_close`,
  `contacts_import`.

Concurrency. Two runs at once (two workers, a retry while the first is still running) both evaluate and both
insert: the unique constraint `alert_once_uniq` and ON CONFLICT DO NOTHING let exactly one of them insert each
alert (on PostgreSQL the second insert waits for the first transaction, then skips), and a run tells people
only about the alerts it inserted (`Alert.run`). New alerts are inserted in one sorted statement, so two runs
wait for each other in one order and never deadlock. Notifications, digests and digest items have their own
constraints (alerts.models) for the same race. Sending is claimed row by row (`digests_send`).
"""

import datetime
import logging
import smtplib
import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import get_connection
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import JSONObject
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alerts import digests, selectors
from alerts.contacts import ContactPlan
from alerts.models import (
    Alert,
    AlertRun,
    Contact,
    ContactImport,
    Digest,
    DigestItem,
    Language,
    Notification,
    Preference,
    SupportResolution,
)
from alerts.rules import ASSIGNMENT_RULES, Condition, Rule, Thresholds, assignment_conditions, audiences
from alerts.sql import ids_in, texts_in
from core import events, pagecache
from dashboards.snapshots import end_of_day
from reports.models import DailyReport
from tasks.scoping import scope_for_user

logger = logging.getLogger(__name__)

# Events of the changes feed and the webhooks (DESIGN.md §14), written in the run's (or the closing's)
# transaction by one INSERT … SELECT over the alerts it changed, however many: no row is read into Python.
ALERT_RAISED = events.declare(
    "alert.raised", gettext_lazy("An alert was raised (or reopened) by the early-warning run.")
)
ALERT_CLOSED = events.declare("alert.closed", gettext_lazy("An alert was closed: its condition ended."))


def _alert_events(event_type: events.EventType, alerts: Any, *, now: datetime.datetime, **extra: Any) -> int:
    """The events of these alerts, scoped to their province, commune and agency."""
    return events.emit_select(
        event_type,
        alerts,
        subject="alert",
        subject_id=F("pk"),
        payload=JSONObject(
            rule=F("rule"),
            threshold=F("threshold"),
            subject_kind=F("subject_kind"),
            subject_key=F("subject_key"),
            day=F("day"),
            since=F("since"),
            assignment=F("assignment_id"),
            report=F("report_id"),
            **{name: Value(value) for name, value in extra.items()},
        ),
        province=F("province_id"),
        commune=F("commune_id"),
        agency=F("agency__code"),
        occurred_at=now,
    )


class AlertsRunError(ValueError):
    """The run was asked for something it cannot do (a future day, an unknown rule). Nothing was written."""


@dataclass(frozen=True)
class RunResult:
    run: AlertRun
    raised: int
    reopened: int
    closed: int
    notifications: int
    digests: int


def alerts_run(
    *, as_of: datetime.date | None = None, rules: Collection[str] | None = None, trigger: str = ""
) -> RunResult:
    """Evaluate `rules` (all by default) as of today, or as if today were `as_of` against the state at the end
    of that day, in one transaction. Returns what it did; e-mail is sent afterwards by `digests_send()`."""
    today = timezone.localdate()
    if as_of is not None and as_of > today:
        raise AlertsRunError(
            _("%(day)s is in the future: the rules can only be evaluated up to today.") % {"day": as_of}
        )
    selected = sorted(set(rules) if rules else set(Rule.values))
    unknown = [rule for rule in selected if rule not in Rule.values]
    if unknown:
        raise AlertsRunError(_("Unknown rule: %(rules)s.") % {"rules": ", ".join(unknown)})
    live = as_of is None or as_of == today
    day = today if live else as_of
    assert day is not None
    moment = timezone.now() if live else end_of_day(day)
    thresholds = Thresholds.from_settings()
    with transaction.atomic():
        now = timezone.now()
        run = AlertRun.objects.create(started_at=now, as_of=day, moment=moment, rules=selected, trigger=trigger[:100])
        conditions = selectors.alert_conditions(
            today=day, moment=moment, live=live, rules=selected, thresholds=thresholds
        )
        raised, reopened, closed = _reconcile(run=run, conditions=conditions, rules=selected, now=now)
        notifications, digest_count = _tell(run=run, now=now) if raised else (0, 0)
        if notifications:
            _bells_changed()
        run.finished_at = timezone.now()
        run.raised, run.reopened, run.closed = raised, reopened, closed
        run.notifications, run.digests = notifications, digest_count
        run.save(update_fields=["finished_at", "raised", "reopened", "closed", "notifications", "digests"])
    logger.info(
        "alerts run %s (%s): %d raised, %d reopened, %d closed, %d notifications, %d digests",
        run.pk,
        day,
        raised,
        reopened,
        closed,
        notifications,
        digest_count,
    )
    return RunResult(run, raised, reopened, closed, notifications, digest_count)


def _reconcile(
    *, run: AlertRun, conditions: list[Condition], rules: Collection[str], now: datetime.datetime
) -> tuple[int, int, int]:
    """Make the open alerts of `rules` equal `conditions`. Returns (raised, reopened, closed)."""
    open_alerts = {
        (rule, key, threshold, day): pk
        for pk, rule, key, threshold, day in Alert.objects.open()
        .filter(rule__in=list(rules))
        .values_list("pk", "rule", "subject_key", "threshold", "day")
        .order_by()
    }
    wanted = {condition.identity: condition for condition in conditions}
    new = sorted(condition for identity, condition in wanted.items() if identity not in open_alerts)
    raised = reopened = 0
    if new:
        # Sorted, so that two runs inserting the same rows lock them in the same order (no deadlock). A row
        # that exists already (open in a run committed meanwhile, or closed) is skipped, not raised twice.
        Alert.objects.bulk_create(
            [
                Alert(
                    rule=c.rule,
                    threshold=c.threshold,
                    subject_kind=c.kind,
                    subject_key=c.key,
                    day=c.day,
                    since=c.since,
                    assignment_id=c.assignment_id,
                    commune_id=c.commune_id,
                    report_id=c.report_id,
                    province_id=c.province_id,
                    agency_id=c.agency_id,
                    run=run,
                    raised_at=now,
                )
                for c in new
            ],
            ignore_conflicts=True,
        )
        raised = Alert.objects.filter(run=run).count()
        if raised:
            _alert_events(ALERT_RAISED, Alert.objects.filter(run=run), now=now, reopened=False)
        if raised < len(new):
            # Conditions that hold again (a completed assignment reopened): their alert exists, closed. It opens
            # again without telling anyone twice.
            closed_rows = (
                Alert.objects.filter(
                    rule__in=list(rules), subject_key__in=texts_in({c.key for c in new}), closed_at__isnull=False
                )
                .values_list("pk", "rule", "subject_key", "threshold", "day")
                .order_by()
            )
            back = [pk for pk, *identity in closed_rows if tuple(identity) in wanted]
            if back:
                # The reopened rows are those of `back` left closed by nobody else: locked, then updated.
                back = list(
                    Alert.objects.select_for_update()
                    .filter(pk__in=ids_in(back), closed_at__isnull=False)
                    .values_list("pk", flat=True)
                )
                reopened = Alert.objects.filter(pk__in=ids_in(back)).update(closed_at=None)
                if reopened:
                    _alert_events(ALERT_RAISED, Alert.objects.filter(pk__in=ids_in(back)), now=now, reopened=True)
    ended = [pk for identity, pk in open_alerts.items() if identity not in wanted]
    closed = 0
    if ended:
        closed = _close(Alert.objects.filter(pk__in=ids_in(ended)), now=now)
    return raised, reopened, closed


def _close(alerts: Any, *, now: datetime.datetime) -> int:
    """Close these alerts (those still open) and write their events. The alerts this call closed are those
    with its `closed_at`: a closing that ran meanwhile (row locks make it wait or this one wait) set its own
    time, or found them closed."""
    closed = alerts.filter(closed_at__isnull=True).update(closed_at=now)
    if closed:
        _alert_events(ALERT_CLOSED, alerts.filter(closed_at=now), now=now)
    return closed


@dataclass
class _Mail:
    email: str
    language: str
    name: str
    user_id: int | None = None
    contact_id: int | None = None


def _tell(*, run: AlertRun, now: datetime.datetime) -> tuple[int, int]:
    """Notifications and digests for the alerts this run raised (and only those). Returns their numbers."""
    alerts = list(
        Alert.objects.filter(run=run)
        .values_list("pk", "rule", "threshold", "agency_id", "province_id", "commune_id", "assignment__level")
        .order_by("pk")
    )
    found = selectors.recipients()
    notifications: list[Notification] = []
    mail: dict[str, _Mail] = {}
    items: defaultdict[str, set[int]] = defaultdict(set)
    # Rules an address does not want by e-mail: those switched off by any user with that address.
    muted: defaultdict[str, set[str]] = defaultdict(set)
    for person in found.users.values():
        if person.email:
            muted[person.email] |= person.email_off

    def add_mail(person: selectors.Person, alert_id: int, rule: str) -> None:
        if not person.email or rule in muted[person.email]:
            return
        entry = mail.get(person.email)
        if entry is None:
            entry = mail[person.email] = _Mail(person.email, person.language, person.name)
        if person.user_id is not None:  # a user's own language wins over a contact row with the same address
            entry.user_id, entry.language, entry.name = person.user_id, person.language, person.name
        elif entry.contact_id is None:
            entry.contact_id = person.contact_id
        items[person.email].add(alert_id)

    for alert_id, rule, threshold, agency_id, province_id, commune_id, level in alerts:
        for audience in audiences(rule, threshold):
            units = _units(
                audience.unit, level=level, agency_id=agency_id, province_id=province_id, commune_id=commune_id
            )
            for kind, code in units:
                if audience.who == "users":
                    for user_id in found.unit_users(kind, code):
                        notifications.append(Notification(user_id=user_id, alert_id=alert_id, run=run, created_at=now))
                        add_mail(found.users[user_id], alert_id, rule)
                else:
                    head = found.heads.get((kind, code))
                    if head is not None:
                        add_mail(head, alert_id, rule)
    Notification.objects.bulk_create(notifications, ignore_conflicts=True)
    if mail:
        Digest.objects.bulk_create(
            [
                Digest(
                    run=run,
                    email=m.email,
                    language=m.language if m.language in Language.values else Language.VI,
                    user_id=m.user_id,
                    contact_id=m.contact_id,
                    name=m.name[:200],
                    created_at=now,
                )
                for m in sorted(mail.values(), key=lambda m: m.email)
            ],
            ignore_conflicts=True,
        )
        digest_ids = dict(Digest.objects.filter(run=run).values_list("email", "pk"))
        DigestItem.objects.bulk_create(
            [
                DigestItem(digest_id=digest_ids[email], alert_id=alert_id, email=email)
                for email, alert_ids in sorted(items.items())
                for alert_id in sorted(alert_ids)
            ],
            ignore_conflicts=True,
        )
    return len(notifications), len(mail)


def _units(
    unit: str, *, level: str | None, agency_id: int | None, province_id: str | None, commune_id: str | None
) -> list[tuple[str, Any]]:
    """The (kind, code) units an audience names for one alert."""
    if unit == "unit":  # the assignment's responsible unit
        if level == "central":
            return [("agency", agency_id)]
        if level == "commune":
            return [("commune", commune_id)]
        return [("province", province_id)]
    if unit == "agency":
        return [("agency", agency_id)] if agency_id else []
    if unit == "commune":
        return [("commune", commune_id)]
    if unit == "province":
        return [("province", province_id)]
    if unit == "steering":
        return [("steering", None)]
    raise ValueError(f"unknown audience unit {unit!r}")


# --- e-mail ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    sent: int
    failed: int


def digests_send(*, run_id: int | None = None) -> SendResult:
    """Send the pending digests (of one run, or all), each at most once.

    Race: two senders at once (the run's own and the beat's retry job). Each claims its digests in a short
    transaction — the rows are locked, already-locked ones skipped (PostgreSQL), and the UPDATE only takes
    rows still `pending` (the compare-and-set that also holds on SQLite) — then sends and marks each one
    `sent`. A failed send goes back to `pending` (retried by the next sender) until
    ALERTS_DIGEST_MAX_ATTEMPTS; a digest whose sender died after claiming it stays `sending` and is not resent
    by itself, because it may have gone."""
    token = uuid.uuid4().hex
    now = timezone.now()
    with transaction.atomic():
        pending = Digest.objects.select_for_update(skip_locked=True).filter(status=Digest.Status.PENDING)
        if run_id is not None:
            pending = pending.filter(run_id=run_id)
        ids = list(pending.order_by("pk").values_list("pk", flat=True))
        if not ids:
            return SendResult(0, 0)
        Digest.objects.filter(pk__in=ids_in(ids), status=Digest.Status.PENDING).update(
            status=Digest.Status.SENDING, claim=token, claimed_at=now, attempts=F("attempts") + 1
        )
    claimed = list(Digest.objects.filter(claim=token, status=Digest.Status.SENDING).order_by("pk"))
    if not claimed:
        return SendResult(0, 0)
    alerts_of = digests.alerts_of(claimed)
    sent = failed = 0
    try:
        connection = get_connection()
        connection.open()
    except (smtplib.SMTPException, OSError) as exc:
        for digest in claimed:
            _send_failed(digest, token, exc)
        return SendResult(0, len(claimed))
    try:
        for digest in claimed:
            message = digests.message(digest, alerts_of.get(digest.pk, []), connection=connection)
            try:
                message.send()
            except (smtplib.SMTPException, OSError) as exc:
                _send_failed(digest, token, exc)
                failed += 1
                continue
            Digest.objects.filter(pk=digest.pk, claim=token, status=Digest.Status.SENDING).update(
                status=Digest.Status.SENT, sent_at=timezone.now(), last_error=""
            )
            sent += 1
    finally:
        connection.close()
    return SendResult(sent, failed)


def _send_failed(digest: Digest, token: str, exc: Exception) -> None:
    logger.warning("digest %s to %s not sent (attempt %s): %s", digest.pk, digest.email, digest.attempts + 1, exc)
    gave_up = digest.attempts + 1 >= settings.ALERTS_DIGEST_MAX_ATTEMPTS
    Digest.objects.filter(pk=digest.pk, claim=token, status=Digest.Status.SENDING).update(
        status=Digest.Status.FAILED if gave_up else Digest.Status.PENDING, claim="", last_error=str(exc)[:2000]
    )


def digest_requeue(*, digest_ids: Iterable[int]) -> int:
    """An administrator's decision to send again digests stuck in `sending` or given up (admin action)."""
    return Digest.objects.filter(
        pk__in=list(digest_ids), status__in=[Digest.Status.SENDING, Digest.Status.FAILED]
    ).update(status=Digest.Status.PENDING, claim="", attempts=0)


# --- closing at once --------------------------------------------------------------------------------------------


def alerts_close_ended(*, assignment_ids: Collection[int]) -> int:
    """Close the open alerts of these assignments whose condition no longer holds (the assignment was completed,
    updated or unblocked): they close as the change is made, not at the next run. Returns how many."""
    ids = sorted(set(assignment_ids))
    if not ids:
        return 0
    thresholds = Thresholds.from_settings()
    today = timezone.localdate()
    with transaction.atomic():
        open_alerts = list(
            Alert.objects.open()
            .filter(assignment_id__in=ids_in(ids), rule__in=list(ASSIGNMENT_RULES))
            .values_list("pk", "rule", "subject_key", "threshold", "day")
            .order_by()
        )
        if not open_alerts:
            return 0
        tasks = selectors.task_facts()
        holding = {
            c.identity
            for state in selectors.assignment_states(assignment_ids=ids)
            for c in assignment_conditions(state, tasks[state.task_id], today=today, thresholds=thresholds)
        }
        ended = [pk for pk, *identity in open_alerts if tuple(identity) not in holding]
        if not ended:
            return 0
        return _close(Alert.objects.filter(pk__in=ids_in(ended)), now=timezone.now())


# --- notifications and preferences -----------------------------------------------------------------------------


def _bells_changed() -> None:
    """Whole pages kept for sessions (core.pagecache) carry the bell: after commit, none of them is used again."""
    transaction.on_commit(pagecache.viewers_changed)


def notification_mark_read(*, notification: Notification, user: Any) -> bool:
    """Mark one of the user's notifications read. True when it was unread."""
    if notification.user_id != user.pk:
        raise PermissionDenied(_("This notification is not yours."))
    now = timezone.now()
    changed = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
    if changed:
        notification.read_at = now
        _bells_changed()
    return bool(changed)


def notifications_mark_all_read(*, user: Any) -> int:
    marked = Notification.objects.filter(user_id=user.pk, read_at__isnull=True).update(read_at=timezone.now())
    if marked:
        _bells_changed()
    return marked


def preference_update(*, user: Any, language: str, email_off: Iterable[str]) -> Preference:
    """The user's e-mail language and the rules they want no e-mail for (in-portal notifications stay)."""
    off = sorted(set(email_off))
    errors = {}
    if language not in Language.values:
        errors["language"] = ValidationError(_("Choose Vietnamese or English."), code="invalid_choice")
    unknown = [rule for rule in off if rule not in Rule.values]
    if unknown:
        errors["email_off"] = ValidationError(
            _("Unknown rule: %(rules)s."), code="invalid_choice", params={"rules": ", ".join(unknown)}
        )
    if errors:
        raise ValidationError(errors)
    preference, _created = Preference.objects.update_or_create(
        user=user, defaults={"language": language, "email_off": off}
    )
    return preference


# --- support requests ------------------------------------------------------------------------------------------


class SupportCloseNotAllowed(PermissionDenied):
    """The user may see the request but not close it (403), or may not see it (404: `visible` False)."""

    def __init__(self, *, visible: bool) -> None:
        self.visible = visible
        super().__init__(_("Only the province's officers close its support requests."))


class SupportAlreadyClosed(Exception):
    code = "already_closed"

    def __init__(self, resolution: SupportResolution) -> None:
        self.resolution = resolution
        super().__init__(f"support request {resolution.report_id} is already closed")


RESOLUTION_MAX = 2000


def support_request_close(*, report: DailyReport, user: Any, resolution: str) -> SupportResolution:
    """Close a report's request for support with the resolution the commune's clerk will read, and close its
    alert. Only an officer of the report's province may. Raises SupportCloseNotAllowed (403/404),
    ValidationError naming `resolution` (400) or SupportAlreadyClosed (409)."""
    scope = scope_for_user(user)
    if not DailyReport.objects.visible_to(scope).filter(pk=report.pk, support_needed=True).exists():
        raise SupportCloseNotAllowed(visible=False)
    if not (scope.is_province and report.province_id == scope.province_id):
        raise SupportCloseNotAllowed(visible=True)
    text = (resolution or "").strip()
    if not text:
        raise ValidationError({"resolution": ValidationError(_("Say how the request was resolved."), code="required")})
    if len(text) > RESOLUTION_MAX:
        raise ValidationError(
            {
                "resolution": ValidationError(
                    _("At most %(max)s characters."), code="max_length", params={"max": RESOLUTION_MAX}
                )
            }
        )
    now = timezone.now()
    with transaction.atomic():
        try:
            # Race: two officers closing the same request at once. The report is the primary key: the second
            # insert fails and is told who closed it first.
            with transaction.atomic():
                closed = SupportResolution.objects.create(report=report, resolution=text, closed_by=user, closed_at=now)
        except IntegrityError:
            raise SupportAlreadyClosed(SupportResolution.objects.select_related("closed_by").get(report=report))
        _close(Alert.objects.filter(rule=Rule.SUPPORT_NEEDED, report=report), now=now)
    return closed


# --- contacts ---------------------------------------------------------------------------------------------------


def contacts_import(*, plan: ContactPlan, imported_by: str, filename: str) -> ContactImport:
    """Write a checked contacts plan in one transaction (all rows, or nothing) and its audit row."""
    if not plan.ok:
        raise ValueError("cannot apply a plan with errors")
    with transaction.atomic():
        for row in plan.rows:
            if row.action == "create":
                Contact.objects.create(**row.unit, **row.values)
            elif row.action == "update" and row.contact_id is not None:
                Contact.objects.filter(pk=row.contact_id).update(**row.values, updated_at=timezone.now())
        return ContactImport.objects.create(
            imported_by=imported_by[:150],
            filename=Path(filename).name[:300],
            checksum=plan.checksum,
            created=plan.count("create"),
            updated=plan.count("update"),
            unchanged=plan.count("unchanged"),
        )
