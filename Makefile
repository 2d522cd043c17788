# Kehou: `make demo` and `make test` each do all set-up from a fresh clone (Python 3.11+ only).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1

.PHONY: demo serve test lint typecheck fmt messages venv venv-dev clean bench-roster bench-rush bench-push bench-live bench-convert

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

venv: $(VENV)/.runtime
venv-dev: $(VENV)/.dev

# One line per step; the demo's counts and logs are in var/demo-load.log, every account in var/demo-accounts.json.
# The system checks run once, with migrate (load_demo and demo_accounts skip them: about a second each).
demo: venv
	@echo "Preparing the database (manage.py migrate) …"
	@$(BIN)/python manage.py migrate --noinput -v 0
	@$(BIN)/python manage.py load_demo --skip-checks
	@echo "Background tasks: var/worker.log and var/schedule.log; failed ones at http://$(HOST):$(PORT)/tasks/failed/"
	@echo ""
	@$(BIN)/python manage.py demo_accounts --skip-checks
	@echo ""
	@echo "Kehou is at http://$(HOST):$(PORT)/  (API docs: http://$(HOST):$(PORT)/api/docs/; Ctrl-C stops it)"
	@$(MAKE) --no-print-directory serve

# The server, with a task worker and the scheduler beside it, stopped with it (logs in var/). The scheduler enqueues
# the periodic jobs (every 30 s: seat holds expire, lotteries are drawn, unpaid orders close, payments and refunds are
# followed up; every 5 s the simulator channel delivers its notifications); the worker runs them, and the tasks the
# services enqueue (automatic refunds), retrying a failed one.
serve: venv
	@mkdir -p var
	@$(BIN)/python manage.py db_worker --no-reload >var/worker.log 2>&1 & worker=$$!; \
	$(BIN)/python manage.py schedule --loop 5 >var/schedule.log 2>&1 & schedule=$$!; \
	trap 'kill $$worker $$schedule 2>/dev/null' EXIT INT TERM; \
	$(BIN)/uvicorn kehou.asgi:application --host $(HOST) --port $(PORT)

test: venv-dev
	$(BIN)/pytest -p no:randomly -n 2 --dist loadfile

lint: venv-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: venv-dev
	$(BIN)/mypy kehou

fmt: venv-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

messages: venv-dev
	cd kehou && ../$(BIN)/django-admin makemessages -l zh_Hans --no-obsolete --ignore 'tests/*' && ../$(BIN)/django-admin compilemessages

bench-roster: venv-dev
	$(BIN)/python bench/roster.py $(ARGS)

# The selection rush over HTTP against the real server, beside the raw-SQL ceiling (see docs/performance.md).
bench-rush: venv-dev
	$(BIN)/python bench/rush.py $(ARGS)

bench-push: venv-dev
	$(BIN)/python bench/push.py $(ARGS)

# The operator's live view for 200 schools (1,000 sessions today): API and page, median seconds and queries.
bench-live: venv-dev
	$(BIN)/python bench/live.py $(ARGS)

bench-convert: venv-dev
	$(BIN)/python bench/convert.py $(ARGS)

clean:
	rm -rf $(VENV) var/*.sqlite3*
