# FieldRoute developer commands. `make demo` and `make test` are all a newcomer needs.
SHELL := /bin/bash
VENV := .venv
STAMP := $(VENV)/.installed

# Interpreter: $(PYTHON) if set, else the first 3.12+ among python3.12, python3.13,
# python3, else a pyenv-installed 3.12+ (pyenv shims exist but fail when not selected).
PYTHON ?= $(shell ./scripts/find-python)

.PHONY: demo serve test bench lint typecheck clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	@if [ -z "$(PYTHON)" ]; then echo "FieldRoute needs Python 3.12 or newer: install python3.12 (apt, pyenv or python.org) or run 'make PYTHON=/path/to/python3.12'" >&2; exit 1; fi
	@echo "Creating $(VENV) with $(PYTHON)"
	@rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/fieldroute plan data/visits.csv data/agents.csv --config data/fieldroute.toml --date 2026-12-01 --time-limit 10 --out maps/2026-12-01
	$(VENV)/bin/fieldroute plan data/liechtenstein/visits.csv data/liechtenstein/agents.csv --config data/liechtenstein/fieldroute.toml --date 2026-12-02 --time-limit 10 --out maps/2026-12-02
	@echo
	@echo "Done. Open maps/2026-12-01/overview.html (dispatcher) and maps/2026-12-01/agent-A01-5ghnqbl26f.html (an agent's day);"
	@echo "the road-time day is in maps/2026-12-02/. Plans, itineraries and notices are beside them."
	@echo "To run fieldroute yourself (README), activate the venv first: source $(VENV)/bin/activate"
	@echo "(or type $(VENV)/bin/fieldroute instead of fieldroute)."

# The console on the sample day: a local book in maps/console/, made on the first run
# (the sample imported, 2026-12-01 planned, a demo admin with a random password).
CONSOLE := maps/console
CONSOLE_DB := $(CONSOLE)/fieldroute.db
serve: $(STAMP)
	@if [ ! -f $(CONSOLE_DB) ]; then \
	  set -e; mkdir -p $(CONSOLE); \
	  $(VENV)/bin/fieldroute book init --db $(CONSOLE_DB); \
	  $(VENV)/bin/fieldroute book import data/visits.csv --agents data/agents.csv --db $(CONSOLE_DB); \
	  $(VENV)/bin/fieldroute plan --book --db $(CONSOLE_DB) --config data/fieldroute.toml --date 2026-12-01 --time-limit 10 --out $(CONSOLE)/2026-12-01 -q; \
	  (umask 077; $(VENV)/bin/python -c "import secrets; print(secrets.token_urlsafe(12))" > $(CONSOLE)/demo-password); \
	  $(VENV)/bin/fieldroute users add demo --role admin --db $(CONSOLE_DB) < $(CONSOLE)/demo-password; \
	fi
	@echo
	@echo "Console: http://127.0.0.1:8000/?date=2026-12-01  (listens on this machine only)"
	@echo "Log in as demo, password: $$(cat $(CONSOLE)/demo-password)   (rm -r $(CONSOLE) starts afresh)"
	@echo
	$(VENV)/bin/fieldroute serve --db $(CONSOLE_DB) --config data/fieldroute.toml

test: lint typecheck
	$(VENV)/bin/python -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check optimizer tests
	$(VENV)/bin/ruff format --check optimizer tests

typecheck: $(STAMP)
	$(VENV)/bin/mypy optimizer

bench: $(STAMP)
	$(VENV)/bin/python -m pip install --quiet -e '.[dev,bench]'
	$(VENV)/bin/fieldroute bench
	$(VENV)/bin/python -m optimizer.bench.roads
	@echo "== appointment slots: answer time on a 300-visit plan (bar: < 1 s) =="
	$(VENV)/bin/python -m optimizer.bench.slots
	@echo "== hand edits: p95 of one checked move (apply_move + verifier) on 300/30 (bar: <= 150 ms) and 1,000/50 =="
	$(VENV)/bin/python -m optimizer.bench.edits 300/30 1000/50
	@echo "== geocoding: 1,000 cached addresses (bar: < 1 s) =="
	$(VENV)/bin/python -m optimizer.bench.geocoding
	@echo "== case book: import of 100,000 visits; plan --book overhead on 1,000 (bar: < 1 s), SQLite and PostgreSQL =="
	$(VENV)/bin/python -m optimizer.bench.book
	@echo "== field links: 50 agents posting outcomes for a minute against uvicorn (no error, no lost outcome), SQLite and PostgreSQL with FIELDROUTE_TEST_PG =="
	$(VENV)/bin/python -m optimizer.bench.web_field 50 60
	@echo "== horizon: 5 days, 500 visits / 20 agents, against day by day (docs/benchmarks.md) =="
	$(VENV)/bin/python -m optimizer.bench.horizon 500 20 2 20
	@echo "== console: p95 of /check on 300/30 (bar: <= 150 ms) and 1,000/50; /slots p95 (bar: <= 1 s) =="
	$(VENV)/bin/python -m optimizer.bench.web 300 30 1000 50
	@echo "== national day by regions: 20,000 visits / 1,000 agents / 40 cities, local and Ray (bar: < 10 min each); price of splitting on 3,000 visits (bar: <= 1 % served priority) =="
	$(VENV)/bin/python -m optimizer.bench.regions price 3000 120 3 120
	$(VENV)/bin/python -m optimizer.bench.regions national 20000 1000 40 480
	@echo "== size: peak memory of a day of 1,000 / 5,000 / 20,000 visits (a day that does not fit is refused, exit 2) =="
	$(VENV)/bin/python -m optimizer.bench.memory 1000 5000 20000
	@echo "== horizon: 5 days, 2,000 visits / 40 agents, 30 s (bar: whole plan --days 5 <= 60 s on 2 cores) =="
	$(VENV)/bin/python -m optimizer.bench.horizon 2000 40 3 30
	@echo "== re-planning and slots: property tests over 60 generated days each (issue 10) =="
	FIELDROUTE_PROPERTY_EXAMPLES=60 $(VENV)/bin/python -m pytest tests/test_replan_properties.py tests/test_replan.py -q -p no:cacheprovider -k "no_event or no_events or slot or verifier"
	@echo "== hostile input: 300 mutated sample files (no traceback, exit 0 or 2, nothing outside --out) =="
	FIELDROUTE_FUZZ_EXAMPLES=300 $(VENV)/bin/python -m pytest tests/test_fuzz.py -q -p no:cacheprovider

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
