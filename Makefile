# modec: two-command quickstart (`make demo`, `make test`); everything installs into .venv.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
MODEC := $(VENV)/bin/modec
STAMP := $(VENV)/.modec-installed

.PHONY: demo test bench lint typecheck check clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,bench]'
	touch $(STAMP)

demo: $(STAMP)
	$(MODEC) lint modes/ --strict

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) -m benchmarks

lint: $(STAMP)
	$(VENV)/bin/ruff check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy --strict modec

check: lint typecheck test

clean:
	rm -rf $(VENV) .hypothesis .mypy_cache .ruff_cache
