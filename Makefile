# Modelgate: `make run` (embedded default: SQLite, embedded broker) and `make test` (the suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
EXTRAS ?= cpu,dev
STAMP := $(VENV)/.installed-$(shell echo "$(EXTRAS)" | tr ',' '-')

# `make run` (console/devrun.py) writes its development values to var/dev.env, which manage.py,
# celery and granian read; production must provide its own (see .env.example).

.PHONY: install run test lint format bench worker clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $(STAMP)

run: install
	$(PY) -m console.devrun --port $(PORT)

test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	DEBUG=1 $(PY) manage.py check
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	$(PY) bench/serving.py

clean:
	rm -rf $(VENV) var
