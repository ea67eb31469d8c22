# Llámenos: `make run` for the zero-setup local demo, `make test` for the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
HOST ?= 127.0.0.1
PORT ?= 8000
# Extra runserver options for `make run`, e.g. --noreload.
RUNSERVER_ARGS ?=

.PHONY: run test install lint format services migrate demo bench clean

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[dev]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

install: $(VENV)/.installed node_modules/.installed

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py demo_data
	$(PY) manage.py provider_bootstrap

# Where `make run` serves, for the dev settings: the emulator posts its webhooks there unless
# PUBLIC_BASE_URL is set in the environment or .env (llamenos/settings/dev.py). A server on every
# interface (0.0.0.0) is reached on 127.0.0.1.
run: export DEV_SERVER_URL = http://$(if $(filter 0.0.0.0,$(HOST)),127.0.0.1,$(HOST)):$(PORT)
run: demo
	@echo "Serving on http://$(HOST):$(PORT)/ (log in with an account printed above)"
	$(PY) manage.py runserver $(RUNSERVER_ARGS) $(HOST):$(PORT)

services:
	@bash scripts/ensure-services.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: install services lint
	$(PY) manage.py collectstatic --noinput --verbosity 0 --settings=llamenos.settings.test
	$(VENV)/bin/pytest -n 2 $(PYTEST_ARGS)

bench: install services
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules staticfiles .pytest_cache db.sqlite3
