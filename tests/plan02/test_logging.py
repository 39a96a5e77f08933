"""Operations: a request id on every log line, errors mailed to the admins, e-mail settings from the
environment, and no key or password in any log or error mail."""

import io
import logging
import subprocess
import sys

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from core import env
from plan02.celery import app as celery_app
from tests.plan02.test_settings import PRODUCTION, _clean_environ

ADMINS = [("Plan 02 operations", "ops@example.gov.vn")]


@pytest.fixture
def log_output():
    """What the configured stdout handler writes, with its format and filters."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "stdout")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


@pytest.fixture
def browser():
    return Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def admins(settings):
    settings.ADMINS = ADMINS
    return ADMINS


# --- request id -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_log_line_of_a_request_carries_its_id(browser, steering, log_output):
    browser.force_login(steering)
    response = browser.get("/no-such-page/", HTTP_X_REQUEST_ID="lb-7f3a.42")
    assert response.status_code == 404
    assert response["X-Request-ID"] == "lb-7f3a.42"
    assert "WARNING [lb-7f3a.42] django.request Not Found: /no-such-page/" in log_output.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize("incoming", [None, "two words", "x" * 200, "<script>", "a\nforged line"])
def test_a_missing_or_odd_request_id_is_replaced_by_a_new_one(browser, incoming):
    headers = {} if incoming is None else {"HTTP_X_REQUEST_ID": incoming}
    first = browser.get("/accounts/login/", **headers)["X-Request-ID"]
    second = browser.get("/accounts/login/", **headers)["X-Request-ID"]
    assert first != incoming and len(first) == 32 and first.isalnum()
    assert first != second


def test_jobs_log_their_id_and_nothing_else_logs_dash(log_output):
    @celery_app.task(name="tests.logging_job")
    def logging_job():
        logging.getLogger("reports.jobs").warning("rebuilding")

    result = logging_job.apply()
    logging.getLogger("plan02").warning("between jobs")
    lines = log_output.getvalue().splitlines()
    assert f"WARNING [{result.id}] reports.jobs rebuilding" in " ".join(lines)
    assert any(line.endswith("WARNING [-] plan02 between jobs") for line in lines)


# --- errors reach the admins ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_failed_request_is_mailed_to_the_admins(browser, admins, steering, monkeypatch):
    from plan02 import views

    monkeypatch.setattr(views, "current_data_version", lambda: 1 / 0)
    browser.force_login(steering)
    assert browser.get("/", HTTP_X_REQUEST_ID="req-1").status_code == 500
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ops@example.gov.vn"]
    assert "Internal Server Error: /" in message.subject
    assert "ZeroDivisionError" in message.body


def test_a_jobs_logged_exception_is_mailed_to_the_admins(admins):
    try:
        raise RuntimeError("rollup failed")
    except RuntimeError:
        logging.getLogger("reports.jobs").exception("rollup of 01 on 2025-09-01 failed")
    assert [m.subject for m in mail.outbox] == ["[Django] ERROR: rollup of 01 on 2025-09-01 failed"]
    assert "RuntimeError" in mail.outbox[0].body and "rollup failed" in mail.outbox[0].body


def test_a_job_that_raises_is_mailed_to_the_admins(admins):
    @celery_app.task(name="tests.failing_job")
    def failing_job():
        raise RuntimeError("snapshot failed")

    failing_job.apply(throw=False)  # traced as a worker traces it, which logs the failure (celery.app.trace)
    assert len(mail.outbox) == 1
    assert "snapshot failed" in mail.outbox[0].body


@pytest.mark.django_db
def test_a_database_outage_is_not_mailed_once_per_request(browser, admins, monkeypatch, steering):
    from django.db import OperationalError
    from django.db.backends import utils

    browser.force_login(steering)

    def refuse(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(utils.CursorWrapper, "execute", refuse)
    for _ in range(3):
        assert browser.get("/").status_code == 503
    assert mail.outbox == []


# --- settings ---------------------------------------------------------------------------------------------


def test_admins_are_parsed_from_the_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_ADMINS", "Nguyễn Văn An <an@example.gov.vn>, ops@example.gov.vn,")
    assert env.env_admins("DJANGO_ADMINS") == [
        ("Nguyễn Văn An", "an@example.gov.vn"),
        ("ops@example.gov.vn", "ops@example.gov.vn"),
    ]


@pytest.mark.parametrize("value", ["Nguyễn Văn An", "An <an@>", "<an@example.gov.vn>", "An <an example.gov.vn>"])
def test_a_bad_admin_names_the_variable(monkeypatch, value):
    monkeypatch.setenv("DJANGO_ADMINS", value)
    with pytest.raises(ImproperlyConfigured, match="DJANGO_ADMINS"):
        env.env_admins("DJANGO_ADMINS")


EMAIL_SCRIPT = (
    "import json; from django.conf import settings as s; print(json.dumps({n: getattr(s, n) for n in ["
    "'EMAIL_BACKEND', 'EMAIL_HOST', 'EMAIL_PORT', 'EMAIL_HOST_USER', 'EMAIL_USE_TLS', 'DEFAULT_FROM_EMAIL', "
    "'SERVER_EMAIL', 'EMAIL_FILE_PATH', 'ADMINS']}))"
)


def _email_settings(**environ):
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", EMAIL_SCRIPT],
        capture_output=True,
        text=True,
        env=_clean_environ(**PRODUCTION, **environ),
        timeout=120,
    )
    return result


def test_email_settings_come_from_the_environment():
    import json

    result = _email_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="smtp.example.gov.vn",
        EMAIL_PORT="587",
        EMAIL_HOST_USER="plan02",
        EMAIL_HOST_PASSWORD="smtp-secret",
        EMAIL_USE_TLS="true",
        DEFAULT_FROM_EMAIL="Plan 02 <plan02@example.gov.vn>",
        SERVER_EMAIL="plan02-errors@example.gov.vn",
        DJANGO_ADMINS="Ops <ops@example.gov.vn>",
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example.gov.vn",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "plan02",
        "EMAIL_USE_TLS": True,
        "DEFAULT_FROM_EMAIL": "Plan 02 <plan02@example.gov.vn>",
        "SERVER_EMAIL": "plan02-errors@example.gov.vn",
        "EMAIL_FILE_PATH": None,
        "ADMINS": [["Ops", "ops@example.gov.vn"]],
    }


def test_the_console_backend_is_the_default_and_the_old_variable_still_works():
    import json

    default = json.loads(_email_settings().stdout.strip().splitlines()[-1])
    assert default["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    old = json.loads(
        _email_settings(DJANGO_EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend").stdout.splitlines()[-1]
    )
    assert old["EMAIL_BACKEND"] == "django.core.mail.backends.dummy.EmailBackend"


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend"}, "EMAIL_FILE_PATH"),
        ({"EMAIL_BACKEND": "a.B", "DJANGO_EMAIL_BACKEND": "c.D"}, "DJANGO_EMAIL_BACKEND"),
        ({"EMAIL_PORT": "smtp"}, "EMAIL_PORT"),
        ({"DJANGO_ADMINS": "ops"}, "DJANGO_ADMINS"),
    ],
)
def test_bad_email_settings_stop_the_process_naming_the_variable(environ, named):
    result = _email_settings(**environ)
    assert result.returncode != 0
    assert named in result.stderr


# --- no key or password in the logs -----------------------------------------------------------------------


@pytest.fixture
def everything_logged(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def _leaks(secret, caplog):
    bodies = [m.body for m in mail.outbox] + [str(a[0]) for m in mail.outbox for a in m.alternatives]
    return [where for where, text in [("log", caplog.text), *(("mail", b) for b in bodies)] if secret in text]


@pytest.mark.django_db
def test_issuing_a_key_logs_no_key(client, admins, province_officer, everything_logged):
    client.force_login(province_officer)
    response = client.post("/reports/keys/", {"name": "Ba Đình desk", "locality": "00004"})
    key = response.context["key"]
    assert key in response.text
    assert _leaks(key, everything_logged) == []


@pytest.mark.django_db
def test_a_failed_login_logs_no_password(client, admins, province_officer, everything_logged):
    for _ in range(6):  # past the lockout too
        client.post("/accounts/login/", {"username": province_officer.username, "password": "Hanoi-Guess-2025!"})
    assert everything_logged.records  # axes and django.request did log
    assert _leaks("Hanoi-Guess-2025!", everything_logged) == []


@pytest.mark.django_db
@pytest.mark.parametrize("where", ["view", "authentication"])
def test_a_failed_request_with_a_key_logs_and_mails_no_key(browser, admins, monkeypatch, everything_logged, where):
    from reports import auth, services

    _client, key = services.api_client_issue(name="Ba Đình desk", locality="00004")
    if where == "view":
        monkeypatch.setattr(services, "daily_report_submit", lambda **kwargs: 1 / 0)
    else:
        auth.keys_forget()
        monkeypatch.setattr(auth, "lookup_client", lambda key_hash: 1 / 0)
    response = browser.post(
        "/api/v1/reports/daily/",
        {"locality": "00004"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {key}",
    )
    assert response.status_code == 500
    assert len(mail.outbox) == 1 and "ZeroDivisionError" in mail.outbox[0].body
    assert _leaks(key, everything_logged) == []
    assert _leaks(key[4:20], everything_logged) == []


@pytest.mark.django_db
def test_a_failed_page_mails_no_session_cookie(browser, admins, steering, monkeypatch):
    from plan02 import views

    monkeypatch.setattr(views, "current_data_version", lambda: 1 / 0)
    browser.force_login(steering)
    session = browser.cookies["sessionid"].value
    assert browser.get("/").status_code == 500
    assert len(mail.outbox) == 1 and "ZeroDivisionError" in mail.outbox[0].body
    assert session not in mail.outbox[0].body
