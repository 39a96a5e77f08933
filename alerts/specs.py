"""One spec per alert rule, and the registry that gathers them (as healthchecks has one class per transport).

A rule is one object holding the three things a run needs from it, side by side:
- `detect(evaluation)`: the alerts that should be open now, as `Condition`s, read set-based (a fixed number of
  queries whatever the number of subjects; inputs several rules need are read once per run through
  `Evaluation.shared`);
- `audiences` (and `escalation`, for the thresholds past a first one at 0): who is told;
- `title(...)`: how one of its alerts reads, in the active language.
Each alert is about a subject (`SubjectKind`: an assignment, a commune, a report, …) that says how it is
described in lists and where it leads.

The registry checks a rule when it is registered — at start-up, not when a run first meets it: a missing part
(abstract methods), an unknown audience, a code that is malformed, too long for `Alert.rule` or already taken,
a subject kind whose code clashes, a title that does not render. Apps register their rules from their
AppConfig.ready(): alerts its own (alerts.rules), the apps above it theirs, so alerts imports none of them.
The registration order is the order of the lists, the filters and the digests' sections.
"""

import abc
import datetime
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from django.utils import translation
from django.utils.choices import CallableChoiceIterator
from django.utils.functional import Promise

# The widths of Alert.rule and Alert.subject_kind (alerts.models uses these).
RULE_MAX_LENGTH = 30
SUBJECT_MAX_LENGTH = 10
CODE = re.compile(r"^[a-z][a-z0-9_]*$")

T = TypeVar("T")


class SpecError(TypeError):
    """A rule or a subject kind is incomplete or clashes with one registered before (raised at start-up)."""


@dataclass(frozen=True, order=True)
class Condition:
    """An alert that should be open. (rule, key, threshold, day) is its identity; the rest describes it."""

    rule: str
    key: str
    threshold: int
    day: datetime.date
    kind: str
    since: datetime.date
    assignment_id: int | None = None
    commune_id: str | None = None
    report_id: int | None = None
    province_id: str | None = None
    # The agency that has to act: the responsible agency of a central assignment, the blocking agency, or
    # the lead agency an overdue assignment is escalated to.
    agency_id: int | None = None
    # A person told besides the units (the inspector of an overdue follow-up item): the audience "person".
    person_id: int | None = None
    # The vendor the work waits on (rule blocked_vendor): the audience "vendor".
    vendor_id: int | None = None

    @property
    def identity(self) -> tuple[str, str, int, datetime.date]:
        return (self.rule, self.key, self.threshold, self.day)


# Who is told: "users" (in-portal notification, and e-mail to those with an address), "head" (the unit's
# accountable head among its contacts: e-mail, with or without a portal account) or "contacts" (every contact of
# the unit, by e-mail: a vendor, which has no portal users).
WHO = frozenset({"users", "head", "contacts"})
# Of which unit: "unit" (the assignment's responsible unit; for another item, the most precise unit the alert
# names: its commune, else its agency, else its province), "agency" (the alert's agency), "commune", "province"
# (the alert's), "steering" (the steering committee), "support" (the central support team, DESIGN.md §12) or
# "person" (the alert's person, e.g. an inspector) or "vendor" (the alert's vendor). alerts.services.runs resolves
# them.
UNITS = frozenset({"unit", "agency", "commune", "province", "steering", "support", "person", "vendor"})


@dataclass(frozen=True)
class Audience:
    who: str
    unit: str

    def __post_init__(self) -> None:
        if self.who not in WHO or self.unit not in UNITS:
            raise SpecError(
                f"audience ({self.who!r}, {self.unit!r}): who is one of {sorted(WHO)}, unit one of {sorted(UNITS)}"
            )


class Evaluation:
    """One evaluation of the rules: as if today were `today`, against the state at `moment` (now, or the end of
    a past day, replayed from history when not `live`). Inputs that several rules need are read once."""

    def __init__(self, *, today: datetime.date, moment: datetime.datetime, live: bool) -> None:
        self.today = today
        self.moment = moment
        self.live = live
        self._shared: dict[str, Any] = {}

    @property
    def before(self) -> datetime.datetime | None:
        """The moment history is replayed up to; None for the current rows."""
        return None if self.live else self.moment

    def shared(self, name: str, read: Callable[[], T]) -> T:
        """`read()`, once per evaluation for each `name` (use a name prefixed with your app's)."""
        if name not in self._shared:
            self._shared[name] = read()
        value: T = self._shared[name]
        return value


class SubjectKind(abc.ABC):
    """What alerts are about. `describe` and `url` take an alerts.models.Alert (not imported: the models import
    this module); `joins` are its relations they read, which the lists select, so no query is made per row."""

    code: ClassVar[str]
    label: ClassVar[str | Promise]
    joins: ClassVar[tuple[str, ...]] = ()

    @abc.abstractmethod
    def describe(self, alert: Any) -> dict[str, Any]:
        """{"kind", "id", "code", "label"} of the alert's subject."""

    @abc.abstractmethod
    def url(self, alert: Any) -> str:
        """The portal page that shows the subject."""


class AlertRule(abc.ABC):
    """One rule. `escalation`, when set, is told instead of `audiences` at a positive threshold (the rule's
    first step is raised at threshold 0)."""

    code: ClassVar[str]
    label: ClassVar[str | Promise]
    subject: ClassVar[SubjectKind]
    audiences: ClassVar[tuple[Audience, ...]]
    escalation: ClassVar[tuple[Audience, ...] | None] = None

    @abc.abstractmethod
    def detect(self, evaluation: Evaluation) -> Iterable[Condition]:
        """The alerts of this rule that should be open in `evaluation` (and only of this rule)."""

    @abc.abstractmethod
    def title(self, *, threshold: int, subject: str, day: datetime.date, since: datetime.date) -> str:
        """One line in the active language (notifications, digests, lists)."""

    def audiences_for(self, threshold: int) -> tuple[Audience, ...]:
        if threshold and self.escalation is not None:
            return self.escalation
        return self.audiences


# --- the registry -------------------------------------------------------------------------------------------------

_rules: dict[str, AlertRule] = {}
_subjects: dict[str, SubjectKind] = {}
# Thresholds a title is rendered with when its rule is registered (singular, plural and the 0 of "today").
_TITLE_SAMPLES = (0, 1, 2)


def _check(spec: Any) -> None:
    if not isinstance(spec, AlertRule):
        raise SpecError(f"{spec!r} is not an alerts.specs.AlertRule")
    name = type(spec).__name__
    code = getattr(spec, "code", None)
    if not isinstance(code, str) or not CODE.match(code) or len(code) > RULE_MAX_LENGTH:
        raise SpecError(f"{name}.code {code!r}: lower-case letters, digits and _, at most {RULE_MAX_LENGTH}")
    if code in _rules and _rules[code] is not spec:
        raise SpecError(f"rule {code!r} is registered already ({type(_rules[code]).__name__})")
    if not getattr(spec, "label", None):
        raise SpecError(f"{name}.label is missing")
    subject = getattr(spec, "subject", None)
    if not isinstance(subject, SubjectKind):
        raise SpecError(f"{name}.subject is not an alerts.specs.SubjectKind")
    kind = getattr(subject, "code", None)
    if not isinstance(kind, str) or not CODE.match(kind) or len(kind) > SUBJECT_MAX_LENGTH:
        raise SpecError(f"{type(subject).__name__}.code {kind!r}: at most {SUBJECT_MAX_LENGTH} characters")
    if kind in _subjects and _subjects[kind] is not subject:
        raise SpecError(f"subject kind {kind!r} is registered already ({type(_subjects[kind]).__name__})")
    if not getattr(subject, "label", None):
        raise SpecError(f"{type(subject).__name__}.label is missing")
    for attribute in ("audiences", "escalation"):
        told = getattr(spec, attribute, None)
        if told is None and attribute == "escalation":
            continue
        if not isinstance(told, tuple) or not told or not all(isinstance(a, Audience) for a in told):
            raise SpecError(f"{name}.{attribute} must be a non-empty tuple of Audience")
    day = datetime.date(2025, 7, 1)
    with translation.override(None):
        for threshold in _TITLE_SAMPLES:
            try:
                line = spec.title(threshold=threshold, subject="subject", day=day, since=day)
            except (KeyError, ValueError, TypeError) as exc:
                raise SpecError(f"{name}.title(threshold={threshold}) does not render: {exc!r}") from exc
            if not isinstance(line, str) or "subject" not in line:
                raise SpecError(f"{name}.title(threshold={threshold}) does not name its subject: {line!r}")


def register(*specs: AlertRule) -> None:
    """Register rules (from an AppConfig.ready()). Raises SpecError for an incomplete or clashing one; registering
    the same object twice is harmless (ready() may run again in tests)."""
    for spec in specs:
        _check(spec)
    for spec in specs:
        _rules[str(spec.code)] = spec
        _subjects.setdefault(str(spec.subject.code), spec.subject)


def unregister(code: str) -> None:
    """Forget a rule (tests that register one of their own). Its subject kind stays known."""
    _rules.pop(code, None)


def rules() -> list[AlertRule]:
    return list(_rules.values())


def rule(code: str) -> AlertRule:
    """The rule with this code; KeyError for one no app registered."""
    return _rules[code]


def codes() -> list[str]:
    return list(_rules)


def rule_choices() -> list[tuple[str, str | Promise]]:
    """(code, label) of every registered rule: Alert.rule's choices and the filters' and forms'."""
    return [(code, spec.label) for code, spec in _rules.items()]


def subject_kind(code: str) -> SubjectKind | None:
    return _subjects.get(code)


def subject_choices() -> list[tuple[str, str | Promise]]:
    return [(code, kind.label) for code, kind in _subjects.items()]


# The same, as iterables read each time they are iterated: for filters, form fields and serializer fields, which
# may be made before every app registered its rules (and from which the API schema reads its enums).
RULE_CHOICES = CallableChoiceIterator(rule_choices)
SUBJECT_CHOICES = CallableChoiceIterator(subject_choices)


def subject_joins() -> list[str]:
    """The Alert relations every registered subject kind reads, in registration order."""
    return list(dict.fromkeys(join for kind in _subjects.values() for join in kind.joins))


def detect(evaluation: Evaluation, codes: Iterable[str]) -> Iterator[Condition]:
    """The conditions of the rules named by `codes`, in one evaluation."""
    for code in codes:
        yield from _rules[code].detect(evaluation)
