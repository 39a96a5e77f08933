import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from plan02 import env


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


def test_production_needs_a_secret_key():
    result = _manage_check(DJANGO_DEBUG="false", DJANGO_SECRET_KEY="")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_settings_defaults(settings):
    assert settings.TIME_ZONE == "Asia/Ho_Chi_Minh"
    assert settings.LANGUAGE_CODE == "vi"
    assert [code for code, _ in settings.LANGUAGES] == ["vi", "en"]
