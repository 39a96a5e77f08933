"""Read settings from the environment; a bad value stops the process with the variable's name."""

import os
import re
import secrets
import tempfile
from collections.abc import Iterable
from email.utils import parseaddr
from pathlib import Path
from typing import Any, overload
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@overload
def env_str(name: str) -> str | None: ...
@overload
def env_str(name: str, default: str) -> str: ...
@overload
def env_str(name: str, default: None) -> str | None: ...
def env_str(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use one of 1/0, true/false, yes/no, on/off.")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum {minimum}.")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name}={value} is above the maximum {maximum}.")
    return value


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ImproperlyConfigured(f"{name}={raw!r} is not a finite number.")
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum {minimum}.")
    return value


def env_list(name: str, default: Iterable[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def secret_key_file(path: str | os.PathLike[str]) -> str:
    """The embedded mode's own secret key: read from `path`, made there once (owner-only) when missing.

    Every process of a laptop install (`make run`, then `manage.py ...` in another shell) then signs with the same
    key without anyone setting a variable; a deployment with a database URL sets its own (plan02/settings.py)."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole under another name, then linked into place: a second process never reads half a key,
        # and whichever links first wins (the loser reads the winner's).
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")  # mode 0600
        try:
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_urlsafe(50) + "\n")
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass
        finally:
            os.unlink(temporary)
    key = path.read_text().strip()
    if len(key) < 50:
        raise ImproperlyConfigured(
            f"{path} holds no usable secret key: delete it (a new one is made) or set DJANGO_SECRET_KEY."
        )
    return key


def env_database(name: str, default: dict[str, Any]) -> dict[str, Any]:
    """Parse DATABASE_URL into Django's DATABASES entry; only PostgreSQL and SQLite are supported."""
    import dj_database_url

    raw = os.environ.get(name)
    if not raw:
        return default
    scheme = urlparse(raw).scheme
    if scheme not in {"postgres", "postgresql", "pgsql", "sqlite"}:
        raise ImproperlyConfigured(f"{name} must be a postgres:// or sqlite:// URL, got scheme {scheme or '(none)'!r}.")
    try:
        # Persistent connections, checked before reuse: a connection broken by a database restart is replaced
        # instead of failing the next request, so the portal recovers without restarting gunicorn.
        config = dj_database_url.parse(raw, conn_max_age=60, conn_health_checks=True)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is not a valid database URL: {exc}") from None
    if not config.get("NAME"):
        raise ImproperlyConfigured(f"{name} must name a database, e.g. postgres://user@host:5432/plan02.")
    return dict(config)


def env_redis_url(name: str) -> str | None:
    raw = os.environ.get(name)
    if not raw:
        return None
    parsed = urlparse(raw)
    if parsed.scheme not in {"redis", "rediss"} or not parsed.hostname:
        raise ImproperlyConfigured(f"{name} must look like redis://host:6379/0, got {raw!r}.")
    try:
        parsed.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ImproperlyConfigured(f"{name} has an invalid port: {raw!r}.") from None
    return raw


_META_NAME_RE = re.compile(r"HTTP_[A-Z0-9_]+")


def env_proxy_ssl_header(name: str) -> tuple[str, str] | None:
    """SECURE_PROXY_SSL_HEADER from `HTTP_X_FORWARDED_PROTO` (value `https`) or `HTTP_X_FORWARDED_PROTO=https`;
    unset means no proxy header is trusted."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    header, _sep, value = raw.partition("=")
    header, value = header.strip(), (value.strip() or "https")
    if not _META_NAME_RE.fullmatch(header):
        raise ImproperlyConfigured(
            f"{name}={raw!r} must name a request header as Django sees it, e.g. HTTP_X_FORWARDED_PROTO "
            "(optionally =https)."
        )
    return (header, value)


def env_email_backend(name: str, *, alias: str, default: str = "django.core.mail.backends.console.EmailBackend") -> str:
    """EMAIL_BACKEND, or its older name; both set to different values is an error, not a silent choice."""
    value, old = os.environ.get(name), os.environ.get(alias)
    if value and old and value != old:
        raise ImproperlyConfigured(f"{name}={value!r} and {alias}={old!r} disagree: set only {name}.")
    return value or old or default


def env_admins(name: str) -> list[tuple[str, str]]:
    """ADMINS from "Name <address>, Other Name <address>" (a bare address is its own name)."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    admins = []
    for item in os.environ.get(name, "").split(","):
        item = item.strip()
        if not item:
            continue
        realname, address = parseaddr(item)
        try:
            validate_email(address)
        except ValidationError:
            raise ImproperlyConfigured(
                f"{name}: {item!r} is not an address; write Name <address@example.gov.vn>, separated by commas."
            ) from None
        if "<" in item and not realname:
            raise ImproperlyConfigured(f"{name}: {item!r} has no name before <address>.")
        admins.append((realname or address, address))
    return admins
