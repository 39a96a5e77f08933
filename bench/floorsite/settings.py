"""The floor for the single-report POST: a bare Django project (no middleware, no auth, no validation)
whose view makes the same durable writes as an accepted report (the report, its revision and its rollup request,
one transaction) into copies of those tables at the same size, served by the same gunicorn command as plan02;
and a bare view that answers "ok" (the dashboards' floor), and a bare HTML page of a given size (the weak
connection's floor). Used only by bench/run.py."""

import dj_database_url

from core.env import env_str

SECRET_KEY = "bench-floor"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "bench.floorsite.urls"
INSTALLED_APPS = []
MIDDLEWARE = []
DATABASES = {"default": dj_database_url.parse(env_str("DATABASE_URL"), conn_max_age=60)}
USE_TZ = True
TIME_ZONE = "Asia/Ho_Chi_Minh"
