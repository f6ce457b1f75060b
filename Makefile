# rj_scheduler: `make run` serves the demo, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app rj_scheduler
INSTALLED := $(VENV)/.installed
ASSETS := rj_scheduler/static/dist/app.css
PG_URL ?= postgresql://postgres@127.0.0.1:5432

.PHONY: run test test-postgres lint fmt bench clean install assets check-python translations-update translations-check

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "rj_scheduler needs Python 3.11 or newer")'

$(INSTALLED): pyproject.toml | check-python
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(INSTALLED)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

$(ASSETS): node_modules/.installed scripts/build_assets.mjs $(wildcard rj_scheduler/static_src/*)
	npm run --silent build

assets: $(ASSETS)

## run: install, build assets, migrate the embedded SQLite database, load the demo, serve on 127.0.0.1:5000
run: install assets
	$(FLASK) db upgrade
	$(FLASK) rj demo
	$(FLASK) run --host 127.0.0.1 --port 5000

## test: the whole suite on SQLite (browser tests run when Chromium is installed)
test: install assets
	$(PY) -m pytest $(PYTEST_ARGS)

## test-postgres: the whole suite on a fresh PostgreSQL database, dropped afterwards
test-postgres: install assets
	@set -e; db="rj_test_$$$$_$$(date +%s)"; \
	psql "$(PG_URL)/postgres" -qc "CREATE DATABASE $$db"; \
	trap 'PGOPTIONS="-c client_min_messages=warning" psql "$(PG_URL)/postgres" -q -c "DROP DATABASE IF EXISTS $$db WITH (FORCE)" \
		-c "DROP DATABASE IF EXISTS $${db}_browser WITH (FORCE)"' EXIT; \
	RJ_TEST_DATABASE_URL="$(PG_URL)/$$db" $(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

fmt: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## translations-update: extract the words marked for translation and add new ones to every language's .po
## (then translate the empty entries; the app reads the .po files, there is nothing to compile: docs/languages.md)
translations-update: install
	$(PY) scripts/translations.py update

## translations-check: list every word not translated in every supported language (exit 1 if any)
translations-check: install
	$(PY) scripts/translations.py check

## bench: speed and memory targets (never in timed unit tests)
bench: install
	$(PY) -m pytest benchmarks --benchmark-only $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) node_modules rj_scheduler/static/dist .pytest_cache .ruff_cache
