"""Demo users of DESIGN.md §2, one per role, with fixed usernames."""

import contextlib
import contextvars
import datetime
import random
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from localities.models import Commune, Province
from tasks.models import Agency, Assignment, AssignmentStatus, Membership, Role, StatusUpdate

# username -> (role, unit kind, unit code, full name)
DEMO_USERS = {
    "admin": (Role.ADMIN, None, None, "Quản trị quốc gia"),
    "steering": (Role.STEERING, None, None, "Thành viên Ban Chỉ đạo"),
    "inspector": (Role.INSPECTOR, None, None, "Cán bộ kiểm tra"),
    "agency": (Role.AGENCY_OFFICER, "agency", "BCA", "Cán bộ Bộ Công an"),
    "province": (Role.PROVINCE_OFFICER, "province", "01", "Cán bộ Thành phố Hà Nội"),
    "commune": (Role.COMMUNE_CLERK, "commune", "00004", "Công chức Phường Ba Đình"),
    "support": (Role.SUPPORT, None, None, "Tổ hỗ trợ trung ương"),
}

DEMO_EMAIL_DOMAIN = "plan02-demo.example"  # reserved for examples (RFC 6761): mail to it goes nowhere


class DemoDataRefused(CommandError):
    """Demo data was asked for where it is not allowed (DEBUG off, no explicit permission)."""


# Set by a command that was given --allow-demo-data, for the commands it calls in-process (bootstrap → seed_demo).
_allowed_by_caller = contextvars.ContextVar("demo_data_allowed", default=False)


@contextlib.contextmanager
def demo_data_allowed():
    token = _allowed_by_caller.set(True)
    try:
        yield
    finally:
        _allowed_by_caller.reset(token)


def demo_data_check(*, allow=False):
    """Refuse to seed demo data unless DEBUG is on, PLAN02_ALLOW_DEMO_DATA is true or the caller passes
    allow=True (an explicit flag): demo users have a known or printed password and an admin among them, and
    demo reports would mix with real ones."""
    if allow or settings.DEMO_DATA_ALLOWED or _allowed_by_caller.get():
        return
    raise DemoDataRefused(
        _(
            "Demo data is not loaded when DJANGO_DEBUG is off: it creates demo users (an admin among them) with a "
            "known password and invented reports. For a demo or benchmark database, pass --allow-demo-data or "
            "set PLAN02_ALLOW_DEMO_DATA=true; for production, run load_reference instead."
        )
    )


@transaction.atomic
def demo_users_ensure(*, password=None):
    """Create the demo users that are missing. Existing users are left as they are (password included).

    Returns (created usernames, the password used — generated when none was given — or None)."""
    User = get_user_model()
    missing = [name for name in DEMO_USERS if not User.objects.filter(username=name).exists()]
    if not missing:
        return [], None
    password = password or secrets.token_urlsafe(12)
    for username in missing:
        role, kind, code, full_name = DEMO_USERS[username]
        first, _, last = full_name.partition(" ")
        user = User.objects.create_user(
            username=username,
            password=password,
            first_name=first,
            last_name=last,
            email=f"{username}@{DEMO_EMAIL_DOMAIN}",  # so the embedded mode shows their digests in the console
            is_staff=role == Role.ADMIN,
            is_superuser=role == Role.ADMIN,
        )
        unit = {}
        if kind == "agency":
            unit["agency"] = Agency.objects.get(code=code)
        elif kind == "province":
            unit["province"] = Province.objects.get(code=code)
        elif kind == "commune":
            unit["commune"] = Commune.objects.get(code=code)
        Membership.objects.create(user=user, role=role, **unit)
    return missing, password


HISTORY_USERNAME = "demo-history"


def demo_history_actor():
    """The actor of seeded history rows for units without a demo user (cannot log in)."""
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=HISTORY_USERNAME, defaults={"first_name": "Dữ liệu", "last_name": "minh họa", "is_active": False}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


@transaction.atomic
def seed_task_history(*, end, seed=2025):
    """Give every assignment a plausible history up to `end` (yesterday): most urgent-phase work completed
    (a share of it late), the breakthrough phase further behind, provinces differing in how many of their
    communes are green. Writes StatusUpdate rows version by version and the assignments' final state.
    Does nothing when any history exists. Returns the number of history rows written."""
    if StatusUpdate.objects.exists():
        return 0
    rng = random.Random(seed)
    tz = timezone.get_current_timezone()
    fallback = demo_history_actor()
    actors = {}
    for m in Membership.objects.filter(user__username__in=list(DEMO_USERS)).select_related("user"):
        actors[m.agency_id or m.province_id or m.commune_id] = m.user
    province_factor = {code: rng.uniform(0.55, 1.0) for code in Province.objects.values_list("code", flat=True)}
    agency_ids = list(Agency.objects.values_list("pk", flat=True))

    def at(day):
        moment = datetime.datetime.combine(day, datetime.time(rng.randint(7, 17), rng.randint(0, 59)))
        return timezone.make_aware(moment, tz)

    updates = []
    assignments = Assignment.objects.select_related("task__phase").order_by("pk")
    for a in assignments.iterator(chunk_size=2000):
        phase, deadline = a.task.phase, a.task.deadline
        start = phase.starts_on + datetime.timedelta(days=rng.randint(0, 12))
        if start > end:
            continue
        done_chance = 0.92 if phase.code == "urgent" else 0.7
        if a.level == "commune":
            done_chance *= province_factor[a.province_id]
        elif a.level == "province":
            done_chance *= 0.5 + province_factor[a.province_id] / 2
        actor = actors.get(a.agency_id or a.commune_id or a.province_id, fallback)
        events = []  # (day, status, progress, completed_on, blocked_by, reason)
        first = rng.choice((20, 30, 40, 50))
        events.append((start, AssignmentStatus.IN_PROGRESS, first, None, None, ""))
        if rng.random() < done_chance:
            if rng.random() < 0.78:
                finished = deadline - datetime.timedelta(days=rng.randint(0, 9))
            elif rng.random() < 0.6:
                finished = deadline + datetime.timedelta(days=1 + int(rng.expovariate(1 / 45)))
            else:  # a trickle of late completions up to now, so recent pace and forecasts are meaningful
                finished = deadline + datetime.timedelta(days=rng.randint(1, max(1, (end - deadline).days)))
            finished = min(max(finished, start + datetime.timedelta(days=1)), end)
            middle = start + (finished - start) / 2
            if middle > start:
                events.append((middle, AssignmentStatus.IN_PROGRESS, rng.choice((60, 70, 80)), None, None, ""))
            events.append((finished, AssignmentStatus.COMPLETED, 100, finished, None, ""))
        else:
            roll = rng.random()
            if roll < 0.1:
                events = []  # never started
            elif roll < 0.2:
                when = min(end, start + datetime.timedelta(days=rng.randint(5, 60)))
                blocker = rng.choice(agency_ids)
                events.append((when, AssignmentStatus.BLOCKED, first, None, blocker, "Chờ hướng dẫn, kinh phí"))
            else:
                when = min(end, start + datetime.timedelta(days=rng.randint(10, 120)))
                if when > start:
                    events.append((when, AssignmentStatus.IN_PROGRESS, rng.choice((60, 70, 80, 90)), None, None, ""))
        status, progress, version = a.status, a.progress, a.version
        for day, new_status, new_progress, completed_on, blocked_by, reason in events:
            version += 1
            updates.append(
                StatusUpdate(
                    assignment_id=a.pk,
                    actor=actor,
                    created_at=at(day),
                    old_status=status,
                    new_status=new_status,
                    old_progress=progress,
                    new_progress=new_progress,
                    completed_on=completed_on,
                    blocked_by_id=blocked_by,
                    blocked_reason=reason,
                    on_behalf=False,
                    version=version,
                    note="Cập nhật minh họa (demo)",
                )
            )
            status, progress = new_status, new_progress
    StatusUpdate.objects.bulk_create(updates, batch_size=2000)
    # The final state of each assignment is its latest history row: one set-based UPDATE.
    latest = StatusUpdate.objects.filter(assignment=OuterRef("pk")).order_by("-version")
    Assignment.objects.filter(pk__in=StatusUpdate.objects.values("assignment_id")).update(
        **{
            field: Subquery(latest.values(source)[:1])
            for field, source in (
                ("status", "new_status"),
                ("progress", "new_progress"),
                ("version", "version"),
                ("completed_on", "completed_on"),
                ("blocked_by", "blocked_by"),
                ("blocked_reason", "blocked_reason"),
                ("updated_at", "created_at"),
                ("updated_by", "actor"),
            )
        }
    )
    return len(updates)


# --- a local plan (DESIGN.md §13) --------------------------------------------------------------------------------

DEMO_PLAN_NUMBER = "98/KH-UBND (demo)"


def demo_plan_ensure(*, write=print) -> None:
    """A local plan of Hà Nội (demo) breaking its first province-level assignments into sub-tasks for its
    departments and communes, some of them under way (through the workflow service, so with history). Once."""
    from tasks.models import Level, LocalPlan
    from tasks.plans import plan_save, subtask_save
    from tasks.scoping import scope_for_user
    from tasks.services import subtask_update

    User = get_user_model()
    officer = User.objects.filter(username="province").first()
    clerk = User.objects.filter(username="commune").first()
    if officer is None or LocalPlan.objects.filter(province_id="01", number=DEMO_PLAN_NUMBER).exists():
        return
    scope, today = scope_for_user(officer), timezone.localdate()
    parents = list(
        Assignment.objects.filter(level=Level.PROVINCE, province_id="01")
        .select_related("task")
        .order_by("task__code")[:2]
    )
    if not parents:
        return
    communes = list(Commune.objects.filter(province_id="01").order_by("code").values_list("code", flat=True)[:4])
    with transaction.atomic():
        plan = plan_save(
            scope=scope,
            actor=officer,
            number=DEMO_PLAN_NUMBER,
            issued_on=today - datetime.timedelta(days=30),
            title="Kế hoạch triển khai Kế hoạch 02 trên địa bàn Thành phố Hà Nội (demo)",
            document_url="https://example.gov.vn/ha-noi/ke-hoach-98.pdf",
        )
        owners = [
            ({"department": "Sở Khoa học và Công nghệ"}, 3, 100),
            ({"department": "Sở Nội vụ"}, 2, 40),
            *(({"commune": code}, 1, progress) for code, progress in zip(communes, (60, 20, 0, 0), strict=False)),
        ]
        for index, parent in enumerate(parents):
            for number, (owner, weight, progress) in enumerate(owners if index == 0 else owners[:3]):
                subtask = subtask_save(
                    scope=scope,
                    plan=plan,
                    parent=parent,
                    title=f"{parent.task.code}.{number + 1} {parent.task.title_vi[:120]}",
                    deadline=parent.task.deadline,
                    weight=weight,
                    **owner,
                )
                if progress:
                    actor = clerk if owner.get("commune") == "00004" and clerk is not None else officer
                    done = progress == 100
                    subtask_update(
                        subtask=subtask,
                        actor=actor,
                        version=1,
                        status="completed" if done else "in_progress",
                        progress=progress,
                        completed_on=today - datetime.timedelta(days=2) if done else None,
                        note="Demo",
                    )
                elif index == 0 and owner.get("commune") and owner["commune"] == communes[-1]:
                    # One sub-task waits on a system: its blocked alert goes to the central support team.
                    subtask_update(
                        subtask=subtask,
                        actor=officer,
                        version=1,
                        status="blocked",
                        progress=5,
                        blocked_by_system="vneid",
                        blocked_reason="Chưa xác thực được tài khoản VNeID của cán bộ một cửa (demo)",
                    )
    write(f"demo local plan created: Hà Nội {DEMO_PLAN_NUMBER}")


# --- the plan's wider cast (DESIGN.md §13) -----------------------------------------------------------------------

DEMO_ALL_MINISTRIES_TASK = "M01"
# The demo steering user's working group, and one inactive demo member (cannot log in) for each other group.
DEMO_STEERING_GROUP = 4


def demo_actors_ensure(*, write=print) -> None:
    """Working groups with members, a task carried out by every ministry, and two blocked assignments — one
    waiting on a province, one on a system — through the workflow service (so with history). Once each."""
    from tasks.catalogue import sync_assignments
    from tasks.models import Phase, Task, TaskGroup, TaskLevel, WorkingGroup
    from tasks.services import assignment_update

    User = get_user_model()
    groups = {g.number: g for g in WorkingGroup.objects.all()}
    if not groups:
        return
    steering = Membership.objects.filter(user__username="steering", role=Role.STEERING).first()
    if steering is not None and steering.working_group_id is None:
        steering.working_group = groups.get(DEMO_STEERING_GROUP)
        steering.save(update_fields=["working_group"])
    for number, group in groups.items():
        if number == DEMO_STEERING_GROUP or group.members.exists():
            continue
        user, created = User.objects.get_or_create(
            username=f"demo-tct{number}",
            defaults={"first_name": "Thành viên", "last_name": f"Tổ công tác {number} (demo)", "is_active": False},
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            Membership.objects.create(user=user, role=Role.STEERING, working_group=group)

    if not Task.objects.filter(code=DEMO_ALL_MINISTRIES_TASK).exists() and Phase.objects.filter(code="breakthrough"):
        phase = Phase.objects.get(code="breakthrough")
        task = Task.objects.create(
            code=DEMO_ALL_MINISTRIES_TASK,
            title_vi="Các bộ, cơ quan ngang bộ kết nối hệ thống giải quyết thủ tục hành chính với Cổng Dịch vụ công "
            "quốc gia (demo)",
            title_en="Every ministry connects its procedure system to the National Public Service Portal (demo)",
            group=TaskGroup.objects.get(number=4),
            phase=phase,
            deadline=phase.deadline,
            level=TaskLevel.ALL_MINISTRIES,
            lead_agency=Agency.objects.get(code="VPCP"),
            is_official=False,
        )
        write(f"demo all_ministries task created: {task.code}, {sync_assignments(task)} assignments")

    agency_officer = User.objects.filter(username="agency").first()
    province_officer = User.objects.filter(username="province").first()
    if agency_officer is not None:
        waiting = (
            Assignment.objects.filter(task__code=DEMO_ALL_MINISTRIES_TASK, agency__code="BCA")
            .exclude(status=AssignmentStatus.BLOCKED)
            .first()
        )
        if waiting is not None and not Assignment.objects.filter(blocked_by_province__isnull=False).exists():
            assignment_update(
                assignment=waiting,
                actor=agency_officer,
                version=waiting.version,
                status=AssignmentStatus.BLOCKED,
                progress=waiting.progress,
                blocked_by_province=Province.objects.get(code="01"),
                blocked_reason="Chờ Hà Nội chuyển danh mục thủ tục đã rà soát (demo)",
                note="Demo",
            )
            write("demo blocker: BCA's part of M01 waits on Hà Nội")
    if province_officer is not None and not Assignment.objects.exclude(blocked_by_system="").exists():
        waiting = (
            Assignment.objects.filter(level="province", province_id="01")
            .exclude(status__in=(AssignmentStatus.BLOCKED, AssignmentStatus.COMPLETED))
            .order_by("task__code")
            .first()
        )
        if waiting is not None:
            assignment_update(
                assignment=waiting,
                actor=province_officer,
                version=waiting.version,
                status=AssignmentStatus.BLOCKED,
                progress=waiting.progress if waiting.status != AssignmentStatus.NOT_STARTED else 0,
                blocked_by_system="population_db",
                blocked_reason="Chưa kết nối được Cơ sở dữ liệu quốc gia về dân cư (demo)",
                note="Demo",
            )
            write(f"demo blocker: Hà Nội's {waiting.task.code} waits on the national population database")
