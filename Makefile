# modec: two-command quickstart (`make demo`, `make test`); everything installs into .venv.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
MODEC := $(VENV)/bin/modec
STAMP := $(VENV)/.modec-installed
DEMO := .modec-demo

.PHONY: demo test bench lint typecheck check clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,bench,lsp]'
	touch $(STAMP)

demo: $(STAMP)
	$(MODEC) lint modes/ --strict
	$(MODEC) compile modes/
	$(MODEC) test modes/
	$(MODEC) table modes/development_mode.yaml
	$(MODEC) route --mode modes/default_roles.yaml "Audit the payment service for a vulnerability" --explain
	$(MODEC) route --mode modes/development_mode.yaml --title "fix(parser): crash on empty input" --complexity simple "segfault when the file is empty" --explain
	$(MODEC) route --mode modes/research_mode.yaml "Check the citations in chapter two" --explain
	$(MODEC) route --mode modes/documentation_mode.yaml "Write a getting started tutorial" --explain
	$(MODEC) route --mode modes/security_review_mode.yaml "Triage the CVE in our lockfile; an API key leaked" --explain
	@echo "--- a session bound by mode hash (SQLite .task_orchestrator/modec.db, diskcache .task_orchestrator/cache)"
	rm -rf $(DEMO) && mkdir -p $(DEMO) && touch $(DEMO)/pyproject.toml
	$(MODEC) init $(DEMO)
	$(MODEC) modes $(DEMO)
	$(MODEC) session start --project $(DEMO) --id demo
	$(MODEC) session route --project $(DEMO) demo --title "fix(io): crash" --complexity simple "crash on save"
	$(MODEC) session switch --project $(DEMO) demo security_review_mode.yaml
	$(MODEC) session route --project $(DEMO) demo "Audit the session cookies"
	$(MODEC) session show --project $(DEMO) demo
	$(MODEC) session end --project $(DEMO) demo

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) -m benchmarks

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: $(STAMP)
	$(VENV)/bin/mypy --strict modec

check: lint typecheck test

clean:
	rm -rf $(VENV) .hypothesis .mypy_cache .ruff_cache
