# Two commands on a fresh machine: `make run` (try it) and `make test` (test it).
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin

.PHONY: run test lint install

run: $(VENV)/.installed
	$(BIN)/flask --app bot dev

test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@
