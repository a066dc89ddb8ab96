# Modelgate: `make run` (embedded default: SQLite, embedded broker) and `make test` (the suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
EXTRAS ?= cpu,dev
STAMP := $(VENV)/.installed-$(shell echo "$(EXTRAS)" | tr ',' '-')

# Development values, set explicitly: production must provide its own (see .env.example).

.PHONY: install run test lint format bench worker clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $(STAMP)

run: install
	mkdir -p var
	export DEBUG=1 SECRET_KEY=$${SECRET_KEY:-dev-only-insecure-key} \
		ALLOWED_HOSTS=$${ALLOWED_HOSTS:-127.0.0.1,localhost,[::1]} SECURE_COOKIES=0; \
	$(PY) manage.py migrate --noinput && \
	$(PY) manage.py ensure_admin && \
	$(PY) manage.py load_demo_model && \
	$(PY) manage.py collectstatic --noinput -v 0 && \
	{ $(VENV)/bin/celery -A console worker -B -Q default,gpu -c 1 --loglevel INFO \
	    --schedule var/celerybeat-schedule & WORKER=$$!; \
	  trap 'kill $$WORKER 2>/dev/null' EXIT INT TERM; \
	  echo "Modelgate console: http://127.0.0.1:$(PORT)/  (log in as admin)"; \
	  $(VENV)/bin/granian --interface wsgi --host 127.0.0.1 --port $(PORT) \
	    --blocking-threads 32 console.wsgi:application; }

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
