"""The whole-response cache of the dashboards read most (core.pagecache): a session reading a page again
is answered with one query (the generations), with 304 when it has the page already; and never with what it
may no longer see, what another session saw, or numbers older than the rollups."""

import copy
import datetime
import types

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.cookie import CookieStorage
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core import pagecache
from dashboards.rollups import rollup_rebuild
from tasks.models import Membership, Role
from tests.reports.factories import make_report

pytestmark = pytest.mark.django_db
HIT = 1  # a page answered from the cache costs one query: the generations it was built under
PAGES = ["/dashboard/", "/dashboard/phases/", "/dashboard/provinces/"]
JSON = ["/api/v1/dashboard/national/", "/api/v1/dashboard/phases/", "/api/v1/dashboard/provinces/"]


def signed_in(user, **headers):
    client = Client(**headers)
    client.force_login(user)
    return client


def warm(client, path):
    """The first answer teaches the process that the path is kept; the second is kept."""
    for _ in range(2):
        assert client.get(path).status_code == 200


def queries_of(client, path, **headers):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, **headers)
    return response, len(queries.captured_queries)


@pytest.mark.parametrize("path", PAGES + JSON)
def test_a_session_reads_a_dashboard_again_with_one_query(steering, path):
    client = signed_in(steering)
    warm(client, path)
    first = client.get(path)
    response, queries = queries_of(client, path)
    assert queries == HIT
    assert response.status_code == 200 and response.content == first.content
    assert response["ETag"] == first["ETag"] and "private" in response["Cache-Control"]
    assert response["Content-Type"] == first["Content-Type"]
    assert response["X-Request-ID"] != first["X-Request-ID"]  # each answer has its own id
    assert "Content-Security-Policy" in response or path.startswith("/api/")
    assert not response.cookies


def test_a_browser_that_has_the_page_gets_304(steering):
    client = signed_in(steering)
    warm(client, "/dashboard/")
    etag = client.get("/dashboard/")["ETag"]
    response, queries = queries_of(client, "/dashboard/", HTTP_IF_NONE_MATCH=etag)
    assert (response.status_code, response.content, queries) == (304, b"", HIT)
    assert response["ETag"] == etag
    assert client.get("/dashboard/", HTTP_IF_NONE_MATCH='"another"').status_code == 200


def test_the_first_answer_already_carries_the_etag_and_honours_it(steering):
    client = signed_in(steering)
    etag = client.get("/api/v1/dashboard/phases/")["ETag"]
    assert etag
    assert client.get("/api/v1/dashboard/phases/", HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_a_rollup_rebuild_shows_at_once(steering, django_capture_on_commit_callbacks):
    day = timezone.localdate() - datetime.timedelta(days=1)
    client = signed_in(steering)
    path = f"/api/v1/dashboard/national/?date={day}"
    warm(client, path)
    before = client.get(path).json()["totals"]["received_direct"]
    make_report("00004", day, received_direct=5000)
    with django_capture_on_commit_callbacks(execute=True):
        rollup_rebuild(province_id="01", day=day)
    assert client.get(path).json()["totals"]["received_direct"] == before + 5000


def test_sessions_never_share_a_page(steering, inspector):
    one, other = signed_in(steering), signed_in(inspector)
    warm(one, "/dashboard/")
    warm(other, "/dashboard/")
    assert steering.username in one.get("/dashboard/").text
    page = other.get("/dashboard/").text
    assert inspector.username in page and steering.username not in page


def test_a_logged_out_session_is_not_answered_from_the_cache(steering):
    client = signed_in(steering)
    warm(client, "/dashboard/")
    stolen = Client()
    stolen.cookies = copy.deepcopy(client.cookies)  # the same cookies, kept after the logout
    client.post("/accounts/logout/")
    response = stolen.get("/dashboard/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_new_password_ends_the_other_sessions_cached_pages(steering, django_capture_on_commit_callbacks):
    client = signed_in(steering)
    warm(client, "/dashboard/")
    with django_capture_on_commit_callbacks(execute=True):
        steering.set_password("another-" + "p" * 12)
        steering.save()
    response = client.get("/dashboard/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_role_taken_away_is_seen_at_once(steering, django_capture_on_commit_callbacks):
    client = signed_in(steering)
    warm(client, "/api/v1/dashboard/national/")
    _response, queries = queries_of(client, "/api/v1/dashboard/national/")
    assert queries == HIT
    with django_capture_on_commit_callbacks(execute=True):
        Membership.objects.filter(user=steering).update(role=Role.INSPECTOR)  # no signal: not seen…
        Membership.objects.get(user=steering).save()  # …until a save, as every service and the admin do
    _response, queries = queries_of(client, "/api/v1/dashboard/national/")
    assert queries > HIT


def test_a_page_with_flash_messages_is_built_in_full(steering, settings):
    client = signed_in(steering)
    warm(client, "/dashboard/")
    request = HttpRequest()
    storage = CookieStorage(request)
    storage.add(constants.SUCCESS, "Saved: a message for this page")
    response = HttpResponse()
    storage.update(response)
    client.cookies["messages"] = response.cookies["messages"].value
    page, queries = queries_of(client, "/dashboard/")
    assert queries > HIT and "Saved: a message for this page" in page.text


def test_each_language_has_its_own_page(steering, settings):
    client = signed_in(steering)
    warm(client, "/dashboard/")
    vietnamese = client.get("/dashboard/")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    warm(client, "/dashboard/")
    english = client.get("/dashboard/")
    assert vietnamese["Content-Language"] == "vi" and english["Content-Language"] == "en"
    assert vietnamese.content != english.content


def test_an_expired_session_is_not_answered_from_the_cache(steering, monkeypatch):
    client = signed_in(steering)
    warm(client, "/dashboard/")
    later = timezone.now() + datetime.timedelta(days=400)
    clock = types.SimpleNamespace(
        time=later.timestamp, monotonic=pagecache.time.monotonic, time_ns=pagecache.time.time_ns
    )
    monkeypatch.setattr(pagecache, "time", clock)
    _response, queries = queries_of(client, "/dashboard/")
    assert queries > HIT  # the full stack, which finds the session expired in the database


def test_an_unreachable_cache_leaves_every_page_working(steering, monkeypatch, caplog):
    client = signed_in(steering)
    warm(client, "/dashboard/")

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(pagecache.cache, "get", down)
    monkeypatch.setattr(pagecache, "_down_until", 0.0)
    response, queries = queries_of(client, "/dashboard/")
    assert response.status_code == 200 and queries > HIT
    assert "page cache unreachable" in caplog.text
    assert pagecache._down_until > pagecache.time.monotonic()  # not tried again for a few seconds


def test_api_key_calls_and_exports_are_not_kept(steering, province_key):
    api = Client(HTTP_AUTHORIZATION=f"Token {province_key[1]}")
    for _ in range(3):
        assert api.get("/api/v1/dashboard/national/").status_code == 200
    _response, queries = queries_of(api, "/api/v1/dashboard/national/")
    assert queries > HIT
    client = signed_in(steering)
    warm(client, "/dashboard/?export=xlsx")
    response, queries = queries_of(client, "/dashboard/?export=xlsx")
    assert queries > HIT and "ETag" not in response


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/dashboard/", "/api/v1/dashboard/national/"])
def test_a_connection_broken_since_its_last_use_is_replaced_on_the_hit_path(postgresql, steering, path):
    """The hit path skips Django's health check (one round trip) because its own read is the check: a
    connection the server ended since its last use (as a restart does) is replaced and the page answered."""
    import psycopg
    from django.conf import settings

    client = signed_in(steering)
    warm(client, path)
    first = client.get(path)
    pid = connection.connection.info.backend_pid
    params = settings.DATABASES["default"]
    with psycopg.connect(
        host=params["HOST"], port=params["PORT"] or 5432, user=params["USER"], dbname=connection.settings_dict["NAME"]
    ) as other:
        assert other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
    response, queries = queries_of(client, path)
    assert response.status_code == 200 and response.content == first.content
    assert connection.connection.info.backend_pid != pid  # a new connection answered
    assert queries == HIT + 1  # the read that found the connection broken, and the one that answered
