# FieldRoute developer commands. `make demo` and `make test` are all a newcomer needs.
SHELL := /bin/bash
VENV := .venv
STAMP := $(VENV)/.installed

# Interpreter: $(PYTHON) if set, else the first 3.12+ among python3.12, python3.13,
# python3, else a pyenv-installed 3.12+ (pyenv shims exist but fail when not selected).
PYTHON ?= $(shell ./scripts/find-python)

.PHONY: demo test bench lint typecheck clean venv

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
	@echo "== geocoding: 1,000 cached addresses (bar: < 1 s) =="
	$(VENV)/bin/python -m optimizer.bench.geocoding
	@echo "== case book: import of 100,000 visits; plan --book overhead on 1,000 (bar: < 1 s), SQLite and PostgreSQL =="
	$(VENV)/bin/python -m optimizer.bench.book
	@echo "== horizon: 5 days, 500 visits / 20 agents, against day by day (docs/benchmarks.md) =="
	$(VENV)/bin/python -m optimizer.bench.horizon 500 20 2 20
	@echo "== re-planning and slots: property tests over 60 generated days each (issue 10) =="
	FIELDROUTE_PROPERTY_EXAMPLES=60 $(VENV)/bin/python -m pytest tests/test_replan_properties.py tests/test_replan.py -q -p no:cacheprovider -k "no_event or no_events or slot or verifier"
	@echo "== hostile input: 300 mutated sample files (no traceback, exit 0 or 2, nothing outside --out) =="
	FIELDROUTE_FUZZ_EXAMPLES=300 $(VENV)/bin/python -m pytest tests/test_fuzz.py -q -p no:cacheprovider

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
