# Kehou: `make demo` and `make test` each do all set-up from a fresh clone (Python 3.11+ only).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1

.PHONY: demo serve test lint typecheck fmt messages venv venv-dev clean bench-roster bench-rush

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

demo: venv
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py demo_accounts
	@echo "Kehou is at http://$(HOST):$(PORT)/  (API docs: http://$(HOST):$(PORT)/api/docs/)"
	$(MAKE) --no-print-directory serve

# The server, with the ticker beside it (every 30 s: seat holds expire, lotteries are drawn, unpaid orders close,
# refunds are followed up, the simulator channel delivers its notifications).
serve: venv
	@mkdir -p var
	@$(BIN)/python manage.py tick --loop 30 >var/tick.log 2>&1 & tick=$$!; \
	trap 'kill $$tick 2>/dev/null' EXIT INT TERM; \
	$(BIN)/uvicorn kehou.asgi:application --host $(HOST) --port $(PORT)

test: venv-dev
	$(BIN)/pytest -p no:randomly -n 2 --dist loadfile

lint: venv-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

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

clean:
	rm -rf $(VENV) var/*.sqlite3*
