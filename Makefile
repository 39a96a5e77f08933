# plan02 — every set-up step lives here. `make run` and `make test` work on a fresh machine with Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
DEMO_DAYS ?= 30
export DEMO_DAYS

.PHONY: run test test-fast lint format install install-dev system-deps migrate worker beat serve bench bench-smoke messages clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "plan02 needs Python 3.11, found " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: system-deps $(VENV)/.installed
install-dev: system-deps $(VENV)/.installed-dev

## Debian packages the PDFs need (core/pdf.py: WeasyPrint uses Pango, and DejaVu carries every Vietnamese letter),
## installed when missing (as root, or through sudo); a machine without dpkg is told what to install.
SYSTEM_DEBS := libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core
system-deps:
	@command -v dpkg >/dev/null || { echo "PDFs need Pango and the DejaVu fonts ($(SYSTEM_DEBS) on Debian)"; exit 0; }; \
	missing=""; for deb in $(SYSTEM_DEBS); do dpkg -s $$deb >/dev/null 2>&1 || missing="$$missing $$deb"; done; \
	[ -z "$$missing" ] || { sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q $$missing; }

migrate: install
	$(BIN)/python manage.py migrate --noinput

## Embedded mode: SQLite in var/, Celery in-process, demo data; serves on 127.0.0.1:$(PORT).
## DEBUG is off unless asked for: the laptop mode asks for it (an explicit DJANGO_DEBUG wins).
run: export DJANGO_DEBUG ?= True
run: migrate
	$(BIN)/python manage.py bootstrap
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

## The whole suite (browser tests included when /usr/bin/chromium exists). Uses DATABASE_URL/REDIS_URL if set.
## TEST_PROCESSES processes in parallel (pytest-xdist; tests/parallel.py gives each its own Redis database).
TEST_PROCESSES ?= 2
test: install-dev
	$(BIN)/ruff check .
	DJANGO_DEBUG=True $(BIN)/mypy
	DJANGO_DEBUG=True DATABASE_URL=sqlite://:memory: $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest $$($(BIN)/python tests/parallel.py $(TEST_PROCESSES))

lint: install-dev
	$(BIN)/ruff check .

format: install-dev
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

## Production-like processes (need DATABASE_URL, REDIS_URL, DJANGO_SECRET_KEY, DJANGO_DEBUG=False).
serve: install
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/gunicorn plan02.wsgi --bind 127.0.0.1:$(PORT) --workers $${WEB_CONCURRENCY:-2} --access-logfile - \
	  --access-logformat '%(t)s %(h)s "%(r)s" %(s)s %(b)s %(M)sms [%({x-request-id}o)s]'

worker: install
	$(BIN)/celery -A plan02 worker --loglevel INFO --concurrency $${WORKER_CONCURRENCY:-2}

beat: install
	$(BIN)/celery -A plan02 beat --loglevel INFO --schedule var/celerybeat-schedule

## Benchmarks against the floor, on PostgreSQL and Redis (started if down): prints the table, writes bench/results/.
bench: install-dev
	.ci/services
	command -v wrk >/dev/null || (apt-get update -q && apt-get install -y -q wrk)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

bench-smoke: install-dev
	.ci/services
	command -v wrk >/dev/null || (apt-get update -q && apt-get install -y -q wrk)
	$(BIN)/python -m bench.run --smoke

## Regenerate the Vietnamese message catalogue after changing user-visible strings (no source locations, so
## branches merge cleanly); new translations wait in locale/pending/*.json (locale/pending.py fills them in).
messages: export DJANGO_DEBUG ?= True
messages: install-dev
	$(BIN)/python manage.py makemessages -l vi --no-obsolete --no-location --ignore '.venv/*' --ignore 'var/*'
	$(BIN)/python locale/pending.py
	$(BIN)/python manage.py compilemessages -l vi --ignore '.venv/*'

clean:
	rm -rf $(VENV) var staticfiles test-output
