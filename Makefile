# Two commands from a fresh clone:
#   make run    creates .venv, installs, starts the whole system with demo data
#   make test   creates .venv with the dev extras, runs every check and test
PYTHON ?= python3
# Test workers (pytest-xdist); each test file stays on one worker (its session fixtures).
TEST_WORKERS ?= 2
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test lint protos schema clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/salon up --demo

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check gateway services launcher tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

protos: $(VENV)/.installed-dev
	$(BIN)/python protos/generate.py

schema: $(VENV)/.installed-dev
	$(BIN)/python -m gateway.export_schema

clean:
	rm -rf $(VENV) .salon-data .pytest_cache .ruff_cache .mypy_cache
