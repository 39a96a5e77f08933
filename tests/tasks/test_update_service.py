"""tasks.services.assignment_update: transitions, validation, scoping, concurrency and history."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.utils import DatabaseError

from core.models import AppendOnlyError
from tasks.models import Agency, Assignment, StatusUpdate
from tasks.services import StaleVersion, UpdateNotAllowed, assignment_update


def update(assignment, actor, **changes):
    fields = {"status": "in_progress", "progress": 10, "version": assignment.version, **changes}
    return assignment_update(assignment=assignment, actor=actor, **fields)


def codes(exc_info):
    """{field: [codes]} of a ValidationError raised by the service."""
    return {field: [e.code for e in errors] for field, errors in exc_info.value.error_dict.items()}


# --- accepted changes and their history --------------------------------------------------------------------


@pytest.mark.django_db
def test_update_bumps_the_version_and_writes_one_history_row(agency_officer, bca_assignment):
    row = update(bca_assignment, agency_officer, status="in_progress", progress=40, note="Draft sent for comments")

    stored = Assignment.objects.get(pk=bca_assignment.pk)
    assert (stored.status, stored.progress, stored.version) == ("in_progress", 40, 2)
    assert stored.updated_by == agency_officer and stored.updated_at == row.created_at
    assert list(StatusUpdate.objects.filter(assignment=bca_assignment)) == [row]
    assert (row.actor, row.old_status, row.new_status, row.old_progress, row.new_progress, row.version) == (
        agency_officer,
        "not_started",
        "in_progress",
        0,
        40,
        2,
    )
    assert row.note == "Draft sent for comments" and not row.on_behalf
    assert bca_assignment.version == 2  # the caller's instance follows


@pytest.mark.django_db
def test_completed_needs_progress_100_and_a_completion_date(agency_officer, bca_assignment, today):
    with pytest.raises(ValidationError) as exc:
        update(bca_assignment, agency_officer, status="completed", progress=90)
    assert codes(exc) == {"progress": ["completed_progress"], "completed_on": ["required"]}

    update(bca_assignment, agency_officer, status="completed", progress=100, completed_on=today)
    assert Assignment.objects.get(pk=bca_assignment.pk).get_display_status() == "completed_on_time"


@pytest.mark.django_db
def test_completion_date_cannot_be_in_the_future(agency_officer, bca_assignment, today):
    with pytest.raises(ValidationError) as exc:
        update(
            bca_assignment, agency_officer, status="completed", progress=100, completed_on=today + datetime.timedelta(1)
        )
    assert codes(exc) == {"completed_on": ["future"]}


@pytest.mark.django_db
def test_completing_after_the_deadline_shows_as_completed_late(agency_officer, bca_assignment, today):
    bca_assignment.task.deadline = today - datetime.timedelta(days=3)
    bca_assignment.task.save()
    update(bca_assignment, agency_officer, status="completed", progress=100, completed_on=today)
    assert Assignment.objects.get(pk=bca_assignment.pk).get_display_status() == "completed_late"


@pytest.mark.django_db
def test_completion_date_and_blocking_fields_only_go_with_their_status(agency_officer, bca_assignment, today):
    with pytest.raises(ValidationError) as exc:
        update(
            bca_assignment,
            agency_officer,
            status="in_progress",
            completed_on=today,
            blocked_by=Agency.objects.get(code="BTC"),
            blocked_reason="budget",
        )
    assert codes(exc) == {
        "completed_on": ["only_when_completed"],
        "blocked_by": ["only_when_blocked"],
        "blocked_reason": ["only_when_blocked"],
    }


@pytest.mark.django_db
def test_blocked_needs_the_blocking_agency_and_a_reason(agency_officer, bca_assignment):
    with pytest.raises(ValidationError) as exc:
        update(bca_assignment, agency_officer, status="blocked", blocked_reason="  ")
    assert codes(exc) == {"blocked_by": ["required"], "blocked_reason": ["required"]}

    with pytest.raises(ValidationError) as exc:
        update(
            bca_assignment,
            agency_officer,
            status="blocked",
            blocked_by=Agency.objects.get(code="BCA"),
            blocked_reason="x",
        )
    assert codes(exc) == {"blocked_by": ["self_block"]}

    btc = Agency.objects.get(code="BTC")
    row = update(bca_assignment, agency_officer, status="blocked", blocked_by=btc, blocked_reason="Waiting for budget")
    assert (row.blocked_by, row.blocked_reason) == (btc, "Waiting for budget")
    stored = Assignment.objects.get(pk=bca_assignment.pk)
    assert (stored.status, stored.blocked_by, stored.blocked_reason) == ("blocked", btc, "Waiting for budget")

    # Unblocking clears the blocking fields.
    update(bca_assignment, agency_officer, status="in_progress", progress=50)
    stored.refresh_from_db()
    assert (stored.blocked_by, stored.blocked_reason) == (None, "")


@pytest.mark.django_db
@pytest.mark.parametrize("progress", [-1, 101, 250])
def test_progress_outside_0_to_100_is_refused(agency_officer, bca_assignment, progress):
    with pytest.raises(ValidationError) as exc:
        update(bca_assignment, agency_officer, progress=progress)
    assert codes(exc) == {"progress": ["out_of_range"]}
    assert Assignment.objects.get(pk=bca_assignment.pk).version == 1


@pytest.mark.django_db
def test_work_that_has_started_never_goes_back_to_not_started(agency_officer, bca_assignment):
    update(bca_assignment, agency_officer, status="in_progress", progress=20)
    with pytest.raises(ValidationError) as exc:
        update(bca_assignment, agency_officer, status="not_started", progress=0)
    assert codes(exc) == {"status": ["transition_not_allowed"]}


@pytest.mark.django_db
def test_not_started_has_progress_zero(agency_officer, bca_assignment):
    with pytest.raises(ValidationError) as exc:
        update(bca_assignment, agency_officer, status="not_started", progress=30)
    assert codes(exc) == {"progress": ["not_started_progress"]}


@pytest.mark.django_db
def test_completed_is_reopened_only_with_a_note_and_never_blocked(agency_officer, bca_assignment, today):
    update(bca_assignment, agency_officer, status="completed", progress=100, completed_on=today)
    with pytest.raises(ValidationError) as exc:
        update(bca_assignment, agency_officer, status="in_progress", progress=80)
    assert codes(exc) == {"note": ["note_required"]}
    with pytest.raises(ValidationError) as exc:
        update(
            bca_assignment,
            agency_officer,
            status="blocked",
            blocked_by=Agency.objects.get(code="BTC"),
            blocked_reason="x",
            note="why",
        )
    assert codes(exc) == {"status": ["transition_not_allowed"]}

    row = update(bca_assignment, agency_officer, status="in_progress", progress=80, note="Inspection found gaps")
    assert (row.old_status, row.new_status, row.version) == ("completed", "in_progress", 3)


@pytest.mark.django_db
def test_an_update_that_changes_nothing_needs_a_note_or_evidence(agency_officer, bca_assignment):
    with pytest.raises(ValidationError) as exc:
        update(bca_assignment, agency_officer, status="not_started", progress=0)
    assert codes(exc) == {"__all__": ["no_change"]}
    row = update(bca_assignment, agency_officer, status="not_started", progress=0, note="Starts next week")
    assert row.note == "Starts next week"


@pytest.mark.django_db
def test_unknown_status_and_bad_evidence_link_name_their_fields(agency_officer, bca_assignment):
    with pytest.raises(ValidationError) as exc:
        update(bca_assignment, agency_officer, status="done")
    assert codes(exc) == {"status": ["invalid_choice"]}
    with pytest.raises(ValidationError) as exc:
        update(bca_assignment, agency_officer, evidence_url="javascript:alert(1)")
    assert codes(exc) == {"evidence_url": ["invalid"]}


# --- evidence files ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_evidence_file_is_stored_with_the_history_row(agency_officer, bca_assignment, pdf_file, media_root):
    row = update(bca_assignment, agency_officer, progress=50, evidence_file=pdf_file("roadmap.pdf"))
    assert row.evidence_file.name == f"evidence/{bca_assignment.task_id}/{bca_assignment.pk}/roadmap.pdf"
    assert (media_root / row.evidence_file.name).read_bytes().startswith(b"%PDF-")


@pytest.mark.django_db
def test_evidence_file_type_content_and_size_are_checked(agency_officer, bca_assignment, pdf_file, settings):
    with pytest.raises(ValidationError) as exc:
        update(bca_assignment, agency_officer, evidence_file=pdf_file("run.exe", b"MZ\x90\x00"))
    assert codes(exc) == {"evidence_file": ["file_type"]}
    with pytest.raises(ValidationError) as exc:
        update(bca_assignment, agency_officer, evidence_file=pdf_file("fake.pdf", b"<html><script>"))
    assert codes(exc) == {"evidence_file": ["file_content"]}
    settings.EVIDENCE_MAX_BYTES = 1024
    with pytest.raises(ValidationError) as exc:
        update(bca_assignment, agency_officer, evidence_file=pdf_file("big.pdf", b"%PDF-" + b"0" * 2000))
    assert codes(exc) == {"evidence_file": ["file_size"]}
    assert not StatusUpdate.objects.filter(assignment=bca_assignment).exists()


# --- scoping -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_read_only_roles_change_nothing(steering, inspector, admin_user, bca_assignment):
    for user in (steering, inspector, admin_user):
        with pytest.raises(UpdateNotAllowed) as exc:
            update(bca_assignment, user)
        assert exc.value.visible  # they see it (403), they may not change it
    assert not StatusUpdate.objects.exists()


@pytest.mark.django_db
def test_officers_of_other_agencies_cannot_update(other_agency_officer, coordinating_officer):
    t01_bca = Assignment.objects.get(task__code="T01", agency__code="BCA")
    with pytest.raises(UpdateNotAllowed) as exc:
        update(t01_bca, other_agency_officer)
    assert not exc.value.visible  # the Supreme People's Court does not even see it: 404
    with pytest.raises(UpdateNotAllowed) as exc:
        update(t01_bca, coordinating_officer)
    assert exc.value.visible  # VPCP coordinates T01 and sees BCA's part: 403


@pytest.mark.django_db
def test_province_officer_updates_a_commune_on_its_behalf(province_officer, badinh_t30):
    row = update(badinh_t30, province_officer, progress=30)
    assert row.on_behalf
    own = Assignment.objects.get(task__code="T29", province_id="01", level="province")
    assert not update(own, province_officer).on_behalf


@pytest.mark.django_db
def test_on_behalf_cannot_be_claimed_where_it_does_not_apply(agency_officer, bca_assignment):
    with pytest.raises(ValueError):
        update(bca_assignment, agency_officer, on_behalf=True)


@pytest.mark.django_db
def test_province_and_commune_scopes_stop_at_their_borders(
    outsider_province_officer, commune_clerk, other_commune_clerk, badinh_t30
):
    for user in (outsider_province_officer, other_commune_clerk):
        with pytest.raises(UpdateNotAllowed) as exc:
            update(badinh_t30, user)
        assert not exc.value.visible
    assert update(badinh_t30, commune_clerk).actor == commune_clerk


# --- concurrency -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_stale_version_is_refused_with_what_changed_since(agency_officer, second_agency_officer, bca_assignment):
    mine = Assignment.objects.get(pk=bca_assignment.pk)  # both officers opened version 1
    update(bca_assignment, second_agency_officer, status="in_progress", progress=60, note="Half done")

    with pytest.raises(StaleVersion) as exc:
        update(mine, agency_officer, status="in_progress", progress=20, version=1)
    stale = exc.value
    assert (stale.version, stale.assignment.version) == (1, 2)
    assert [(c.field, c.old, c.new) for c in stale.changes] == [
        ("status", "not_started", "in_progress"),
        ("progress", 0, 60),
    ]
    assert [(u.actor, u.note) for u in stale.updates] == [(second_agency_officer, "Half done")]
    stored = Assignment.objects.get(pk=bca_assignment.pk)
    assert (stored.progress, stored.version) == (60, 2)  # never a silent overwrite
    assert StatusUpdate.objects.filter(assignment=bca_assignment).count() == 1


@pytest.mark.django_db
def test_changes_since_an_older_version_span_several_updates(agency_officer, bca_assignment, today):
    btc = Agency.objects.get(code="BTC")
    update(bca_assignment, agency_officer, status="blocked", progress=30, blocked_by=btc, blocked_reason="budget")
    update(bca_assignment, agency_officer, status="completed", progress=100, completed_on=today)
    with pytest.raises(StaleVersion) as exc:
        update(bca_assignment, agency_officer, version=2)
    assert [(c.field, c.old, c.new) for c in exc.value.changes] == [
        ("status", "blocked", "completed"),
        ("progress", 30, 100),
        ("completed_on", None, today),
        ("blocked_by", "BTC", None),
        ("blocked_reason", "budget", ""),
    ]
    assert [u.version for u in exc.value.updates] == [3]


@pytest.mark.django_db
def test_a_stale_version_is_refused_before_the_rules_are_checked(agency_officer, bca_assignment):
    update(bca_assignment, agency_officer)
    with pytest.raises(StaleVersion):
        update(bca_assignment, agency_officer, progress=500, version=1)


# --- history: same transaction, append-only ----------------------------------------------------------------


@pytest.mark.django_db
def test_history_is_written_in_the_same_transaction_as_the_change(agency_officer, bca_assignment, monkeypatch):
    def broken_save(self, *args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(StatusUpdate, "save", broken_save)
    with pytest.raises(DatabaseError):
        update(bca_assignment, agency_officer, progress=70)
    stored = Assignment.objects.get(pk=bca_assignment.pk)
    assert (stored.status, stored.progress, stored.version) == ("not_started", 0, 1)


@pytest.mark.django_db
def test_history_rows_cannot_be_changed_or_deleted_through_the_orm(agency_officer, bca_assignment):
    row = update(bca_assignment, agency_officer, note="first")
    row.note = "rewritten"
    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        row.delete()
    with pytest.raises(AppendOnlyError):
        StatusUpdate.objects.filter(pk=row.pk).update(note="rewritten")
    with pytest.raises(AppendOnlyError):
        StatusUpdate.objects.filter(pk=row.pk).delete()
    assert StatusUpdate.objects.get(pk=row.pk).note == "first"


@pytest.mark.django_db
@pytest.mark.services
def test_database_trigger_refuses_raw_sql_changes_of_history(postgresql, agency_officer, bca_assignment):
    # The trigger exists on PostgreSQL only; SQLite relies on the model's refusal above.
    row = update(bca_assignment, agency_officer, note="first")
    for sql in (
        "UPDATE tasks_statusupdate SET note = 'x' WHERE id = %s",
        "DELETE FROM tasks_statusupdate WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [row.pk])
    assert StatusUpdate.objects.get(pk=row.pk).note == "first"
