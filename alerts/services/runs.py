"""A run of the early-warning rules, and closing at once what a change ended.

- `alerts_run(*, as_of, rules, trigger)`: evaluate the rules (the registered specs, alerts.specs), raise the new
  alerts, reopen those whose condition is back, close those whose condition ended, tell who must be told
  (in-portal notifications, one e-mail digest per person, sent afterwards by alerts.services.delivery), and
  record the run. A fixed number of queries whatever the number of communes or assignments.
- `alerts_close_ended(*, assignment_ids)`: after an assignment changed, close at once its alerts whose condition
  ended (completed, updated, unblocked); raising new ones is the run's job.

Concurrency. Two runs at once (two workers, a retry while the first is still running) both evaluate and both
insert: the unique constraint `alert_once_uniq` and ON CONFLICT DO NOTHING let exactly one of them insert each
alert (on PostgreSQL the second insert waits for the first transaction, then skips), and a run tells people
only about the alerts it inserted (`Alert.run`). New alerts are inserted in one sorted statement, so two runs
wait for each other in one order and never deadlock. Notifications, digests and digest items have their own
constraints (alerts.models) for the same race.
"""

import datetime
import logging
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import JSONObject
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alerts import selectors, specs
from alerts.facts import Thresholds
from alerts.models import Alert, AlertRun, Digest, DigestItem, Language, Notification
from alerts.rules import AssignmentRule, assignment_conditions
from alerts.services.notifications import bells_changed
from alerts.sql import ids_in, texts_in
from alerts.work_items import ItemBlocked, ItemSubject, blocked_key, item_key
from core import events
from core.db import insert_many
from dashboards.snapshots import end_of_day

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
    known = specs.codes()
    selected = sorted(set(rules) if rules else set(known))
    unknown = [rule for rule in selected if rule not in known]
    if unknown:
        raise AlertsRunError(_("Unknown rule: %(rules)s.") % {"rules": ", ".join(unknown)})
    live = as_of is None or as_of == today
    day = today if live else as_of
    assert day is not None
    moment = timezone.now() if live else end_of_day(day)
    with transaction.atomic():
        now = timezone.now()
        run = AlertRun.objects.create(started_at=now, as_of=day, moment=moment, rules=selected, trigger=trigger[:100])
        evaluation = specs.Evaluation(today=day, moment=moment, live=live)
        conditions = list(specs.detect(evaluation, selected))
        raised, reopened, closed = _reconcile(run=run, conditions=conditions, rules=selected, now=now)
        notifications, digest_count = _tell(run=run, now=now) if raised else (0, 0)
        if notifications:
            bells_changed()
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
    *, run: AlertRun, conditions: list[specs.Condition], rules: Collection[str], now: datetime.datetime
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
        insert_many(
            Alert,
            [
                dict(
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
                    person_id=c.person_id,
                    vendor_id=c.vendor_id,
                    run_id=run.pk,
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
        closed = close_alerts(Alert.objects.filter(pk__in=ids_in(ended)), now=now)
    return raised, reopened, closed


def close_alerts(alerts: Any, *, now: datetime.datetime) -> int:
    """Close these alerts (those still open) and write their events (the run, an assignment's change, a
    support request closed: alerts.services.support). The alerts this call closed are those
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
        .values_list(
            "pk",
            "rule",
            "threshold",
            "agency_id",
            "province_id",
            "commune_id",
            "assignment__level",
            "person_id",
            "vendor_id",
        )
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

    for alert_id, rule, threshold, agency_id, province_id, commune_id, level, person_id, vendor_id in alerts:
        for audience in specs.rule(rule).audiences_for(threshold):
            units = _units(
                audience.unit,
                level=level,
                agency_id=agency_id,
                province_id=province_id,
                commune_id=commune_id,
                person_id=person_id,
                vendor_id=vendor_id,
            )
            for kind, code in units:
                if audience.who == "contacts":
                    for contact in found.contacts.get((kind, code), []):
                        add_mail(contact, alert_id, rule)
                elif audience.who == "users":
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
    unit: str,
    *,
    level: str | None,
    agency_id: int | None,
    province_id: str | None,
    commune_id: str | None,
    person_id: int | None = None,
    vendor_id: int | None = None,
) -> list[tuple[str, Any]]:
    """The (kind, code) units an audience names for one alert."""
    if unit == "unit":  # the assignment's responsible unit
        if level == "central":
            return [("agency", agency_id)]
        if level == "commune":
            return [("commune", commune_id)]
        if level is None:  # another item (a sub-task, a follow-up item): the most precise unit it names
            if commune_id:
                return [("commune", commune_id)]
            if agency_id:
                return [("agency", agency_id)]
        return [("province", province_id)]
    if unit == "person":
        return [("person", person_id)] if person_id else []
    if unit == "vendor":
        return [("vendor", vendor_id)] if vendor_id else []
    if unit == "agency":
        return [("agency", agency_id)] if agency_id else []
    if unit == "commune":
        return [("commune", commune_id)]
    if unit == "province":
        return [("province", province_id)]
    if unit == "steering":
        return [("steering", None)]
    if unit == "support":
        return [("support", None)]
    raise ValueError(f"unknown audience unit {unit!r}")


# --- closing at once ----------------------------------------------------------------------------------------------


def alerts_close_ended(*, assignment_ids: Collection[int]) -> int:
    """Close the open alerts of these assignments whose condition no longer holds (the assignment was completed,
    updated or unblocked): they close as the change is made, not at the next run. Returns how many."""
    ids = sorted(set(assignment_ids))
    if not ids:
        return 0
    thresholds = Thresholds.from_settings()
    today = timezone.localdate()
    assignment_rules = [spec.code for spec in specs.rules() if isinstance(spec, AssignmentRule)]
    with transaction.atomic():
        open_alerts = list(
            Alert.objects.open()
            .filter(assignment_id__in=ids_in(ids), rule__in=assignment_rules)
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
        return close_alerts(Alert.objects.filter(pk__in=ids_in(ended)), now=timezone.now())


def alerts_close_completed(*, kind: str, ids: Collection[int]) -> int:
    """Close at once the open alerts of the items of `kind` (alerts.work_items: sub-tasks, follow-up items) that
    were completed, and their blocked alerts that name a party they no longer wait on; the next run would close
    them at the latest. Returns how many."""
    subject = specs.subject_kind(kind)
    if not isinstance(subject, ItemSubject):
        return 0
    ids = sorted(set(ids))
    done = subject.completed(ids)
    keys = [item_key(kind, pk) for pk in done]
    closed = 0
    with transaction.atomic():
        if keys:
            closed += close_alerts(
                Alert.objects.open().filter(subject_kind=kind, subject_key__in=texts_in(keys)), now=timezone.now()
            )
        blocked_rules = [
            spec.code for spec in specs.rules() if isinstance(spec, ItemBlocked) and spec.subject is subject
        ]
        # The open blocked alerts of the kind are few (one per blocked item): read them, keep those of `ids`.
        blocked = [
            (pk, key, item_id_of(key))
            for pk, key in Alert.objects.open()
            .filter(subject_kind=kind, rule__in=blocked_rules)
            .values_list("pk", "subject_key")
            .order_by()
        ]
        wanted = set(ids)
        mine = [(pk, key, item) for pk, key, item in blocked if item in wanted]
        if mine:
            parties = subject.parties(sorted({item for _pk, _key, item in mine}))
            ended = [
                pk
                for pk, key, item in mine
                if (party := parties.get(item)) is None or key != blocked_key(kind, item, party)
            ]
            if ended:
                closed += close_alerts(Alert.objects.filter(pk__in=ids_in(ended)), now=timezone.now())
    return closed


def item_id_of(key: str) -> int | None:
    pk = key.partition(":")[2].partition(":")[0]
    return int(pk) if pk.isascii() and pk.isdigit() else None
