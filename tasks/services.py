"""Writes to workflow items: assignments, the sub-tasks of local plans (DESIGN.md §13) and, from the apps
above, inspections' follow-up items. Every change goes through workflow_update() with the item's Workflow
(what the service needs to know of a kind of item: its model, its history, who may see and change it,
what it announces); assignment_update() and subtask_update() are it with the ASSIGNMENTS and SUBTASKS
workflows. It checks the scope, enforces the transition rules, refuses a stale version and writes its
history row in the same transaction.

Transition rules (enforced here, for the browser form, the API and the bulk upload alike):

| from \\ to    | not_started | in_progress | blocked | completed |
|--------------|-------------|-------------|---------|-----------|
| not_started  | note only   | yes         | yes     | yes       |
| in_progress  | no          | yes         | yes     | yes       |
| blocked      | no          | yes         | yes     | yes       |
| completed    | no          | with a note | no      | with a note |

- Work that has started is never "not started" again; `not_started` always has progress 0.
- A completed assignment is reopened (→ in_progress) or corrected (new date, evidence) only with a note that
  says why: it changes what the dashboards have already reported.
- completed: progress 100 and a completion date that is not in the future (Asia/Ho_Chi_Minh).
- blocked: the blocker and the reason, both required. The blocker is one of an agency (blocked_by), a province
  (blocked_by_province), a vendor (blocked_by_vendor) or a system (blocked_by_system, core.systems); a unit
  does not block itself (an agency its own item, a province its own, not its communes').
- completed_on only with completed; a blocker and blocked_reason only with blocked.
- progress is 0–100 (also a database check); an update that changes nothing needs a note or evidence.
"""

import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import events
from core.systems import SYSTEM_CODES
from core.text import echo
from core.validators import validate_web_link
from localities.models import Province
from tasks.models import (
    Agency,
    Assignment,
    AssignmentStatus,
    Level,
    StatusUpdate,
    SubTask,
    SubTaskUpdate,
    Vendor,
    WorkflowState,
)
from tasks.roles import Scope
from tasks.scoping import acts_on_behalf, scope_for_user
from tasks.selectors import item_changes_since
from tasks.signals import assignments_changed_after_commit, work_items_changed_after_commit

S = AssignmentStatus

# An event of the changes feed and the webhooks (DESIGN.md §14), in the update's transaction. Scoped to the
# assignment's province and commune, and to its agency: its own for a central assignment, else the task's
# lead agency (whose officers follow the task's provinces and communes).
ASSIGNMENT_UPDATED = events.declare(
    "assignment.updated", gettext_lazy("An assignment's status or progress was updated (one history row).")
)
SUBTASK_UPDATED = events.declare(
    "subtask.updated", gettext_lazy("A sub-task of a local plan was updated (one history row).")
)
ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    S.NOT_STARTED: {S.NOT_STARTED, S.IN_PROGRESS, S.BLOCKED, S.COMPLETED},
    S.IN_PROGRESS: {S.IN_PROGRESS, S.BLOCKED, S.COMPLETED},
    S.BLOCKED: {S.BLOCKED, S.IN_PROGRESS, S.COMPLETED},
    S.COMPLETED: {S.COMPLETED, S.IN_PROGRESS},
}
TEXT_MAX = 2000
EVIDENCE_NAME_MAX = 150
# First bytes of each accepted evidence type, so a renamed executable or HTML page is refused.
ZIP_MAGIC = (b"PK\x03\x04",)
EVIDENCE_SIGNATURES = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "docx": ZIP_MAGIC,
    "xlsx": ZIP_MAGIC,
    "odt": ZIP_MAGIC,
    "ods": ZIP_MAGIC,
    "zip": ZIP_MAGIC,
}


class UpdateNotAllowed(PermissionDenied):
    """The actor may see the assignment but not change it (403), or may not see it at all (404)."""

    def __init__(self, *, visible: bool) -> None:
        self.visible = visible
        super().__init__(_("You may not update this assignment."))


class StaleVersion(Exception):
    """The caller edited an older version: someone else saved in between. Nothing was written.

    Carries the current item (`assignment` names it too, whatever its kind), the caller's version, what
    changed field by field since that version, and the history rows written since (who and when)."""

    code = "stale_version"

    def __init__(self, *, item: WorkflowState, version: int, changes: list, updates: list) -> None:
        self.item = self.assignment = item
        self.version = version
        self.changes = changes
        self.updates = updates
        super().__init__(f"{item._meta.model_name} {item.pk}: version {version} is stale (current {item.version})")


class Workflow:
    """What the workflow service needs to know of one kind of item. Subclasses name the model and its history
    model; the defaults fit an item whose queryset has visible_to(scope) and updatable_by(scope)."""

    model: Any  # a WorkflowState subclass, with visible_to() and updatable_by() on its queryset
    history_model: Any  # its WorkflowHistory subclass
    # Joins taken with the row lock (what own_agency_id() and announce() read).
    lock_joins: tuple[str, ...] = ()

    def visible(self, scope: Scope) -> Any:
        return self.model.objects.visible_to(scope)

    def updatable(self, scope: Scope) -> Any:
        return self.model.objects.updatable_by(scope)

    def acts_on_behalf(self, scope: Scope, item: Any) -> bool:
        """Does the scope change the item for another unit (a province officer for one of its communes)?"""
        return False

    def own_agency_id(self, item: Any) -> int | None:
        """The agency the item belongs to, which cannot be its own blocker."""
        return None

    def own_province_id(self, item: Any) -> str | None:
        """The province the item belongs to itself (not through one of its communes), which cannot block it."""
        return None

    def history(self, item: Any) -> Any:
        return self.history_model.objects.filter(**{self.history_model.ITEM_FIELD: item})

    def announce(self, current: Any, update: Any, *, actor: Any) -> None:
        """In the update's transaction: the event of the changes feed, if the kind has one."""

    def after_commit(self, ids: list[int]) -> None:
        """After the commit of one or many updates: tell whoever follows (the dashboards)."""


class AssignmentWorkflow(Workflow):
    model = Assignment
    history_model = StatusUpdate
    lock_joins = ("task__lead_agency", "agency")

    def acts_on_behalf(self, scope: Scope, item: Any) -> bool:
        return acts_on_behalf(scope, item)

    def own_agency_id(self, item: Any) -> int | None:
        return item.agency_id

    def own_province_id(self, item: Any) -> str | None:
        return item.province_id if item.level == Level.PROVINCE else None

    def announce(self, current: Any, update: Any, *, actor: Any) -> None:
        events.emit(
            ASSIGNMENT_UPDATED,
            subject="assignment",
            subject_id=current.pk,
            payload={
                "task": current.task.code,
                "level": current.level,
                "previous_status": update.old_status,
                "status": update.new_status,
                "progress": update.new_progress,
                "completed_on": update.completed_on.isoformat() if update.completed_on else None,
                "blocked_by": update.blocked_by.code if update.blocked_by else None,
                "version": update.version,
                "on_behalf": update.on_behalf,
                "update": update.pk,
            },
            province=current.province_id or "",
            commune=current.commune_id or "",
            agency=current.agency.code if current.agency is not None else current.task.lead_agency.code,
            actor=actor.get_username(),
        )

    def after_commit(self, ids: list[int]) -> None:
        assignments_changed_after_commit(ids)


class SubTaskWorkflow(Workflow):
    model = SubTask
    history_model = SubTaskUpdate
    lock_joins = ("plan__agency", "parent__task__lead_agency")

    def acts_on_behalf(self, scope: Scope, item: Any) -> bool:
        return scope.is_province and item.commune_id is not None

    def own_agency_id(self, item: Any) -> int | None:
        return item.plan.agency_id

    def own_province_id(self, item: Any) -> str | None:
        return item.plan.province_id if item.commune_id is None else None

    def announce(self, current: Any, update: Any, *, actor: Any) -> None:
        task = current.parent.task
        events.emit(
            SUBTASK_UPDATED,
            subject="subtask",
            subject_id=current.pk,
            payload={
                "task": task.code,
                "assignment": current.parent_id,
                "plan": current.plan_id,
                "previous_status": update.old_status,
                "status": update.new_status,
                "progress": update.new_progress,
                "completed_on": update.completed_on.isoformat() if update.completed_on else None,
                "blocked_by": update.blocked_by.code if update.blocked_by else None,
                "version": update.version,
                "on_behalf": update.on_behalf,
                "update": update.pk,
            },
            province=current.plan.province_id or "",
            commune=current.commune_id or "",
            agency=current.plan.agency.code if current.plan.agency is not None else task.lead_agency.code,
            actor=actor.get_username(),
        )

    def after_commit(self, ids: list[int]) -> None:
        work_items_changed_after_commit("subtask", ids)


ASSIGNMENTS = AssignmentWorkflow()
SUBTASKS = SubTaskWorkflow()


def validate_evidence_file(evidence_file: UploadedFile) -> list[ValidationError]:
    """Type by extension and by content, size limit, name length. Returns a list of ValidationErrors."""
    errors = []
    name = Path(evidence_file.name or "").name
    extension = Path(name).suffix.lower().lstrip(".")
    allowed = [e.lower() for e in settings.EVIDENCE_EXTENSIONS]
    if extension not in allowed:
        errors.append(
            ValidationError(
                _("Files of type “%(type)s” are not accepted. Accepted: %(allowed)s."),
                code="file_type",
                params={"type": extension or "?", "allowed": ", ".join(allowed)},
            )
        )
    if (evidence_file.size or 0) > settings.EVIDENCE_MAX_BYTES:
        errors.append(
            ValidationError(
                _("The file is %(size)s; the limit is %(limit)s."),
                code="file_size",
                params={
                    "size": filesizeformat(evidence_file.size or 0),
                    "limit": filesizeformat(settings.EVIDENCE_MAX_BYTES),
                },
            )
        )
    if len(name) > EVIDENCE_NAME_MAX:
        errors.append(
            ValidationError(
                _("The file name is longer than %(max)s characters."),
                code="file_name",
                params={"max": EVIDENCE_NAME_MAX},
            )
        )
    if not errors and extension in EVIDENCE_SIGNATURES:
        evidence_file.seek(0)
        head = evidence_file.read(16)
        evidence_file.seek(0)
        if not head.startswith(EVIDENCE_SIGNATURES[extension]):
            errors.append(
                ValidationError(
                    _("The file's content is not a valid “%(type)s” file."),
                    code="file_content",
                    params={"type": extension},
                )
            )
    return errors


def validate_update(
    *,
    current: WorkflowState,
    status: str,
    progress: int | None,
    note: str = "",
    evidence_url: str = "",
    evidence_file: UploadedFile | None = None,
    completed_on: datetime.date | None = None,
    blocked_by: Agency | None = None,
    blocked_by_province: Province | None = None,
    blocked_by_vendor: Vendor | None = None,
    blocked_by_system: str = "",
    blocked_reason: str = "",
    today: datetime.date | None = None,
    workflow: Workflow | None = None,
) -> None:
    """Check a proposed change of `current` (an item of `workflow`, by default an assignment) against the rules
    above. Raises ValidationError with a dict of field -> errors (each with a stable code); writes nothing.
    Used by the service and by the bulk dry run."""
    today = today or timezone.localdate()
    own_agency_id = (workflow or ASSIGNMENTS).own_agency_id(current)
    own_province_id = (workflow or ASSIGNMENTS).own_province_id(current)
    blockers = {
        "blocked_by": blocked_by,
        "blocked_by_province": blocked_by_province,
        "blocked_by_vendor": blocked_by_vendor,
        "blocked_by_system": blocked_by_system or None,
    }
    named = [field for field, value in blockers.items() if value is not None]
    errors: dict[str, list[ValidationError]] = {}

    def add(field: str, message: str, code: str, **params: Any) -> None:
        errors.setdefault(field, []).append(ValidationError(message, code=code, params=params or None))

    if status not in S.values:
        add("status", _("Unknown status “%(value)s”."), "invalid_choice", value=echo(status))
    if isinstance(progress, bool) or not isinstance(progress, int):
        add("progress", _("Progress must be a whole number from 0 to 100."), "invalid")
    elif not 0 <= progress <= 100:
        add("progress", _("Progress must be from 0 to 100."), "out_of_range")
    for field, value in (("note", note), ("blocked_reason", blocked_reason)):
        if len(value or "") > TEXT_MAX:
            add(field, _("At most %(max)s characters."), "max_length", max=TEXT_MAX)
    if evidence_url:
        try:
            validate_web_link(evidence_url)
        except ValidationError as exc:
            errors.setdefault("evidence_url", []).append(exc)
    if evidence_file is not None and (file_errors := validate_evidence_file(evidence_file)):
        errors["evidence_file"] = file_errors
    if errors.get("status"):
        raise ValidationError(errors)

    old = current.status
    if status not in ALLOWED_TRANSITIONS[old]:
        add(
            "status",
            _("An assignment that is “%(old)s” cannot become “%(new)s”."),
            "transition_not_allowed",
            old=S(old).label,
            new=S(status).label,
        )
    elif old == S.COMPLETED and not (note or "").strip():
        add("note", _("Say why in a note: reopening or correcting a completed assignment needs one."), "note_required")

    if status == S.NOT_STARTED and progress not in (0, None) and "progress" not in errors:
        add("progress", _("An assignment that has not started has progress 0."), "not_started_progress")
    if status == S.COMPLETED:
        if progress != 100 and "progress" not in errors:
            add("progress", _("A completed assignment has progress 100."), "completed_progress")
        if completed_on is None:
            add("completed_on", _("Give the date the work was completed."), "required")
        elif completed_on > today:
            add("completed_on", _("The completion date cannot be in the future."), "future")
    elif completed_on is not None:
        add("completed_on", _("A completion date is only given when the status is completed."), "only_when_completed")
    if blocked_by_system and blocked_by_system not in SYSTEM_CODES:
        add(
            "blocked_by_system",
            _("Unknown system “%(value)s” (expected one of %(codes)s)."),
            "invalid_choice",
            value=echo(blocked_by_system),
            codes=", ".join(SYSTEM_CODES),
        )
    if status == S.BLOCKED:
        if not named:
            add(
                "blocked_by",
                _("Say who or what is blocking the work: an agency, a province, a vendor or a system."),
                "required",
            )
        for field in named[1:]:
            add(field, _("Name one blocker only: an agency, a province, a vendor or a system."), "one_blocker")
        if blocked_by is not None and own_agency_id and blocked_by.pk == own_agency_id:
            add("blocked_by", _("An agency cannot be blocked by itself."), "self_block")
        if blocked_by_province is not None and own_province_id and blocked_by_province.pk == own_province_id:
            add("blocked_by_province", _("A province cannot be blocked by itself."), "self_block")
        if not (blocked_reason or "").strip():
            add("blocked_reason", _("Say why the work is blocked."), "required")
    else:
        for field in named:
            add(field, _("A blocker is only given when the status is blocked."), "only_when_blocked")
        if (blocked_reason or "").strip():
            add("blocked_reason", _("A reason is only given when the status is blocked."), "only_when_blocked")

    if not errors:
        new_blocker = tuple(getattr(value, "pk", value) for value in blockers.values())
        old_blocker = (
            current.blocked_by_id,
            current.blocked_by_province_id,
            current.blocked_by_vendor_id,
            current.blocked_by_system or None,
        )
        new_state = (status, progress, completed_on, new_blocker, blocked_reason or "")
        old_state = (old, current.progress, current.completed_on, old_blocker, current.blocked_reason or "")
        if new_state == old_state and not (note or "").strip() and not evidence_url and evidence_file is None:
            add(NON_FIELD_ERRORS, _("Nothing changed: change a value, or add a note or evidence."), "no_change")
    if errors:
        raise ValidationError(errors)


def assignment_update(*, assignment: Assignment, **kwargs: Any) -> StatusUpdate:
    """Change an assignment's status and progress and write its history row (workflow_update with ASSIGNMENTS).
    After commit it announces the change (tasks.signals.assignments_changed: the dashboards' task snapshots
    follow), unless the caller does it once for many (`refresh_dashboards=False`)."""
    return workflow_update(ASSIGNMENTS, item=assignment, **kwargs)


def subtask_update(*, subtask: SubTask, **kwargs: Any) -> SubTaskUpdate:
    """Change a sub-task's status and progress and write its history row: the same service, rules, history and
    concurrency as an assignment's (workflow_update with SUBTASKS)."""
    return workflow_update(SUBTASKS, item=subtask, **kwargs)


def workflow_update(
    workflow: Workflow,
    *,
    item: Any,
    actor: Any,
    version: int,
    status: str,
    progress: int,
    note: str = "",
    evidence_url: str = "",
    evidence_file: UploadedFile | None = None,
    completed_on: datetime.date | None = None,
    blocked_by: Agency | None = None,
    blocked_by_province: Province | None = None,
    blocked_by_vendor: Vendor | None = None,
    blocked_by_system: str = "",
    blocked_reason: str = "",
    on_behalf: bool = False,
    refresh_dashboards: bool = True,
) -> Any:
    """Change a workflow item's status and progress and write its history row, in one transaction.

    Raises UpdateNotAllowed (403/404), StaleVersion (409) or ValidationError (400, by field). Returns the new
    history row; `item` is refreshed to the new state. `on_behalf` is derived from the scope (a province
    officer updating a commune's item); passing True where it does not apply is a programming error. After
    commit it tells the workflow (after_commit), unless the caller does it once for many.
    """
    scope = scope_for_user(actor)
    derived_on_behalf = workflow.acts_on_behalf(scope, item)
    if on_behalf and not derived_on_behalf:
        raise ValueError("on_behalf applies only to a province officer updating one of its communes")
    if not workflow.updatable(scope).filter(pk=item.pk).exists():
        raise UpdateNotAllowed(visible=workflow.visible(scope).filter(pk=item.pk).exists())

    note, blocked_reason, evidence_url = (
        (note or "").strip(),
        (blocked_reason or "").strip(),
        (evidence_url or "").strip(),
    )
    model = workflow.model
    with transaction.atomic():
        # Race: two officers saving the same version. The row lock makes the second wait for the first to
        # commit and then see the bumped version; the version filter on the UPDATE below is the compare-and-set
        # that also holds where rows cannot be locked (SQLite serialises writers instead).
        current = model.objects.select_for_update(of=("self",)).select_related(*workflow.lock_joins).get(pk=item.pk)
        if current.version != version:
            raise _stale(workflow, current, version)
        validate_update(
            current=current,
            status=status,
            progress=progress,
            note=note,
            evidence_url=evidence_url,
            evidence_file=evidence_file,
            completed_on=completed_on,
            blocked_by=blocked_by,
            blocked_by_province=blocked_by_province,
            blocked_by_vendor=blocked_by_vendor,
            blocked_by_system=blocked_by_system,
            blocked_reason=blocked_reason,
            workflow=workflow,
        )
        blocker = {
            "blocked_by": blocked_by,
            "blocked_by_province": blocked_by_province,
            "blocked_by_vendor": blocked_by_vendor,
            "blocked_by_system": blocked_by_system or "",
        }
        now = timezone.now()
        changed = model.objects.filter(pk=current.pk, version=version).update(
            status=status,
            progress=progress,
            completed_on=completed_on,
            **blocker,
            blocked_reason=blocked_reason,
            version=F("version") + 1,
            updated_at=now,
            updated_by=actor,
        )
        if changed != 1:
            raise _stale(workflow, model.objects.get(pk=current.pk), version)
        update = workflow.history_model(
            **{workflow.history_model.ITEM_FIELD: current},
            actor=actor,
            created_at=now,
            old_status=current.status,
            new_status=status,
            old_progress=current.progress,
            new_progress=progress,
            completed_on=completed_on,
            **blocker,
            blocked_reason=blocked_reason,
            note=note,
            evidence_url=evidence_url,
            on_behalf=derived_on_behalf,
            version=version + 1,
        )
        if evidence_file is not None:
            update.evidence_file = evidence_file
        update.save()
        workflow.announce(current, update, actor=actor)
        if refresh_dashboards:
            workflow.after_commit([current.pk])

    item.status, item.progress, item.completed_on = status, progress, completed_on
    for name, value in blocker.items():
        setattr(item, name, value)
    item.blocked_reason = blocked_reason
    item.version, item.updated_at, item.updated_by = version + 1, now, actor
    if hasattr(item, "display_status"):
        del item.display_status  # the annotation no longer matches; get_display_status() recomputes it
    return update


def _stale(workflow: Workflow, current: Any, version: int) -> "StaleVersion":
    changes, updates = item_changes_since(
        history=workflow.history(current), current_version=current.version, version=version
    )
    return StaleVersion(item=current, version=version, changes=changes, updates=updates)


def assignments_bulk_update(*, actor: Any, rows: list[dict[str, Any]]) -> list[StatusUpdate]:
    """items_bulk_update with ASSIGNMENTS."""
    return items_bulk_update(ASSIGNMENTS, actor=actor, rows=rows)


def items_bulk_update(workflow: Workflow, *, actor: Any, rows: list[dict[str, Any]]) -> list[Any]:
    """Apply the rows of a checked bulk upload in one transaction: all of them, each with its own history row,
    or none. `rows` are dicts with `assignment_id` (the item's id, whatever its kind), `version` and the new
    values. A row that became stale or invalid since the dry run makes the whole upload fail with that error
    (and the row's index)."""
    ids = [row["assignment_id"] for row in rows]
    items = workflow.model.objects.in_bulk(ids)
    updates = []
    with transaction.atomic():
        for index, row in enumerate(rows):
            item = items.get(row["assignment_id"])
            if item is None:
                raise BulkRowError(index, UpdateNotAllowed(visible=False))
            try:
                updates.append(
                    workflow_update(
                        workflow,
                        item=item,
                        actor=actor,
                        version=row["version"],
                        status=row["status"],
                        progress=row["progress"],
                        note=row.get("note", ""),
                        evidence_url=row.get("evidence_url", ""),
                        completed_on=row.get("completed_on"),
                        blocked_by=row.get("blocked_by"),
                        blocked_by_province=row.get("blocked_by_province"),
                        blocked_by_vendor=row.get("blocked_by_vendor"),
                        blocked_by_system=row.get("blocked_by_system") or "",
                        blocked_reason=row.get("blocked_reason", ""),
                        refresh_dashboards=False,
                    )
                )
            except (UpdateNotAllowed, StaleVersion, ValidationError) as exc:
                raise BulkRowError(index, exc) from exc
        workflow.after_commit([u.item_id for u in updates])  # once for the whole upload
    return updates


class BulkRowError(Exception):
    """One row of a bulk apply failed; the transaction was rolled back and nothing was written."""

    def __init__(self, index: int, error: Exception) -> None:
        self.index = index
        self.error = error
        super().__init__(f"row {index}: {error}")
