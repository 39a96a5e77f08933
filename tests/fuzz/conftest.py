"""The world the fuzz tests run in: the personas of tests/conftest.py, two API keys and a little of everything
the API shows (reports, a support request, assignment history, alerts and notifications, a meeting), made
once for the module inside a transaction that is rolled back at its end. Each test runs in a savepoint of
it (pytest-django's `db`), so what one test's requests write is gone before the next.

`targets` names existing objects for the path parameters of each operation, so that generated addresses
reach real objects too (test_api_fuzz.map_path_parameters), not only 404s."""

import datetime
from dataclasses import dataclass, field

import pytest
from django.db import transaction
from django.test import Client, override_settings
from django.utils import timezone

from plan02.celery import app as celery_app
from tasks.models import Role
from tests.conftest import make_user

# A CSRF secret of the right length (32), sent as the cookie and as the header: Django compares the two.
CSRF_SECRET = "fuzz" * 8

# name -> how make_user creates the persona (tests/conftest.py's fixtures of the same name).
PERSONAS = {
    "commune_clerk": ("clerk-badinh", Role.COMMUNE_CLERK, {"commune": "00004"}),
    "province_officer": ("officer-hanoi", Role.PROVINCE_OFFICER, {"province": "01"}),
    "agency_officer": ("officer-bca", Role.AGENCY_OFFICER, {"agency": "BCA"}),
    "steering": ("steering-member", Role.STEERING, {}),
    "inspector": ("inspector-1", Role.INSPECTOR, {}),
    "admin_user": ("nat-admin", Role.ADMIN, {}),
    "support_member": ("support-1", Role.SUPPORT, {}),
}
# name -> the locality of the key.
KEYS = {"province_key": "01", "commune_key": "00004"}


@dataclass
class World:
    credentials: dict = field(default_factory=dict)  # name -> {"headers": {...}, "cookies": {...}}
    users: dict = field(default_factory=dict)  # persona name -> User
    targets: dict = field(default_factory=dict)  # operation path -> [path parameters of existing objects]


def session_credential(user):
    browser = Client()
    browser.force_login(user)
    return {
        "headers": {"X-CSRFToken": CSRF_SECRET},
        "cookies": {"sessionid": browser.cookies["sessionid"].value, "csrftoken": CSRF_SECRET},
    }


def build_world():
    from alerts.models import Alert, Notification
    from alerts.rules import Rule
    from alerts.services.runs import alerts_run
    from dashboards.meetings import meeting_create
    from reports import services as reports
    from reports.models import QualityBand
    from tasks.models import Agency, Assignment, Phase
    from tasks.scoping import scope_for_user
    from tasks.services import assignment_update
    from tests.reports.helpers import payload

    world = World()
    for name, (username, role, unit) in PERSONAS.items():
        user = make_user(username, role, **unit)
        if role == Role.ADMIN:
            user.is_staff = user.is_superuser = True
            user.save()
        world.users[name] = user
        world.credentials[name] = session_credential(user)
    clients = {}
    for name, locality in KEYS.items():
        clients[name], key = reports.api_client_issue(name=f"fuzz {name}", locality=locality)
        world.credentials[name] = {"headers": {"Authorization": f"Token {key}"}, "cookies": {}}

    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    # A quality band that Ba Đình's report falls outside: an open warning to explain (reports.quality).
    QualityBand.objects.create(
        locality="00004",
        province_id="01",
        indicator="received_online",
        median=20,
        mad=2,
        low=13,
        high=27,
        days=28,
        source="own",
        computed_at=timezone.now(),
    )
    asking = reports.daily_report_submit(
        payload=payload("00004", yesterday, support_needed=True, difficulties="The scanner is broken."),
        client=clients["commune_key"],
    )
    reports.daily_report_submit(payload=payload("01", yesterday), client=clients["province_key"])

    bca_t15 = Assignment.objects.get(task__code="T15", agency__code="BCA")
    badinh_t30 = Assignment.objects.get(task__code="T30", commune_id="00004")
    hanoi = Assignment.objects.filter(province_id="01", commune__isnull=True).order_by("pk").first()
    assignment_update(
        assignment=bca_t15,
        actor=world.users["agency_officer"],
        version=bca_t15.version,
        status="blocked",
        progress=40,
        blocked_by=Agency.objects.get(code="VPCP"),
        blocked_reason="Waiting for the Government Office's decree.",
        refresh_dashboards=False,
    )
    assignment_update(
        assignment=badinh_t30,
        actor=world.users["commune_clerk"],
        version=badinh_t30.version,
        status="in_progress",
        progress=60,
        note="Address published on the ward's page.",
        refresh_dashboards=False,
    )
    alerts_run(rules=[Rule.SUPPORT_NEEDED, Rule.BLOCKED], trigger="fuzz tests")
    meeting = meeting_create(
        scope=scope_for_user(world.users["steering"]),
        actor=world.users["steering"],
        title="Fuzz review",
        date=yesterday.isoformat(),
    )

    # The operations desk: an incident of Ba Đình (one with a team), one of Hà Nội itself, a team.
    from support.models import Team
    from support.services import incident_assign, incident_open

    team = Team.objects.create(name="Fuzz team", province_id="01")
    incidents = [
        incident_open(actor=world.users["commune_clerk"], category="network", severity="blocking", description="x"),
        incident_open(actor=world.users["province_officer"], category="power", severity="question", description="y"),
    ]
    incident_assign(incident=incidents[0], actor=world.users["province_officer"], team=team.pk)
    # A local plan of Hà Nội with a department's and Ba Đình's sub-tasks, and an inspection with a finding
    # (DESIGN.md §13).
    from inspections.services import finding_create, inspection_create
    from tasks.plans import plan_save, subtask_save

    officer = world.users["province_officer"]
    plan = plan_save(
        scope=scope_for_user(officer), actor=officer, number="98/KH", issued_on=yesterday, title="Fuzz plan"
    )
    hanoi_t18 = Assignment.objects.get(task__code="T18", province_id="01", level="province")
    subtasks = [
        subtask_save(
            scope=scope_for_user(officer),
            plan=plan,
            parent=hanoi_t18,
            title="Fuzz",
            deadline=yesterday,
            weight=2,
            **owner,
        )
        for owner in ({"department": "Sở KH&CN"}, {"commune": "00004"})
    ]
    inspector = world.users["inspector"]
    inspection = inspection_create(
        scope=scope_for_user(inspector),
        actor=inspector,
        title="Fuzz inspection",
        starts_on=yesterday,
        ends_on=yesterday,
        provinces=["01"],
        communes=["00004"],
        tasks=["T18"],
    )
    finding_create(
        scope=scope_for_user(inspector),
        actor=inspector,
        inspection=inspection,
        unit="00004",
        visited_on=yesterday,
        text="No scanner.",
        severity="high",
        recommendation="Buy one.",
        deadline=yesterday,
    )

    report_id = reports.DailyReport.objects.get(receipt=asking.receipt).pk
    alert_ids = list(Alert.objects.order_by("pk").values_list("pk", flat=True)[:4])
    notification_ids = list(Notification.objects.order_by("pk").values_list("pk", flat=True)[:4])
    ids = lambda values: [{"id": value} for value in values]  # noqa: E731
    assignments = ids([bca_t15.pk, badinh_t30.pk, hanoi.pk])
    world.targets = {
        "/api/v1/provinces/{code}/": [{"code": "01"}, {"code": "79"}],
        "/api/v1/communes/{code}/": [{"code": "00004"}, {"code": "00008"}],
        "/api/v1/groups/{number}/": [{"number": 1}, {"number": 3}],
        "/api/v1/phases/{code}/": [{"code": code} for code in Phase.objects.values_list("code", flat=True)[:2]],
        "/api/v1/agencies/{code}/": [{"code": "BCA"}, {"code": "VPCP"}],
        "/api/v1/tasks/{code}/": [{"code": "T15"}, {"code": "T30"}],
        "/api/v1/assignments/{id}/": assignments,
        "/api/v1/assignments/{id}/updates/": assignments,
        "/api/v1/reports/daily/{locality}/{date}/": [
            {"locality": "00004", "date": yesterday.isoformat()},
            {"locality": "01", "date": yesterday.isoformat()},
        ],
        "/api/v1/reports/daily/{locality}/{date}/explanations/": [
            {"locality": "00004", "date": yesterday.isoformat()},
            {"locality": "01", "date": yesterday.isoformat()},
        ],
        "/api/v1/alerts/{id}/": ids(alert_ids),
        "/api/v1/notifications/{id}/read/": ids(notification_ids),
        "/api/v1/support-requests/{id}/": ids([report_id]),
        "/api/v1/support-requests/{id}/close/": ids([report_id]),
        "/api/v1/meetings/{id}/": ids([meeting.pk]),
        "/api/v1/meetings/{id}/changes/": ids([meeting.pk]),
        "/api/v1/teams/{id}/": ids([team.pk]),
        "/api/v1/incidents/{id}/": ids([i.pk for i in incidents]),
        **{
            f"/api/v1/incidents/{{id}}/{step}/": ids([i.pk for i in incidents])
            for step in ("acknowledge", "assign", "escalate", "resolve", "close", "reopen", "comments")
        },
        "/api/v1/plans/{id}/": ids([plan.pk]),
        "/api/v1/subtasks/{id}/": ids([s.pk for s in subtasks]),
        "/api/v1/subtasks/{id}/updates/": ids([s.pk for s in subtasks]),
        "/api/v1/inspections/{id}/": ids([inspection.pk]),
        "/api/v1/inspections/{id}/findings/": ids([inspection.pk]),
    }
    assert all(world.targets.values()), world.targets
    return world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The module's data (see the module's docstring), rolled back when the module is done."""
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True  # no job leaves the process, whatever REDIS_URL says
    try:
        # A fast hasher for the personas' passwords (PBKDF2 would take seconds).
        hashers = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
        with django_db_blocker.unblock(), transaction.atomic(), hashers:
            yield build_world()
            transaction.set_rollback(True)
    finally:
        celery_app.conf.task_always_eager = eager


@pytest.fixture
def fuzz_world(world, db):
    """The module's data, in a savepoint of this test."""
    return world


@pytest.fixture
def in_process_wsgi():
    """Schemathesis calls the WSGI application itself, and Django's request_started and request_finished
    signals run close_old_connections, which would close the test's connection in the middle of its
    transaction (on PostgreSQL: the transaction is not in autocommit; SQLite's in-memory database ignores
    it). Django's test client leaves that handler out in the same way."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
