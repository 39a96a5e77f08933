"""Shared fixtures: reference data from the project's fixtures (loaded once per test database) and the
personas of STYLE.md — a national admin, a steering member, an inspector, an agency officer, a province
officer, a commune clerk, and outsiders who must be refused."""

import os

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from plan02.celery import app as celery_app
from reports.services import api_client_issue
from tasks.models import Membership, Role

DEMO_CATALOGUE = settings.BASE_DIR / "fixtures" / "demo_tasks.csv"


def load_reference_data():
    """Provinces, communes, groups, phases, agencies and the demo catalogue — only what is missing."""
    from dashboards.targets import targets_load
    from localities.services import localities_load
    from support.categories import categories_load
    from tasks.catalogue import apply_import, plan_import
    from tasks.models import Task
    from tasks.reference import reference_load

    localities_load()
    reference_load()
    targets_load()
    categories_load()
    if not Task.objects.exists():
        apply_import(plan_import(DEMO_CATALOGUE), actor_name="tests", filename=str(DEMO_CATALOGUE))


def require(*needs):
    """For tests marked `services`: needs are (what, present) pairs. A missing one skips the test, or fails
    it when PLAN02_REQUIRE_SERVICES=1 (CI), so that CI never passes by skipping."""
    missing = [what for what, present in needs if not present]
    if missing:
        message = "needs " + ", ".join(missing)
        if os.environ.get("PLAN02_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def postgresql():
    """Tests of PostgreSQL's concurrency (SQLite serialises every writer: there is no race to test there)."""
    from django.db import connection

    require(("PostgreSQL (DATABASE_URL=postgres://…)", connection.vendor == "postgresql"))


@pytest.fixture(scope="session", autouse=True)
def _flush_as_the_superuser():
    """Transactional tests (live server, threads) are followed by Django's flush, a TRUNCATE of every table,
    which the reports' triggers refuse on PostgreSQL (reports migration 0007). The test database is the
    superuser's: its flush passes with session_replication_role = replica for its transaction, which keeps
    ordinary triggers from firing (only a superuser may set it; only the tests' flush does)."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        replica, default = (
            "SET LOCAL session_replication_role = replica",
            "SET LOCAL session_replication_role = DEFAULT",
        )
        return original(self, [replica, *sql_list, default])

    DatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    DatabaseOperations.execute_sql_flush = original


@pytest.fixture
def frozen_throttle_window(monkeypatch):
    """The throttle counts per fixed window of the clock (core.throttling): frozen in the middle of nothing, so a
    window cannot turn between a test's requests (at a minute's edge the count would start again)."""
    import types

    from core import throttling

    monkeypatch.setattr(throttling, "time", types.SimpleNamespace(time=lambda: 1_800_000_000.0))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        load_reference_data()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (dashboards, throttling)."""
    from django.core.cache import cache

    from localities.services import locality_index_clear

    cache.clear()
    locality_index_clear()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the portal's default language (Vietnamese), whatever the one before it left active:
    the tests run in parallel processes, in no fixed order."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _eager_celery(settings):
    """Jobs run in-process unless a test starts a real worker (tests marked `services`)."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    settings.CELERY_TASK_ALWAYS_EAGER = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def reference_data(transactional_db):
    """For transactional tests (live server, threads): the flush between them empties the tables."""
    load_reference_data()


def make_user(username, role, *, agency=None, province=None, commune=None, password="pw-" + "x" * 12):
    from localities.models import Commune, Province
    from tasks.models import Agency

    user = get_user_model().objects.create_user(username=username, password=password)
    Membership.objects.create(
        user=user,
        role=role,
        agency=Agency.objects.get(code=agency) if agency else None,
        province=Province.objects.get(code=province) if province else None,
        commune=Commune.objects.get(code=commune) if commune else None,
    )
    return user


@pytest.fixture
def admin_user(db):
    user = make_user("nat-admin", Role.ADMIN)
    user.is_staff = user.is_superuser = True
    user.save()
    return user


@pytest.fixture
def steering(db):
    return make_user("steering-member", Role.STEERING)


@pytest.fixture
def inspector(db):
    return make_user("inspector-1", Role.INSPECTOR)


@pytest.fixture
def agency_officer(db):
    """An officer of the Ministry of Public Security (BCA), which leads several demo tasks."""
    return make_user("officer-bca", Role.AGENCY_OFFICER, agency="BCA")


@pytest.fixture
def other_agency_officer(db):
    """An officer of the Supreme People's Court (TANDTC): leads T57 only."""
    return make_user("officer-tandtc", Role.AGENCY_OFFICER, agency="TANDTC")


@pytest.fixture
def province_officer(db):
    """An officer of Hà Nội (01)."""
    return make_user("officer-hanoi", Role.PROVINCE_OFFICER, province="01")


@pytest.fixture
def outsider_province_officer(db):
    """An officer of Hồ Chí Minh City (79): must not see or change Hà Nội's data."""
    return make_user("officer-hcm", Role.PROVINCE_OFFICER, province="79")


@pytest.fixture
def commune_clerk(db):
    """A clerk of Phường Ba Đình (00004, Hà Nội)."""
    return make_user("clerk-badinh", Role.COMMUNE_CLERK, commune="00004")


@pytest.fixture
def other_commune_clerk(db):
    """A clerk of Phường Ngọc Hà (00008, also Hà Nội): a neighbour, not Ba Đình."""
    return make_user("clerk-ngocha", Role.COMMUNE_CLERK, commune="00008")


# --- API keys ------------------------------------------------------------------------------------------


@pytest.fixture
def commune_key(db):
    """A key of Phường Ba Đình (00004, Hà Nội): (ApiClient, key)."""
    return api_client_issue(name="Ba Đình one-stop desk", locality="00004")


@pytest.fixture
def other_commune_key(db):
    """A key of Phường Ngọc Hà (00008, Hà Nội)."""
    return api_client_issue(name="Ngọc Hà one-stop desk", locality="00008")


@pytest.fixture
def province_key(db):
    """A key of Hà Nội (01): may send for the province and its 126 communes."""
    return api_client_issue(name="Hà Nội procedure system", locality="01")


@pytest.fixture
def outsider_province_key(db):
    """A key of Hồ Chí Minh City (79): must not send for Hà Nội."""
    return api_client_issue(name="HCMC procedure system", locality="79")


@pytest.fixture
def api_for():
    """api_for(key) -> an APIClient sending `Authorization: Token <key>`; api_for(user=...) a session."""

    def make(key=None, *, user=None, language="en"):
        client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
        if key is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        if user is not None:
            client.force_login(user)
        return client

    return make


def inflated_xlsx(workbook_bytes, *, padding_bytes=3 * 1024 * 1024):
    """A workbook with one more part: `padding_bytes` zeros that deflate to a few kilobytes, as the parts of
    a decompression bomb do (a ratio near 1000 to 1)."""
    import io
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(workbook_bytes))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            target.writestr(member, source.read(member))
        target.writestr("xl/media/padding.bin", b"\0" * padding_bytes)
    return out.getvalue()


@pytest.fixture(autouse=True)
def _default_form_only():
    """The versions of the report form a process caches (reports.formspec): each test starts with the default
    form only, known without a query, so query counts hold; a test that imports a version makes the cache read
    the database again (formspec.forget(), as the import does)."""
    from reports import formspec

    formspec.pin_default()
    yield
    formspec.pin_default()
