# Hindsight: `make demo` to try it, `make test` to test it. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
# Re-install whenever a requirements file changes.
DEPS := $(VENV)/.deps-installed

.PHONY: install demo serve backup restore test test-browser test-postgres lint format migrate clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(DEPS): requirements.txt requirements-dev.txt | $(BIN)/python
	# torch first and exactly: 2.13.0 is the local CPU wheel, anything else is CUDA.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip check
	@if $(BIN)/pip list 2>/dev/null | grep -qi '^nvidia'; then \
		echo "error: CUDA (nvidia) packages were installed; torch must be 2.13.0" >&2; exit 1; fi
	touch $(DEPS)

install: $(DEPS)

migrate: install
	$(MANAGE) migrate --noinput

demo: migrate
	$(MANAGE) load_demo
	$(MANAGE) run_insights
	@# The development broker keeps its messages in files under var/.
	@mkdir -p var/celery-broker var/celery-processed
	@echo
	@echo "  Hindsight is starting on http://127.0.0.1:8000/"
	@echo "  Demo login: username demo, password demo (admin)."
	@echo "  Other demo people sign in with their username as password (e.g. amara / amara)."
	@echo
	@# Beat too: the morning reminders, the nightly insights run and the outbox relay.
	@$(BIN)/celery -A kb worker --pool=solo --loglevel=WARNING & worker=$$!; \
	$(BIN)/celery -A kb beat --loglevel=WARNING --pidfile= & beat=$$!; \
	trap 'kill $$worker $$beat 2>/dev/null' EXIT INT TERM; \
	$(MANAGE) runserver 127.0.0.1:8000

serve: install
	deploy/serve.sh

# Two workers, one per core (BENCHMARKS.md, "Test suite time"). Tests that start
# their own servers share one worker (xdist_group, tests/conftest.py). Serially:
# make test XDIST="-n 0"
XDIST ?= -n 2 --dist loadgroup

test: install
	$(BIN)/python -m pytest $(XDIST)

test-browser: install
	@command -v chromium >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
		else echo "Browser tests need Debian's chromium: sudo apt-get install chromium" >&2; exit 1; fi; }
	DJANGO_ALLOW_ASYNC_UNSAFE=true $(BIN)/python -m pytest -m browser -p no:randomly

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

backup: install
	$(MANAGE) backup

# make restore FILE=var/backups/hindsight-....sqlite3 (or .pgdump)
restore: install
	@test -n "$(FILE)" || { echo "usage: make restore FILE=path/to/backup" >&2; exit 2; }
	$(MANAGE) restore "$(FILE)"

# Runs every bench/*_bench.py and writes BENCHMARKS.md (takes a while).
bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf var staticfiles db.sqlite3 db.sqlite3-* screenshots artifacts
