"""plan02 settings: one module, everything from the environment, embedded defaults for a laptop.

Nothing set (the embedded mode): SQLite in var/, a secret key made once in var/secret_key, demo data allowed,
Celery tasks run in-process, e-mail to the console. DATABASE_URL=postgres://... and REDIS_URL=redis://... switch
to the services; with a DATABASE_URL and DEBUG off, DJANGO_SECRET_KEY is required. A bad value stops the process
with a message naming the variable (see core/env.py).
"""

import datetime
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from core.env import (
    env_admins,
    env_bool,
    env_database,
    env_email_backend,
    env_float,
    env_int,
    env_list,
    env_proxy_ssl_header,
    env_redis_url,
    env_str,
    secret_key_file,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PLAN02_VAR_DIR", str(BASE_DIR / "var")))

# The embedded mode (a laptop: SQLite in var/) is the one without a database URL; a deployment names its database.
EMBEDDED = not env_str("DATABASE_URL")
# Off unless asked for: a forgotten variable must not expose tracebacks and settings. `make run` asks for it.
DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if EMBEDDED:
        # Made once in var/ and kept: `make run` and every `manage.py` command of another shell share it, with
        # nothing to set first (README, "Two commands").
        SECRET_KEY = secret_key_file(VAR_DIR / "secret_key")
    elif DEBUG:
        SECRET_KEY = "plan02-insecure-development-key-do-not-use-in-production"  # noqa: S105 - DEBUG only
    else:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false.")
# Rotation: the new key in DJANGO_SECRET_KEY, the old ones here until their sessions and signatures expire.
SECRET_KEY_FALLBACKS = env_list("DJANGO_SECRET_KEY_FALLBACKS", [])
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "axes",
    # Field-by-field history of the records people edit (audit.registry says which).
    "auditlog",
    "core",
    "localities",
    "tasks",
    "reports",
    "dashboards",
    "alerts",
    "support",
    "inspections",
    "integrations",
    "audit",
    "plan02",
]

MIDDLEWARE = [
    "core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Pages compressed for the communes' weak connections (DESIGN.md §7, the Slow 3G row: a page's HTML is most
    # of a repeat visit): Django's GZipMiddleware, with its BREACH mitigation, for everything but the API. Static
    # files come compressed from WhiteNoise (left as they are).
    "core.middleware.PageGZipMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # The dashboards read most, whole, for a session that read them before (core.pagecache).
    "core.pagecache.WholeResponseCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.middleware.PortalLocaleMiddleware",
    # After the locale (its 400s are translated), before anything queries with the request's values.
    "core.middleware.NulCharacterMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.PortalLoginRequiredMiddleware",
    # After authentication: the user of the request is the actor of the record changes it makes.
    "auditlog.middleware.AuditlogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last: turns a login refused by throttling into the login page with the reason (see AXES_* below).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "plan02.urls"
WSGI_APPLICATION = "plan02.wsgi.application"
ASGI_APPLICATION = "plan02.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "plan02.context_processors.portal",
                "alerts.context_processors.bell",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------------------
DATABASES = {
    "default": env_database(
        "DATABASE_URL",
        {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "plan02.sqlite3",
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"},
            "TEST": {"NAME": env_str("PLAN02_SQLITE_TEST_NAME")},
        },
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
if EMBEDDED:
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # the embedded SQLite file lives there; a fresh clone has none

# --- auth -------------------------------------------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling (django-axes): after PLAN02_LOGIN_FAILURE_LIMIT failed logins an account is refused, even
# with the right password, for PLAN02_LOGIN_COOLOFF_MINUTES (each new failure meanwhile restarts the wait);
# `manage.py axes_reset_username USERNAME` unlocks it at once. Counted per username, not per address: the
# provinces' offices reach the portal through shared proxies and NAT, so an address lockout would lock out a
# whole office, and it would not stop guessing spread over many addresses. API keys never pass through
# authenticate() and are not counted.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, switchable off (PLAN02_PASSWORD_LOGIN), and single sign-on (integrations.sso).
    "integrations.sso.PasswordBackend",
    "integrations.sso.OidcBackend",
]
# Single sign-on with OpenID Connect (integrations/sso.py, README "Single sign-on"): on when an issuer and a client id
# are set. The claim matches an existing active account by a field; no account or role is ever created.
OIDC_ISSUER = env_str("PLAN02_OIDC_ISSUER", "").rstrip("/")
OIDC_RP_CLIENT_ID = env_str("PLAN02_OIDC_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = env_str("PLAN02_OIDC_CLIENT_SECRET", "")
OIDC_CLAIM = env_str("PLAN02_OIDC_CLAIM", "email")
OIDC_USER_FIELD = env_str("PLAN02_OIDC_USER_FIELD", "email")
if OIDC_USER_FIELD not in ("email", "username"):
    raise ImproperlyConfigured(f"PLAN02_OIDC_USER_FIELD={OIDC_USER_FIELD!r} must be email or username.")
OIDC_RP_SIGN_ALGO = env_str("PLAN02_OIDC_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = env_str("PLAN02_OIDC_SCOPES", "openid email profile")
# Endpoints: from the issuer's discovery document unless set here.
OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("PLAN02_OIDC_AUTHORIZATION_ENDPOINT") or None
OIDC_OP_TOKEN_ENDPOINT = env_str("PLAN02_OIDC_TOKEN_ENDPOINT") or None
OIDC_OP_USER_ENDPOINT = env_str("PLAN02_OIDC_USERINFO_ENDPOINT") or None
OIDC_OP_JWKS_ENDPOINT = env_str("PLAN02_OIDC_JWKS_ENDPOINT") or None
OIDC_CREATE_USER = False
# Pick the provider's signing key by the token's `kid` (on by default; a provider publishing one key without
# ids needs it off; the signature is verified either way).
OIDC_VERIFY_KID = env_bool("PLAN02_OIDC_VERIFY_KID", True)
OIDC_USE_PKCE = True
OIDC_TIMEOUT = 10
OIDC_AUTHENTICATION_CALLBACK_URL = "sso_callback"
LOGIN_REDIRECT_URL_FAILURE = "/accounts/sso/refused/"
if OIDC_ISSUER:
    if not (OIDC_RP_CLIENT_ID and OIDC_RP_CLIENT_SECRET):
        raise ImproperlyConfigured("PLAN02_OIDC_ISSUER needs PLAN02_OIDC_CLIENT_ID and PLAN02_OIDC_CLIENT_SECRET.")
    if not (OIDC_ISSUER.startswith("https://") or DEBUG):
        raise ImproperlyConfigured(f"PLAN02_OIDC_ISSUER={OIDC_ISSUER!r} must start with https://.")
# Username and password login (the login page, the admin's); off leaves single sign-on only.
PASSWORD_LOGIN = env_bool("PLAN02_PASSWORD_LOGIN", True)
if not PASSWORD_LOGIN and not OIDC_ISSUER:
    raise ImproperlyConfigured(
        "PLAN02_PASSWORD_LOGIN=false needs single sign-on (PLAN02_OIDC_ISSUER …): nobody could log in."
    )
AXES_FAILURE_LIMIT = env_int("PLAN02_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("PLAN02_LOGIN_COOLOFF_MINUTES", 30, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "plan02.views.login_locked_out"
# Masked in the attempts axes records (its post_data): the password change form's fields too, since a wrong
# old password counts as a failed login (plan02.views).
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "old_password", "new_password1", "new_password2"]
# axes.W006 asks for the address among the lockout parameters, because a username+user-agent combination can
# be dodged by rotating user agents; a lockout by username alone cannot, and an address lockout would lock
# out shared offices (above).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
# Audit trail (django-auditlog; audit): who changed which field of which record, and when. The
# address of the request is not kept: auditlog would take it from X-Forwarded-For, which any client can
# write. Entries carry the request id of the log lines instead (X-Request-ID, core.log). A foreign key is
# recorded as the related record's name, not its id, so the trail reads without a lookup.
AUDITLOG_DISABLE_REMOTE_ADDR = True
AUDITLOG_CID_GETTER = "core.log.current_request_id"
AUDITLOG_USE_FK_STRING_REPRESENTATION = True
# Paths served without a session: the API authenticates itself (session or API key), the health check is
# for load balancers, the language switch works on the login page.
LOGIN_EXEMPT_PREFIXES = ("/api/", "/healthz", "/static/", "/i18n/", "/accounts/")

# --- i18n -------------------------------------------------------------------------------------------------
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["plan02.formats"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

# --- static and uploads -----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed, compressed names need `collectstatic` first; the test suite serves the files as they are.
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("DJANGO_STATIC_MANIFEST", not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("DJANGO_MEDIA_ROOT", str(VAR_DIR / "media")))
# Evidence files attached to task updates.
EVIDENCE_MAX_BYTES = env_int("PLAN02_EVIDENCE_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
EVIDENCE_EXTENSIONS = ["pdf", "png", "jpg", "jpeg", "docx", "xlsx", "odt", "ods", "zip"]
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("PLAN02_UPLOAD_MAX_BYTES", 30 * 1024 * 1024, minimum=1024 * 1024)
# A CSV/XLSX of daily reports (at most REPORT_BATCH_MAX rows; a national day is well under 1 MB).
REPORT_UPLOAD_MAX_BYTES = env_int("PLAN02_REPORT_UPLOAD_MAX_BYTES", 5 * 1024 * 1024, minimum=1024)
# What an XLSX may expand to when opened (core.spreadsheets): in total, per part of the archive, and the
# compression ratio of a large part. A 5,000-row workbook expands to about 10 MB at a ratio of 15–200.
SPREADSHEET_MAX_UNCOMPRESSED_BYTES = env_int(
    "PLAN02_SPREADSHEET_MAX_UNCOMPRESSED_BYTES", 64 * 1024 * 1024, minimum=1024 * 1024
)
SPREADSHEET_MAX_MEMBER_BYTES = SPREADSHEET_MAX_UNCOMPRESSED_BYTES // 2
SPREADSHEET_MAX_RATIO = 250
# Empty rows skipped in an uploaded file before it is refused (a sheet formatted down to row 1,048,576).
SPREADSHEET_MAX_BLANK_ROWS = 10_000
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Content-Security-Policy (django-csp) -----------------------------------------------------------------
# Everything from this origin, no inline script, no eval: behaviour lives in static/js/ (data-action
# handlers), htmx is configured not to inject its indicator <style>. Inline style *attributes* stay allowed
# (style-src-attr): server-rendered widths of progress bars and the dashboards' tables use them, and a style
# attribute cannot run script. Swagger UI's icons are data: images.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- REST API ---------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "reports.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's JSON parser refusing what would fail later as a 500 (lone surrogates, deep nesting).
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Every API view, per API key or per signed-in user (core.throttling; the fast path counts with it too).
    "DEFAULT_THROTTLE_CLASSES": ["core.throttling.CallerRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "api_key": env_str("PLAN02_API_KEY_RATE", "600/min"),
    },
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# Filter forms: the empty choice of a select reads "All" (django-filter's default is "---------").
FILTERS_EMPTY_CHOICE_LABEL = _("All")
SPECTACULAR_SETTINGS = {
    "TITLE": "plan02 API",
    "DESCRIPTION": "Plan 02 (Kế hoạch 02-KH/BCĐTW) tracking portal: reference data, tasks and assignments, "
    "daily reports of communes and provinces, dashboards.",
    "VERSION": "1",
    # The enums' own hook, then the report bodies in the form version in force (reports.openapi).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "reports.openapi.current_form_hook",
    ],
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Two choice sets named `state`: an incident's (DESIGN.md §12) and a quality warning's (§11).
    "ENUM_NAME_OVERRIDES": {
        "IncidentStateEnum": "support.models.State",
        "QualityWarningStateEnum": "reports.models.QualityWarning.State",
        # The assignments' unit levels and the tasks' levels (which add all_ministries) are two choice sets.
        "AssignmentLevelEnum": "tasks.models.Level",
        "TaskLevelEnum": "tasks.models.TaskLevel",
        # The one closed list of systems (core.systems): reports' outages and blockers.
        "SystemEnum": "core.systems.SYSTEMS",
    },
    # The schema and Swagger UI are for the portal's users and the key holders, not for anyone on the
    # internet (core.api.ApiDocsView sends an anonymous browser to the login page).
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SERVE_AUTHENTICATION": [
        "reports.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
}

# --- Celery -----------------------------------------------------------------------------------------------
REDIS_URL = env_redis_url("REDIS_URL")
if REDIS_URL and (_test_db := os.environ.pop("PLAN02_TEST_REDIS_DB", None)):
    # `make test` runs the suite in parallel processes (pytest-xdist, tests/parallel.py): each uses its own Redis
    # database. It is written back, so the processes a test starts (workers, gunicorn) inherit the same one.
    REDIS_URL = urlparse(REDIS_URL)._replace(path=f"/{int(_test_db)}").geturl()
    os.environ["REDIS_URL"] = REDIS_URL
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = REDIS_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SOFT_TIME_LIMIT = env_int("PLAN02_TASK_SOFT_TIME_LIMIT", 600, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("PLAN02_TASK_TIME_LIMIT", 900, minimum=1)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# Fail fast when the broker is down: the submission is already committed and the catch-up job rebuilds.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# Redis hands an unacknowledged job (its worker was killed) to another worker after this many seconds
# (kombu's default is an hour). It must exceed the longest job plus its countdown, or a job still running
# is delivered twice (harmless: rebuilds are idempotent and serialised, but wasted). The catch-up rebuilds
# a lost job's pending request long before (dashboards.rollups.CATCH_UP_AFTER, every 5 minutes).
BROKER_VISIBILITY_TIMEOUT = env_int(
    "PLAN02_BROKER_VISIBILITY_TIMEOUT", CELERY_TASK_TIME_LIMIT + 300, minimum=CELERY_TASK_TIME_LIMIT + 60
)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 1,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "visibility_timeout": BROKER_VISIBILITY_TIMEOUT,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker that loses Redis keeps trying to reconnect instead of exiting (a supervisor restarts it anyway).
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# On a lost broker connection, cancel the late-acknowledged jobs in flight instead of acknowledging them on
# the dead connection: that acknowledgement is where kombu's Redis transport raised AttributeError
# ("'NoneType' object has no attribute 'hostname'") and took the worker down (older kombu; the pinned
# celery/kombu 5.7.0 survive an outage either way, tests/faults/test_redis_outage_workers.py). A cancelled
# rebuild rolls back and its request stays pending for the catch-up; a Redis that kept the job redelivers
# it after the visibility timeout. Jobs are idempotent.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# The worker logs through LOGGING above (its lines carry the job id), not through a format of its own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- cache ------------------------------------------------------------------------------------------------
# Per-key API throttling counts in the cache, so it must be shared by every web process: Redis when
# REDIS_URL is set (short timeouts; the throttle lets requests through if Redis is down), else in-process.
CACHES: dict[str, dict[str, Any]]
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "plan02",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- plan02 rules -----------------------------------------------------------------------------------------
REPORTS_FIRST_DATE = "2025-07-01"
# A report for day D is on time until this hour (local time) of D + 1.
REPORT_DUE_HOUR = env_int("PLAN02_REPORT_DUE_HOUR", 8, minimum=0, maximum=23)
# Reports for days older than this many days are locked unless a province officer grants an exception.
REPORT_LOCK_DAYS = env_int("PLAN02_REPORT_LOCK_DAYS", 7, minimum=0)
REPORT_BATCH_MAX = 5000
# The single-report POST of an API key answered in front of Django's middleware stack (reports.fastpath);
# off sends it through the full stack like every other request.
REPORT_FAST_PATH = env_bool("PLAN02_REPORT_FAST_PATH", True)
# Seconds between an accepted report and its rollup job: reports arriving meanwhile share the rebuild.
ROLLUP_DELAY = env_int("PLAN02_ROLLUP_DELAY", 1, minimum=0, maximum=60)
# Data quality (DESIGN.md §11, reports.quality): a figure is an outlier outside median ± K × MAD of the
# locality's last DAYS reported days (within HORIZON days); with fewer than MIN_DAYS of them, or a MAD of 0,
# the province's communes over the last DAYS days give the band.
QUALITY_BAND_K = env_float("PLAN02_QUALITY_BAND_K", 3.5, minimum=0.5)
QUALITY_BAND_DAYS = env_int("PLAN02_QUALITY_BAND_DAYS", 28, minimum=7, maximum=366)
QUALITY_BAND_MIN_DAYS = 7
QUALITY_BAND_HORIZON_DAYS = env_int("PLAN02_QUALITY_BAND_HORIZON_DAYS", 90, minimum=7, maximum=1000)
DEMO_DAYS = env_int("DEMO_DAYS", 30, minimum=0, maximum=2000)
# Demo data creates users with a known or printed password: on a laptop (the embedded mode, or DEBUG) by
# default; on a deployment's database only when asked for explicitly.
DEMO_DATA_ALLOWED = env_bool("PLAN02_ALLOW_DEMO_DATA", DEBUG or EMBEDDED)
DEMO_PASSWORD = env_str("DEMO_PASSWORD")

# --- alerts -----------------------------------------------------------------------------------------------
# Early warning (DESIGN.md §8; README "Early warning"). Thresholds are days; changing one starts the alerts of
# that step afresh (the threshold is part of an alert's identity). E-mail itself uses Django's EMAIL_* settings.
ALERTS_DEADLINE_EARLY_DAYS = env_int("PLAN02_ALERTS_DEADLINE_EARLY_DAYS", 7, minimum=1, maximum=90)  # deadline_7d
ALERTS_DEADLINE_LAST_DAYS = env_int("PLAN02_ALERTS_DEADLINE_LAST_DAYS", 1, minimum=0, maximum=30)  # deadline_1d
if ALERTS_DEADLINE_LAST_DAYS >= ALERTS_DEADLINE_EARLY_DAYS:
    raise ImproperlyConfigured("PLAN02_ALERTS_DEADLINE_LAST_DAYS must be below PLAN02_ALERTS_DEADLINE_EARLY_DAYS.")
# Days past the deadline before the task's lead agency is told too.
ALERTS_OVERDUE_ESCALATION_DAYS = env_int("PLAN02_ALERTS_OVERDUE_ESCALATION_DAYS", 14, minimum=1, maximum=365)
# Days without any update before an open assignment is stagnant.
ALERTS_STAGNANT_DAYS = env_int("PLAN02_ALERTS_STAGNANT_DAYS", 14, minimum=1, maximum=365)
# Days blocked before the blocking agency's head is told (its users are told at once).
ALERTS_BLOCKED_ESCALATION_DAYS = env_int("PLAN02_ALERTS_BLOCKED_ESCALATION_DAYS", 7, minimum=1, maximum=365)
# The missing-report ladder: days in a row → its clerks, its province's officers, the steering committee.
_ladder = env_list("PLAN02_ALERTS_MISSING_REPORT_DAYS", ["1", "3", "7"])
try:
    ALERTS_MISSING_REPORT_DAYS = tuple(int(step) for step in _ladder)
except ValueError:
    raise ImproperlyConfigured(f"PLAN02_ALERTS_MISSING_REPORT_DAYS={_ladder!r} must be three integers, e.g. 1,3,7.")
_increasing = sorted(set(ALERTS_MISSING_REPORT_DAYS)) == list(ALERTS_MISSING_REPORT_DAYS)
if len(ALERTS_MISSING_REPORT_DAYS) != 3 or not _increasing or ALERTS_MISSING_REPORT_DAYS[0] < 1:
    raise ImproperlyConfigured(
        f"PLAN02_ALERTS_MISSING_REPORT_DAYS={_ladder!r} must be three increasing integers from 1, e.g. 1,3,7."
    )


def _date_setting(name, default):
    """A YYYY-MM-DD setting, checked here (core.dates translates its message: too early for the settings)."""
    import datetime
    import re

    raw = env_str(name, default)
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            raise ValueError(raw)
        datetime.date.fromisoformat(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a date written YYYY-MM-DD.") from None
    return raw


# The first day every commune is expected to report (a deployment that starts later sets its go-live day, so
# the months before it are not counted as silence).
ALERTS_REPORTS_EXPECTED_FROM = _date_setting("PLAN02_ALERTS_REPORTS_EXPECTED_FROM", REPORTS_FIRST_DATE)
# The daily run of every rule (local time); the missing-report run follows the due hour (plan02/celery.py).
ALERTS_DAILY_HOUR = env_int("PLAN02_ALERTS_DAILY_HOUR", 7, minimum=0, maximum=23)
# Links in the e-mail digests point here.
ALERTS_PORTAL_URL = env_str("PLAN02_PORTAL_URL", "http://127.0.0.1:8000").rstrip("/")
if not ALERTS_PORTAL_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"PLAN02_PORTAL_URL={ALERTS_PORTAL_URL!r} must start with http:// or https://.")
# A digest whose sending failed this many times is left for an administrator (admin: "send again").
ALERTS_DIGEST_MAX_ATTEMPTS = env_int("PLAN02_ALERTS_DIGEST_MAX_ATTEMPTS", 5, minimum=1, maximum=100)


# --- the operations desk (DESIGN.md §12; README "Operations desk") ----------------------------------------
# Office hours in TIME_ZONE (Asia/Ho_Chi_Minh): the times to acknowledge and to resolve an incident count only
# these. Days are weekday numbers (0 Monday … 6 Sunday): "0-4" is Monday to Friday; times are HH:MM.
def _office_hours():
    from core.officehours import OfficeHours, parse_days

    days_raw = env_str("PLAN02_OFFICE_DAYS", "0-4")
    try:
        days = parse_days(days_raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"PLAN02_OFFICE_DAYS={days_raw!r}: {exc}") from None
    times = {}
    for name, default in (("PLAN02_OFFICE_OPENS", "07:30"), ("PLAN02_OFFICE_CLOSES", "17:00")):
        raw = env_str(name, default)
        try:
            times[name] = datetime.time.fromisoformat(raw)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={raw!r} is not a time such as 07:30.") from None
    try:
        return OfficeHours(days, times["PLAN02_OFFICE_OPENS"], times["PLAN02_OFFICE_CLOSES"], TIME_ZONE)
    except ValueError as exc:
        raise ImproperlyConfigured(f"PLAN02_OFFICE_*: {exc}") from None


OFFICE_HOURS = _office_hours()


# Times to acknowledge and to resolve an incident, per severity, in office time: "90m", "2h", or "1d" (one
# office day). PLAN02_INCIDENT_TIMES_<SEVERITY>="acknowledge,resolve".
def _incident_times():
    from core.officehours import parse_duration

    found = {}
    for severity, default in (("blocking", "2h,8h"), ("degraded", "1d,3d"), ("question", "1d,3d")):
        name = f"PLAN02_INCIDENT_TIMES_{severity.upper()}"
        raw = env_str(name, default)
        parts = [part.strip() for part in raw.split(",")]
        try:
            if len(parts) != 2:
                raise ValueError("give two durations: to acknowledge, to resolve (e.g. 2h,8h)")
            acknowledge, resolve = (parse_duration(part, day=OFFICE_HOURS.day_length) for part in parts)
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}={raw!r}: {exc}") from None
        if resolve < acknowledge:
            raise ImproperlyConfigured(f"{name}={raw!r}: the time to resolve is shorter than the time to acknowledge.")
        found[severity] = (acknowledge, resolve)
    return found


INCIDENT_TIMES = _incident_times()
# A resolved incident the reporter has not confirmed closes by itself after this many days.
INCIDENT_AUTO_CLOSE_DAYS = env_int("PLAN02_INCIDENT_AUTO_CLOSE_DAYS", 3, minimum=1, maximum=60)
# The live board (/operations/) reloads its panel this often (htmx polling).
OPERATIONS_BOARD_POLL_SECONDS = env_int("PLAN02_BOARD_POLL_SECONDS", 30, minimum=1, maximum=3600)
# Files attached to an incident: the evidence files' types and size limit, at most this many per incident.
INCIDENT_MAX_ATTACHMENTS = env_int("PLAN02_INCIDENT_MAX_ATTACHMENTS", 5, minimum=1, maximum=50)

# --- integrations (DESIGN.md §14; README "Integrations") ---------------------------------------------------
# Events of the changes feed are kept this many days; the purge runs nightly (a cursor older answers 410).
EVENTS_RETENTION_DAYS = env_int("PLAN02_EVENTS_RETENTION_DAYS", 90, minimum=1, maximum=3650)
# Webhook endpoints must be https outside DEBUG; private, loopback and link-local addresses are refused (no
# server-side request forgery). The two switches below exist for a test bench on one machine only.
WEBHOOKS_ALLOW_HTTP = env_bool("PLAN02_WEBHOOKS_ALLOW_HTTP", DEBUG)
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = env_bool("PLAN02_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", False)
# Seconds to connect and to read the answer of one delivery.
WEBHOOKS_TIMEOUT = env_int("PLAN02_WEBHOOKS_TIMEOUT", 10, minimum=1, maximum=60)
# An endpoint failing every delivery for this many hours is switched off and its owner told.
WEBHOOKS_DISABLE_AFTER_HOURS = env_int("PLAN02_WEBHOOKS_DISABLE_AFTER_HOURS", 24, minimum=1, maximum=24 * 30)

# --- mail and logging -------------------------------------------------------------------------------------
# Django's own names. DJANGO_EMAIL_BACKEND is the older name of EMAIL_BACKEND, still read.
EMAIL_BACKEND = env_email_backend("EMAIL_BACKEND", alias="DJANGO_EMAIL_BACKEND")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "webmaster@localhost")
SERVER_EMAIL = env_str("SERVER_EMAIL", "root@localhost")
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH")
if EMAIL_BACKEND == "django.core.mail.backends.filebased.EmailBackend" and not EMAIL_FILE_PATH:
    raise ImproperlyConfigured("EMAIL_FILE_PATH must name a directory when EMAIL_BACKEND is the file backend.")
# Who receives the errors: "Name <address>, Other <address>".
ADMINS = env_admins("DJANGO_ADMINS")

LOG_LEVEL = env_str("PLAN02_LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(f"PLAN02_LOG_LEVEL={LOG_LEVEL!r} is not a log level.")
# Errors reach the admins by mail (with DEBUG off): failed requests (django.request), security events, a
# Celery job that raised (celery.app.trace), and every ERROR of the project's own loggers — the convention
# is logging.getLogger(__name__) in any module of these packages, so logger.exception() in a job mails its
# traceback. Keys and passwords are never logged: API keys travel in a header Django's error reports
# cleanse (HTTP_AUTHORIZATION), ApiKeyAuthentication marks its locals sensitive, django-axes masks
# credentials, and no code of the portal logs a key.
PROJECT_LOGGERS = [
    "plan02",
    "core",
    "localities",
    "tasks",
    "reports",
    "dashboards",
    "alerts",
    "support",
    "integrations",
]
_MAIL_ADMINS = {"handlers": ["mail_admins"], "propagate": True}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "core.log.RequestIdFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
        "skip_service_unavailable": {"()": "core.log.SkipServiceUnavailable"},
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s %(message)s"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "plain",
            "filters": ["request_id"],
        },
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false", "request_id", "skip_service_unavailable"],
        },
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        # Replaces Django's default handlers of "django" (console, mail): its records reach the root's.
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.request": _MAIL_ADMINS,
        "django.security": _MAIL_ADMINS,
        "celery.app.trace": _MAIL_ADMINS,
        **{name: _MAIL_ADMINS for name in PROJECT_LOGGERS},
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},  # every login is INFO there; failures and lockouts are warnings
    },
}
del _MAIL_ADMINS  # not a setting

# --- HTTPS ------------------------------------------------------------------------------------------------
# On by default when DEBUG is off (`manage.py check --deploy` is clean with the defaults); each can be turned
# off, e.g. DJANGO_SECURE_SSL_REDIRECT=false where a front server already redirects, or for the test suite.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
# Load balancers probe the health check over plain HTTP on the internal port; it carries no session.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
# Trusted only when the deployment says a proxy sets it (and strips it from clients): otherwise any client
# could claim HTTPS with one header.
SECURE_PROXY_SSL_HEADER = env_proxy_ssl_header("DJANGO_SECURE_PROXY_SSL_HEADER")
