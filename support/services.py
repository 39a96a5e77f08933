"""Writes of the operations desk (DESIGN.md §12): one function per step, each in one transaction.

Every step locks the incident row (`select_for_update`), so two people acting at once are serialised and the
second one sees the first one's state: it is refused with `invalid_transition` when the step no longer
applies, or `stale_version` when it sent the version it read and someone saved in between — no update is
lost. Each step writes its history row (support.models.IncidentEvent, which the audit trail reads) and, after
commit, asks the alerts' machinery to tell people (support.jobs.incidents_notify: the bell and the digest,
once per alert by the alerts' unique constraints).

States: open → acknowledged → in progress → resolved (with the resolution) → closed (the reporter confirms,
or `INCIDENT_AUTO_CLOSE_DAYS` after); any active state may be resolved at once; resolved or closed incidents
are reopened with a reason. Who may act:
- a commune clerk opens its commune's incidents, comments on them, closes (confirms) and reopens them;
- a province officer opens incidents of its province and its communes, and is the desk of its province:
  acknowledges, assigns, escalates, resolves, closes, reopens and comments;
- a member of the team an incident is assigned to acts as the desk on it;
- the central support team acts on every incident (but opens none: it is told of them).
"""

import datetime
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from alerts.services.support import support_request_answer
from core.text import echo
from localities.models import Commune
from reports.figures import OUTAGE_SYSTEM_CODES
from reports.models import DailyReport
from support.models import (
    ACTIVE_STATES,
    Action,
    Incident,
    IncidentAttachment,
    IncidentCategory,
    IncidentEvent,
    NotifyRequest,
    Severity,
    State,
    Team,
    VendorNotice,
)
from support.signals import incidents_changed
from tasks.roles import Scope
from tasks.scoping import scope_for_user
from tasks.services import validate_evidence_file

TEXT_MAX = 4000
DESK_ACTIONS = frozenset({"acknowledge", "assign", "escalate", "resolve"})
# From which states each step may be taken, and to which state it leads (None: the state stays).
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "acknowledge": (frozenset({State.OPEN}), State.ACKNOWLEDGED),
    "assign": (frozenset(ACTIVE_STATES), State.IN_PROGRESS),
    "escalate": (frozenset(ACTIVE_STATES), None),
    "resolve": (frozenset(ACTIVE_STATES), State.RESOLVED),
    "close": (frozenset({State.RESOLVED}), State.CLOSED),
    "reopen": (frozenset({State.RESOLVED, State.CLOSED}), State.OPEN),
    "comment": (frozenset(State.values), None),
    "attach": (frozenset(State.values), None),
}


class IncidentNotAllowed(PermissionDenied):
    """The caller may see the incident but not take this step (403), or may not see it (404: `visible`)."""

    def __init__(self, *, visible: bool, message: str | None = None) -> None:
        self.visible = visible
        super().__init__(message or _("You may not do this on this incident."))


class InvalidTransition(Exception):
    """The step does not apply to the incident's state (409 `invalid_transition`). Nothing was written."""

    code = "invalid_transition"

    def __init__(self, *, incident: Incident, action: str) -> None:
        self.incident = incident
        self.action = action
        super().__init__(
            _("An incident that is “%(state)s” cannot be %(action)s.")
            % {"state": State(incident.state).label, "action": ACTION_WORDS.get(action, action)}
        )


class StaleVersion(Exception):
    """The caller sent the version it read and someone saved since (409 `stale_version`)."""

    code = "stale_version"

    def __init__(self, *, incident: Incident, version: int) -> None:
        self.incident = incident
        self.version = version
        super().__init__(
            _("This incident was changed by someone else since version %(yours)s (it is now at version %(current)s).")
            % {"yours": version, "current": incident.version}
        )


ACTION_WORDS = {
    "acknowledge": Action.ACKNOWLEDGED.label,
    "assign": Action.ASSIGNED.label,
    "escalate": Action.ESCALATED.label,
    "resolve": Action.RESOLVED.label,
    "close": Action.CLOSED.label,
    "reopen": Action.REOPENED.label,
}


# --- who may do what ------------------------------------------------------------------------------------------


def may_act_as_desk(
    scope: Scope, incident: Incident, *, user_id: int | None = None, teams: Collection[int] | None = None
) -> bool:
    """The province's desk, a member of the assigned team, or the central support team. `teams`: the ids of
    the user's teams when the caller read them already (a list: one query, not one per row)."""
    if scope.is_api_client:
        return False
    if scope.is_support:
        return True
    if scope.is_province and scope.province_id == incident.province_id:
        return True
    if incident.team_id is not None and teams is not None:
        return incident.team_id in teams
    if incident.team_id is not None and user_id is not None:
        return Team.objects.filter(pk=incident.team_id, members=user_id).exists()
    return False


def may_act_as_reporter(scope: Scope, incident: Incident) -> bool:
    """The commune clerk of the incident's commune (or, for a province's own incident, its officers)."""
    if scope.is_api_client:
        return False
    if scope.is_commune:
        return incident.commune_id is not None and incident.commune_id == scope.commune_id
    return False


def allowed_actions(
    scope: Scope, incident: Incident, *, user_id: int | None = None, teams: Collection[int] | None = None
) -> list[str]:
    """The steps the scope may take on the incident now (the page's buttons, the API's `actions`)."""
    desk = may_act_as_desk(scope, incident, user_id=user_id, teams=teams)
    reporter = may_act_as_reporter(scope, incident)
    found = []
    for action, (states, _to) in TRANSITIONS.items():
        if incident.state not in states:
            continue
        if action in DESK_ACTIONS:
            ok = desk and not (action == "escalate" and incident.escalated)
        else:
            ok = desk or reporter
        if ok:
            found.append(action)
    return found


def _check(*, scope: Scope, incident: Incident, action: str, user_id: int | None) -> None:
    if not Incident.objects.visible_to(scope).filter(pk=incident.pk).exists():
        raise IncidentNotAllowed(visible=False)
    desk = may_act_as_desk(scope, incident, user_id=user_id)
    if action in DESK_ACTIONS:
        if not desk:
            raise IncidentNotAllowed(
                visible=True, message=_("Only the province's operations desk and the central support team do this.")
            )
    elif not (desk or may_act_as_reporter(scope, incident)):
        raise IncidentNotAllowed(visible=True)


# --- times ----------------------------------------------------------------------------------------------------


def deadlines(*, severity: str, start: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    """When an incident of this severity reported at `start` must be acknowledged and resolved (office time)."""
    acknowledge, resolve = settings.INCIDENT_TIMES[severity]
    hours = settings.OFFICE_HOURS
    return hours.add(start, acknowledge), hours.add(start, resolve)


# --- validation -----------------------------------------------------------------------------------------------


def _text(errors: dict, field: str, value: Any, *, required: bool, message: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if value is not None and not isinstance(value, str):
        errors[field] = [ValidationError(_("Must be text."), code="wrong_type")]
    elif required and not text:
        errors[field] = [ValidationError(message, code="required")]
    elif len(text) > TEXT_MAX:
        errors[field] = [ValidationError(_("At most %(max)s characters."), code="max_length", params={"max": TEXT_MAX})]
    return text


def _files(errors: dict, files: Iterable[UploadedFile], *, already: int = 0) -> list[UploadedFile]:
    files = list(files or ())
    problems: list[ValidationError] = []
    if already + len(files) > settings.INCIDENT_MAX_ATTACHMENTS:
        problems.append(
            ValidationError(
                _("At most %(max)s files per incident."),
                code="too_many",
                params={"max": settings.INCIDENT_MAX_ATTACHMENTS},
            )
        )
    for upload in files:
        problems.extend(validate_evidence_file(upload))
    if problems:
        errors["files"] = problems
    return files


def _locality(scope: Scope, locality: Any, errors: dict) -> tuple[str | None, str | None]:
    """(province code, commune code or None) of the incident, from the scope and the `locality` asked for."""
    if scope.is_commune:
        if locality not in (None, "", scope.commune_id):
            errors["locality"] = [ValidationError(_("A commune reports its own incidents only."), code="not_yours")]
        return scope.commune_province_id, scope.commune_id
    # A province officer: its province itself, or one of its communes.
    code = scope.province_id if locality in (None, "") else locality
    if not isinstance(code, str):
        errors["locality"] = [ValidationError(_("Must be a province or commune code."), code="wrong_type")]
        return None, None
    if code == scope.province_id:
        return code, None
    commune = Commune.objects.filter(pk=code).values_list("province_id", flat=True).first()
    if commune is None:
        errors["locality"] = [
            ValidationError(_("Unknown locality “%(value)s”."), code="unknown_locality", params={"value": echo(code)})
        ]
        return None, None
    if commune != scope.province_id:
        errors["locality"] = [ValidationError(_("This commune is not in your province."), code="not_yours")]
        return None, None
    return scope.province_id, code


def _after_commit() -> None:
    """Tell people after commit, through the alerts' machinery (support.receivers queues the job)."""
    transaction.on_commit(lambda: incidents_changed.send_robust(sender=Incident))


def _close_as_answered(incident: "Incident", answer: Any) -> None:
    """Close an incident with the resolution its report's support request got through §8 (`answer`: its
    resolution, who closed it and when), as one step of its history."""
    before = incident.state
    incident.state, incident.resolution = State.CLOSED, answer.resolution
    incident.resolved_at = incident.closed_at = incident.updated_at = answer.closed_at
    incident.version += 1
    incident.save()
    _event(
        incident,
        actor=answer.closed_by,
        action=Action.CLOSED,
        before=before,
        now=answer.closed_at,
        text=answer.resolution,
    )


def _event(
    incident: Incident,
    *,
    actor: Any,
    action: str,
    before: str,
    now: datetime.datetime,
    text: str = "",
    team: Team | None = None,
    assignee: Any = None,
) -> IncidentEvent:
    return IncidentEvent.objects.create(
        incident=incident,
        actor=actor,
        at=now,
        action=action,
        from_state=before,
        to_state=incident.state,
        text=text,
        team=team,
        assignee=assignee,
        version=incident.version,
    )


# --- opening --------------------------------------------------------------------------------------------------


def incident_open(
    *,
    actor: Any,
    category: Any,
    severity: Any,
    description: Any,
    system: Any = "",
    locality: Any = None,
    files: Iterable[UploadedFile] = (),
) -> Incident:
    """A commune clerk or a province officer reports an incident. Raises IncidentNotAllowed (403) for any
    other caller, ValidationError naming each bad field (400)."""
    scope = scope_for_user(actor)
    if scope.is_api_client or not (scope.is_commune or scope.is_province):
        raise IncidentNotAllowed(visible=True, message=_("Only communes and provinces report incidents."))
    errors: dict[str, list[ValidationError]] = {}
    found = IncidentCategory.objects.filter(pk=category, is_active=True).first() if isinstance(category, str) else None
    if found is None:
        errors["category"] = [
            ValidationError(
                _("Unknown category “%(value)s”. Known: %(choices)s."),
                code="invalid_choice",
                params={
                    "value": echo(str(category)),
                    "choices": ", ".join(IncidentCategory.objects.filter(is_active=True).values_list("pk", flat=True)),
                },
            )
        ]
    if severity not in Severity.values:
        errors["severity"] = [
            ValidationError(
                _("Unknown severity “%(value)s”. Known: %(choices)s."),
                code="invalid_choice",
                params={"value": echo(str(severity)), "choices": ", ".join(Severity.values)},
            )
        ]
    system = "" if system is None else system
    if system != "" and system not in OUTAGE_SYSTEM_CODES:
        errors["system"] = [
            ValidationError(
                _("Unknown system “%(value)s”. Known: %(choices)s, or empty."),
                code="invalid_choice",
                params={"value": echo(str(system)), "choices": ", ".join(OUTAGE_SYSTEM_CODES)},
            )
        ]
    text = _text(errors, "description", description, required=True, message=_("Describe the incident."))
    province_id, commune_id = _locality(scope, locality, errors)
    uploads = _files(errors, files)
    if errors or found is None or province_id is None:
        raise ValidationError(errors)
    now = timezone.now()
    acknowledge_by, resolve_by = deadlines(severity=severity, start=now)
    with transaction.atomic():
        incident = Incident.objects.create(
            category=found,
            system=system,
            severity=severity,
            description=text,
            province_id=province_id,
            commune_id=commune_id,
            reported_by=actor,
            created_at=now,
            updated_at=now,
            acknowledge_by=acknowledge_by,
            resolve_by=resolve_by,
        )
        _event(incident, actor=actor, action=Action.OPENED, before="", now=now, text=text)
        for upload in uploads:
            _attach(incident, upload, actor=actor, now=now)
        _after_commit()
    return incident


def _attach(incident: Incident, upload: UploadedFile, *, actor: Any, now: datetime.datetime) -> IncidentAttachment:
    name = upload.name or "file"
    attachment = IncidentAttachment(
        incident=incident, name=name[:150], size=upload.size or 0, uploaded_by=actor, uploaded_at=now
    )
    attachment.file.save(name, upload, save=False)
    attachment.save()
    return attachment


def incidents_open_for_reports(*, report_ids: Iterable[int] | None = None) -> int:
    """An incident for each daily report that asked for support (`support_needed`) and has none yet: the
    daily report's door into the desk (support.receivers, and the check job's sweep). A report already
    closed as a support request (alerts.SupportResolution) becomes a closed incident with its resolution.
    Exactly once per report: the incident's unique `report`, not a check. Returns how many it opened."""
    reports = DailyReport.objects.filter(support_needed=True, incident__isnull=True)
    if report_ids is not None:
        reports = reports.filter(pk__in=list(report_ids))
    opened = 0
    categories = set(IncidentCategory.objects.values_list("pk", flat=True))
    for report in reports.select_related("support_resolution").order_by("pk").iterator():
        opened += incident_from_report(report=report, categories=categories)
    if opened:
        _after_commit()
    return opened


def incident_from_report(*, report: DailyReport, categories: set[str]) -> int:
    """The incident of one report (1), or 0 when another writer made it first."""
    systems = list(report.outage_systems or [])
    system = systems[0] if systems and systems[0] in OUTAGE_SYSTEM_CODES else ""
    category = system if system in categories else "other"
    start = report.received_at
    acknowledge_by, resolve_by = deadlines(severity=Severity.DEGRADED, start=start)
    description = (report.difficulties or report.proposals or "").strip() or _(
        "Support requested in the daily report of %(day)s."
    ) % {"day": report.date.isoformat()}
    closure = getattr(report, "support_resolution", None)
    try:
        with transaction.atomic():
            incident = Incident.objects.create(
                category_id=category,
                system=system,
                severity=Severity.DEGRADED,
                description=description[:TEXT_MAX],
                province_id=report.province_id,
                commune_id=report.commune_id,
                report=report,
                reported_by_id=report.submitted_by_id,
                created_at=start,
                updated_at=start,
                acknowledge_by=acknowledge_by,
                resolve_by=resolve_by,
            )
            _event(incident, actor=incident.reported_by, action=Action.OPENED, before="", now=start, text=description)
            if closure is not None:
                _close_as_answered(incident, closure)
    except IntegrityError:
        return 0  # the listener and the sweep at once: the report's incident exists
    return 1


# --- the steps ------------------------------------------------------------------------------------------------


@dataclass
class _Step:
    incident: Incident
    before: str
    now: datetime.datetime


def _begin(*, incident: Incident, actor: Any, action: str, version: int | None) -> _Step:
    """Lock the row, check who and what, inside the caller's transaction."""
    scope = scope_for_user(actor)
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    _check(scope=scope, incident=locked, action=action, user_id=actor.pk)
    if version is not None and version != locked.version:
        raise StaleVersion(incident=locked, version=version)
    states, _to = TRANSITIONS[action]
    if locked.state not in states or (action == "escalate" and locked.escalated):
        raise InvalidTransition(incident=locked, action=action)
    return _Step(locked, locked.state, timezone.now())


def _save(step: _Step, **changes: Any) -> Incident:
    incident = step.incident
    for name, value in changes.items():
        setattr(incident, name, value)
    incident.version += 1
    incident.updated_at = step.now
    incident.save()
    return incident


def incident_acknowledge(*, incident: Incident, actor: Any, version: int | None = None) -> Incident:
    with transaction.atomic():
        step = _begin(incident=incident, actor=actor, action="acknowledge", version=version)
        done = _save(step, state=State.ACKNOWLEDGED, acknowledged_at=step.now)
        _event(done, actor=actor, action=Action.ACKNOWLEDGED, before=step.before, now=step.now)
        _after_commit()
    return done


def incident_assign(
    *, incident: Incident, actor: Any, team: Any = None, user: Any = None, version: int | None = None
) -> Incident:
    """To a team (a visible, active one) or a person (a member of a team the incident may go to, an officer of
    its province, or the support team). Assigning acknowledges an open incident and starts the work."""
    errors: dict[str, list[ValidationError]] = {}
    if (team in (None, "")) == (user in (None, "")):
        raise ValidationError(
            {"team": [ValidationError(_("Give a team or a user (one of the two)."), code="required")]}
        )
    with transaction.atomic():
        step = _begin(incident=incident, actor=actor, action="assign", version=version)
        found_team = found_user = None
        eligible = Team.objects.filter(is_active=True)
        if team not in (None, ""):
            found_team = (
                eligible.filter(pk=team if isinstance(team, int) and not isinstance(team, bool) else None)
                .filter(_team_q(step.incident))
                .first()
            )
            if found_team is None:
                errors["team"] = [
                    ValidationError(
                        _("Unknown team, or not one of this incident's province or the centre."), code="invalid_choice"
                    )
                ]
        else:
            found_user = _eligible_user(step.incident, user)
            if found_user is None:
                errors["user"] = [
                    ValidationError(
                        _("Unknown user, or not one of the province's desk, its teams or the support team."),
                        code="invalid_choice",
                    )
                ]
        if errors:
            raise ValidationError(errors)
        changes: dict[str, Any] = {"state": State.IN_PROGRESS, "team": found_team, "assignee": found_user}
        if step.incident.acknowledged_at is None:
            changes["acknowledged_at"] = step.now
        if found_user is not None and step.incident.team_id is not None:
            changes["team"] = step.incident.team  # a person of the team keeps the team
        done = _save(step, **changes)
        _event(
            done,
            actor=actor,
            action=Action.ASSIGNED,
            before=step.before,
            now=step.now,
            team=found_team,
            assignee=found_user,
        )
        _after_commit()
    return done


def _team_q(incident: Incident) -> Q:
    return Q(province_id=incident.province_id) | Q(province__isnull=True)


def _eligible_user(incident: Incident, user: Any) -> Any:
    User = get_user_model()
    if isinstance(user, bool) or not isinstance(user, (int, str)):
        return None
    lookup = {"pk": user} if isinstance(user, int) else {"username": user}
    return (
        User.objects.filter(is_active=True, **lookup)
        .filter(
            Q(membership__role="province_officer", membership__province_id=incident.province_id)
            | Q(membership__role="support")
            | Q(support_teams__in=Team.objects.filter(_team_q(incident), is_active=True))
        )
        .distinct()
        .first()
    )


def _tell_vendors(incident: Incident, *, actor: Any, now: datetime.datetime) -> int:
    """An escalated incident of a system goes to the system's owner or vendor too (alerts.Contact of role
    `vendor`, national or of the incident's province): one VendorNotice per address, once (its unique
    constraint); one history row when someone new was told. The e-mails leave after commit
    (vendor_notices_send, run by the desk's jobs). Returns how many were told now."""
    from alerts.models import Contact

    if not incident.system:
        return 0
    vendors = Contact.objects.filter(role=Contact.Role.VENDOR, system=incident.system).filter(
        Q(province__isnull=True) | Q(province_id=incident.province_id)
    )
    told = []
    for contact in vendors.order_by("province_id", "name", "pk"):
        try:
            with transaction.atomic():
                VendorNotice.objects.create(
                    incident=incident,
                    contact=contact,
                    name=contact.name,
                    email=contact.email,
                    phone=contact.phone,
                    created_at=now,
                )
        except IntegrityError:  # told already (an earlier escalation, or another address row of the same e-mail)
            continue
        told.append(contact.name)
    if told:
        _event(incident, actor=actor, action=Action.VENDOR_TOLD, before=incident.state, now=now, text=", ".join(told))
    return len(told)


def vendor_notices_send() -> int:
    """E-mail the vendor notices not sent yet (each row locked, skipped when another worker holds it; marked
    sent in the same transaction). Returns how many were sent."""
    from django.core.mail import send_mail

    sent = 0
    with transaction.atomic():
        pending = (
            VendorNotice.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(sent_at__isnull=True)
            .select_related("incident__category", "incident__province", "incident__commune")
            .order_by("pk")
        )
        for notice in pending:
            incident = notice.incident
            where = incident.commune or incident.province
            subject = _("Incident #%(id)s escalated: %(system)s in %(where)s") % {
                "id": incident.pk,
                "system": incident.get_system_display(),
                "where": where,
            }
            body = "\n".join(
                [
                    _("The operations desk of Plan 02 escalated an incident of a system you own or supply."),
                    "",
                    f"#{incident.pk} · {incident.get_severity_display()} · {incident.category}",
                    f"{where}",
                    "",
                    incident.description,
                    "",
                    _("Reply to the province's operations desk, or to the central support team."),
                ]
            )
            send_mail(subject, body, None, [notice.email])
            notice.sent_at = timezone.now()
            notice.save(update_fields=["sent_at"])
            sent += 1
    return sent


def incident_escalate(*, incident: Incident, actor: Any, reason: Any, version: int | None = None) -> Incident:
    errors: dict[str, list[ValidationError]] = {}
    text = _text(errors, "reason", reason, required=True, message=_("Say why the incident is escalated."))
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        step = _begin(incident=incident, actor=actor, action="escalate", version=version)
        done = _save(step, escalated=True, escalated_at=step.now)
        _event(done, actor=actor, action=Action.ESCALATED, before=step.before, now=step.now, text=text)
        _tell_vendors(done, actor=actor, now=step.now)
        _after_commit()
    return done


def incident_resolve(*, incident: Incident, actor: Any, resolution: Any, version: int | None = None) -> Incident:
    errors: dict[str, list[ValidationError]] = {}
    text = _text(errors, "resolution", resolution, required=True, message=_("Say how the incident was resolved."))
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        step = _begin(incident=incident, actor=actor, action="resolve", version=version)
        changes: dict[str, Any] = {"state": State.RESOLVED, "resolution": text, "resolved_at": step.now}
        if step.incident.acknowledged_at is None:
            changes["acknowledged_at"] = step.now
        done = _save(step, **changes)
        _event(done, actor=actor, action=Action.RESOLVED, before=step.before, now=step.now, text=text)
        if done.report_id is not None and support_request_answer(
            report_id=done.report_id, user=actor, resolution=text, now=step.now
        ):
            # Its report's request for support (§8) is answered by this resolution: once, in the history.
            _event(done, actor=actor, action=Action.REQUEST_ANSWERED, before=done.state, now=step.now, text=text)
        _after_commit()
    return done


def incident_close(*, incident: Incident, actor: Any, version: int | None = None) -> Incident:
    with transaction.atomic():
        step = _begin(incident=incident, actor=actor, action="close", version=version)
        done = _save(step, state=State.CLOSED, closed_at=step.now)
        _event(done, actor=actor, action=Action.CLOSED, before=step.before, now=step.now)
        _after_commit()
    return done


def incident_reopen(*, incident: Incident, actor: Any, reason: Any, version: int | None = None) -> Incident:
    """Back to open with new times counted from now; the resolution given before stays in the history."""
    errors: dict[str, list[ValidationError]] = {}
    text = _text(errors, "reason", reason, required=True, message=_("Say why the incident is reopened."))
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        step = _begin(incident=incident, actor=actor, action="reopen", version=version)
        acknowledge_by, resolve_by = deadlines(severity=step.incident.severity, start=step.now)
        done = _save(
            step,
            state=State.OPEN,
            acknowledged_at=None,
            resolved_at=None,
            closed_at=None,
            resolution="",
            acknowledge_by=acknowledge_by,
            resolve_by=resolve_by,
        )
        _event(done, actor=actor, action=Action.REOPENED, before=step.before, now=step.now, text=text)
        _after_commit()
    return done


def incident_comment(*, incident: Incident, actor: Any, text: Any) -> IncidentEvent:
    """A comment of the thread (the incident's version stays)."""
    errors: dict[str, list[ValidationError]] = {}
    body = _text(errors, "text", text, required=True, message=_("Write the comment."))
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        step = _begin(incident=incident, actor=actor, action="comment", version=None)
        return _event(step.incident, actor=actor, action=Action.COMMENTED, before=step.before, now=step.now, text=body)


def incident_attach(*, incident: Incident, actor: Any, files: Iterable[UploadedFile]) -> list[IncidentAttachment]:
    """Photos or files added to an incident, checked like evidence, at most INCIDENT_MAX_ATTACHMENTS in all."""
    with transaction.atomic():
        step = _begin(incident=incident, actor=actor, action="attach", version=None)
        errors: dict[str, list[ValidationError]] = {}
        uploads = _files(errors, files, already=step.incident.attachments.count())
        if not uploads and "files" not in errors:
            errors["files"] = [ValidationError(_("Choose a file."), code="required")]
        if errors:
            raise ValidationError(errors)
        made = [_attach(step.incident, upload, actor=actor, now=step.now) for upload in uploads]
        _event(
            step.incident,
            actor=actor,
            action=Action.ATTACHED,
            before=step.before,
            now=step.now,
            text=", ".join(a.name for a in made),
        )
    return made


# --- the job's steps ------------------------------------------------------------------------------------------


def incidents_escalate_breached(*, breached: Iterable[tuple[int, int]]) -> int:
    """Escalate to the central support team the incidents whose breach alert was raised: (incident id,
    threshold) pairs. An incident already escalated (by its province, or by an earlier breach) is not escalated
    again; each breach is in its history once, because each breach alert is raised once. Returns how many
    incidents this escalated."""
    from support.rules import RESOLVE_LATE

    escalated = 0
    now = timezone.now()
    with transaction.atomic():
        for pk, threshold in sorted(set(breached)):
            incident = Incident.objects.select_for_update().filter(pk=pk).first()
            if incident is None or incident.escalated:
                continue
            before = incident.state
            incident.escalated, incident.escalated_at = True, now
            incident.version += 1
            incident.updated_at = now
            incident.save()
            text = (
                _("Not resolved by %(time)s.") if threshold == RESOLVE_LATE else _("Not acknowledged by %(time)s.")
            ) % {
                "time": timezone.localtime(
                    incident.resolve_by if threshold == RESOLVE_LATE else incident.acknowledge_by
                ).strftime("%Y-%m-%d %H:%M")
            }
            _event(incident, actor=None, action=Action.ESCALATED, before=before, now=now, text=text)
            _tell_vendors(incident, actor=None, now=now)
            escalated += 1
    return escalated


def incidents_close_confirmed(*, now: datetime.datetime | None = None) -> int:
    """Close the incidents resolved more than INCIDENT_AUTO_CLOSE_DAYS ago that nobody confirmed or reopened."""
    now = now or timezone.now()
    limit = now - datetime.timedelta(days=settings.INCIDENT_AUTO_CLOSE_DAYS)
    closed = 0
    with transaction.atomic():
        for incident in (
            Incident.objects.select_for_update(skip_locked=True)
            .filter(state=State.RESOLVED, resolved_at__lt=limit)
            .order_by("pk")
        ):
            before = incident.state
            incident.state, incident.closed_at = State.CLOSED, now
            incident.version += 1
            incident.updated_at = now
            incident.save()
            _event(
                incident,
                actor=None,
                action=Action.CLOSED,
                before=before,
                now=now,
                text=_("Closed by itself: not confirmed within %(days)s days.")
                % {"days": settings.INCIDENT_AUTO_CLOSE_DAYS},
            )
            closed += 1
    return closed


@dataclass(frozen=True)
class CheckResult:
    opened: int
    closed: int
    raised: int
    escalated: int
    notifications: int


def notify_request() -> bool:
    """Record that the desk's steps must be told (after a step commits); True when this call made the request,
    so a job must be queued — a pending request already has its job."""
    try:
        with transaction.atomic():
            _request, created = NotifyRequest.objects.get_or_create(pk=1, defaults={"requested_at": timezone.now()})
    except IntegrityError:  # made meanwhile by a concurrent step: pending, with its job
        return False
    return created


def notify_take() -> bool:
    """Take the pending request (before reading anything: a step committed after this makes a new one, with
    its own job). False when there was none (a duplicate delivery, or the beat took it)."""
    deleted, _detail = NotifyRequest.objects.filter(pk=1).delete()
    return bool(deleted)


def incidents_notify(*, trigger: str = "") -> CheckResult:
    """Run the desk's alert rules (support.rules) — new, breached and resolved incidents are told once, ended
    ones close — and escalate the incidents whose breach alert is open and that are not escalated yet. In one
    transaction, so a breach raised is an escalation made."""
    from alerts.models import Alert
    from alerts.services.runs import alerts_run
    from support.rules import BREACH, CODES, incident_id

    with transaction.atomic():
        result = alerts_run(rules=CODES, trigger=trigger[:100])
        breaches = [
            (incident_id(alert), alert.threshold)
            for alert in Alert.objects.open().filter(rule=BREACH).only("subject_key", "threshold")
        ]
        pending = set(
            Incident.objects.filter(pk__in=[pk for pk, _t in breaches if pk], escalated=False).values_list(
                "pk", flat=True
            )
        )
        escalated = incidents_escalate_breached(
            breached=[(pk, t) for pk, t in breaches if pk is not None and pk in pending]
        )
    return CheckResult(0, 0, result.raised, escalated, result.notifications)


def incidents_close_answered_requests() -> int:
    """Close the active incidents whose support request a province officer closed through the support-requests
    API or page (§8, alerts.SupportResolution), with that resolution: one answer, one state."""
    closed = 0
    with transaction.atomic():
        for incident in (
            Incident.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(state__in=ACTIVE_STATES, report__support_resolution__isnull=False)
            .select_related("report__support_resolution")
            .order_by("pk")
        ):
            _close_as_answered(incident, incident.report.support_resolution)
            closed += 1
    return closed


def incidents_check(*, trigger: str = "") -> CheckResult:
    """The desk's periodic job: incidents for the daily reports that asked for support, those whose request was
    answered closed, resolved incidents closed after INCIDENT_AUTO_CLOSE_DAYS, then the alerts and the
    escalations (incidents_notify)."""
    notify_take()  # the check tells people too: a request left pending (its job lost) ends here
    opened = incidents_open_for_reports()
    closed = incidents_close_answered_requests() + incidents_close_confirmed()
    told = incidents_notify(trigger=trigger)
    return CheckResult(opened, closed, told.raised, told.escalated, told.notifications)


def user_team_ids(user_id: int | None) -> frozenset[int]:
    """The teams a user is a member of (for allowed_actions over a list)."""
    if user_id is None:
        return frozenset()
    return frozenset(Team.objects.filter(members=user_id).values_list("pk", flat=True))
