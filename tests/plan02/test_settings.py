import json
import os
import subprocess
import sys
import tempfile

import pytest
from django.core.exceptions import ImproperlyConfigured

from core import env


@pytest.mark.parametrize(
    ("name", "value", "reader"),
    [
        ("DJANGO_DEBUG", "maybe", lambda: env.env_bool("DJANGO_DEBUG", True)),
        ("DEMO_DAYS", "thirty", lambda: env.env_int("DEMO_DAYS", 30)),
        ("DEMO_DAYS", "-1", lambda: env.env_int("DEMO_DAYS", 30, minimum=0)),
        ("DATABASE_URL", "mysql://u@h/db", lambda: env.env_database("DATABASE_URL", {})),
        ("DATABASE_URL", "postgres://u@h:5432/", lambda: env.env_database("DATABASE_URL", {})),
        ("REDIS_URL", "http://localhost:6379", lambda: env.env_redis_url("REDIS_URL")),
        ("REDIS_URL", "redis://localhost:notaport/0", lambda: env.env_redis_url("REDIS_URL")),
    ],
)
def test_bad_value_names_the_variable(monkeypatch, name, value, reader):
    monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=name):
        reader()


def test_unset_values_fall_back_to_embedded_defaults(monkeypatch):
    for name in ("DJANGO_DEBUG", "DEMO_DAYS", "DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    assert env.env_bool("DJANGO_DEBUG", True) is True
    assert env.env_int("DEMO_DAYS", 30) == 30
    assert env.env_database("DATABASE_URL", {"ENGINE": "sqlite"}) == {"ENGINE": "sqlite"}
    assert env.env_redis_url("REDIS_URL") is None


def test_postgres_url_is_parsed(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/plan02")
    config = env.env_database("DATABASE_URL", {})
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["NAME"] == "plan02"


def _manage_check(**overrides):
    environ = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    environ.update(overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check"], capture_output=True, text=True, env=environ, timeout=120
    )


def test_process_refuses_to_start_with_a_bad_value_and_says_which():
    result = _manage_check(DJANGO_DEBUG="sometimes")
    assert result.returncode != 0
    assert "DJANGO_DEBUG" in result.stderr


# A deployment names its database; `manage.py check` does not connect to it.
DEPLOYED_DATABASE = "postgres://plan02@db.example.gov.vn:5432/plan02"


def test_production_needs_a_secret_key():
    result = _manage_check(DJANGO_DEBUG="false", DJANGO_SECRET_KEY="", DATABASE_URL=DEPLOYED_DATABASE)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false." in result.stderr


def test_the_embedded_mode_makes_its_key_once(tmp_path):
    # No database URL: the laptop. Its key is made in var/ (owner-only) and the next process reads it back.
    def key():
        result = _manage_check(DJANGO_DEBUG="false", DJANGO_SECRET_KEY="", PLAN02_VAR_DIR=str(tmp_path))
        assert result.returncode == 0, result.stderr
        return (tmp_path / "secret_key").read_text()

    first = key()
    assert len(first.strip()) >= 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert key() == first


def test_settings_defaults(settings):
    assert settings.TIME_ZONE == "Asia/Ho_Chi_Minh"
    assert settings.LANGUAGE_CODE == "vi"
    assert [code for code, _ in settings.LANGUAGES] == ["vi", "en"]


# --- production defaults (issue 12) -------------------------------------------------------------------------

PRODUCTION = {
    "DJANGO_SECRET_KEY": "prod-like-key-" + "k7Q2x9Vb" * 8,
    "DJANGO_ALLOWED_HOSTS": "plan02.example.gov.vn",
    "DATABASE_URL": DEPLOYED_DATABASE,
}


_VAR_DIR = tempfile.TemporaryDirectory(prefix="plan02-var-")  # removed when the test process ends


def _clean_environ(**overrides):
    """The environment of a fresh deployment: none of the project's variables (pytest-env sets some). Its var/
    is a throwaway one (the embedded mode makes its key there)."""
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PLAN02_", "EMAIL_")) and k not in {"DATABASE_URL", "REDIS_URL"}
    }
    environ["PLAN02_VAR_DIR"] = _VAR_DIR.name
    environ.update(overrides)
    return environ


SETTINGS_SCRIPT = (
    "import json; from django.conf import settings as s; print(json.dumps({n: getattr(s, n) for n in ["
    "'DEBUG', 'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', "
    "'SECURE_HSTS_PRELOAD', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_PROXY_SSL_HEADER', "
    "'SECRET_KEY_FALLBACKS', 'DEMO_DATA_ALLOWED']}))"
)


def _settings_of(**environ):
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SETTINGS_SCRIPT],
        capture_output=True,
        text=True,
        env=_clean_environ(**environ),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_debug_is_off_and_https_is_enforced_when_nothing_is_set():
    values = _settings_of(**PRODUCTION)
    assert values["DEBUG"] is False
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True and values["SECURE_HSTS_PRELOAD"] is True
    assert values["SESSION_COOKIE_SECURE"] is True and values["CSRF_COOKIE_SECURE"] is True
    # No proxy header is trusted unless the deployment says one sets it.
    assert values["SECURE_PROXY_SSL_HEADER"] is None
    assert values["DEMO_DATA_ALLOWED"] is False


def test_the_embedded_mode_allows_demo_data_without_debug():
    # No database URL: SQLite in var/ on a laptop, where README's seed_demo runs as printed.
    values = _settings_of(DJANGO_DEBUG="false")
    assert values["DEBUG"] is False and values["DEMO_DATA_ALLOWED"] is True


def test_debug_on_asks_for_nothing_of_https():
    values = _settings_of(DJANGO_DEBUG="true")
    assert values["DEBUG"] is True
    assert values["SECURE_SSL_REDIRECT"] is False and values["SECURE_HSTS_SECONDS"] == 0
    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["DEMO_DATA_ALLOWED"] is True


def test_each_https_setting_comes_from_its_variable():
    values = _settings_of(
        **PRODUCTION,
        DJANGO_SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_SECURE_HSTS_SECONDS="3600",
        DJANGO_SECURE_HSTS_PRELOAD="false",
        DJANGO_SECURE_COOKIES="false",
        DJANGO_SECRET_KEY_FALLBACKS="old-key-1,old-key-2",
    )
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SECURE_SSL_REDIRECT"] is False and values["SECURE_HSTS_SECONDS"] == 3600
    assert values["SECURE_HSTS_PRELOAD"] is False and values["SESSION_COOKIE_SECURE"] is False
    assert values["SECRET_KEY_FALLBACKS"] == ["old-key-1", "old-key-2"]


@pytest.mark.parametrize("value", ["X-Forwarded-Proto", "http_x_forwarded_proto", "HTTP_X FORWARDED"])
def test_a_bad_proxy_header_names_the_variable(monkeypatch, value):
    monkeypatch.setenv("DJANGO_SECURE_PROXY_SSL_HEADER", value)
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECURE_PROXY_SSL_HEADER"):
        env.env_proxy_ssl_header("DJANGO_SECURE_PROXY_SSL_HEADER")


def test_the_proxy_header_may_name_its_value(monkeypatch):
    monkeypatch.setenv("DJANGO_SECURE_PROXY_SSL_HEADER", "HTTP_X_FORWARDED_SCHEME=HTTPS")
    assert env.env_proxy_ssl_header("DJANGO_SECURE_PROXY_SSL_HEADER") == ("HTTP_X_FORWARDED_SCHEME", "HTTPS")


def test_deployment_checklist_is_clean_with_the_documented_production_variables():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True,
        text=True,
        env=_clean_environ(
            **PRODUCTION,
            DJANGO_DEBUG="False",
            DJANGO_CSRF_TRUSTED_ORIGINS="https://plan02.example.gov.vn",
            DJANGO_SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO",
        ),
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
