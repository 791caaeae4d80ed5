# Two commands do all the set-up on a fresh machine:
#   make run   — install, migrate, load the demo district, serve on http://127.0.0.1:$(PORT)
#   make test  — the whole suite (lint, layer contracts, types, tests)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
PYTEST_ARGS ?= -n auto

.PHONY: install lock audit static run serve test lint typecheck fmt messages clean-db bench bench-http bench-booking bench-enroll \
	bench-redeem bench-meals chaos

install: $(VENV)/.installed static

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e ".[dev]"
	@touch $@

# The locked set of dependencies (constraints for install) and its audit against known vulnerabilities.
lock: install
	{ sed -n '1,2p' requirements.lock; $(PY) -m pip freeze --exclude-editable | grep -v '^livingroom'; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

audit: install
	$(BIN)/pip-audit -r requirements.lock --no-deps --disable-pip --progress-spinner off

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

static: node_modules/.installed
	$(PY) scripts/copy_vendor.py

run: install
	$(BIN)/livingroom migrate --noinput
	HOST=$(HOST) PORT=$(PORT) $(BIN)/livingroom load_demo --if-empty
	@echo "Serving on http://$(HOST):$(PORT)/  (Ctrl-C to stop)"
	@# The task worker (SMS of notices) and the clocks (bookings, courses) run beside the server and stop with it.
	trap 'kill 0' EXIT INT TERM; \
	$(BIN)/livingroom db_worker & \
	$(BIN)/livingroom clock --loop 15 & \
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(BIN)/livingroom runserver $(HOST):$(PORT)

serve: install
	$(BIN)/livingroom migrate --noinput
	$(BIN)/gunicorn livingroom.wsgi --bind $(HOST):$(PORT) --workers $${WEB_CONCURRENCY:-2}

lint: install
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/livingroom makemigrations --check --dry-run
	$(BIN)/pytest $(PYTEST_ARGS)

fmt: install
	$(BIN)/ruff format src tests bench scripts
	$(BIN)/ruff check --fix src tests bench scripts

messages: install
	cd src/livingroom && ../../$(BIN)/livingroom makemessages -l zh_Hans -l en --no-obsolete
	$(PY) scripts/compile_messages.py

bench: install
	$(PY) bench/run.py

# HTTP benchmarks: gunicorn over a fresh PostgreSQL database (docs/benchmarks.md).
# BENCH_PG_URL (default postgresql://postgres@127.0.0.1:5432) names the server; BENCH_ARGS adds options.
BENCH_ARGS ?=

bench-http: install
	$(PY) bench/http_smoke.py $(BENCH_ARGS)

bench-booking: install
	$(PY) bench/booking.py $(BENCH_ARGS)

bench-enroll: install
	$(PY) bench/enroll.py $(BENCH_ARGS)

bench-redeem: install
	$(PY) bench/redeem.py $(BENCH_ARGS)

bench-meals: install
	$(PY) bench/meals.py $(BENCH_ARGS)

# Faults under load: workers killed and PostgreSQL restarted during enrolments and redemptions, on a
# private throwaway cluster (never BENCH_PG_URL's); exits 1 if an acknowledged write was lost or doubled.
chaos: install
	$(PY) bench/chaos.py $(BENCH_ARGS)

clean-db:
	rm -f var/livingroom.sqlite3*
