# Two commands on a fresh machine: `make run` (try it) and `make test` (test it).
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin

MYPY_REPORT = .mypy_cache/report.txt

.PHONY: run test lint mypy-baseline install

run: $(VENV)/.installed
	$(BIN)/flask --app bot dev

test: lint
	$(BIN)/python -m pytest

# ruff; the import contracts of pyproject.toml; mypy, where only the errors listed in mypy-baseline.txt
# may remain (flows/ has none) and a listed error that is gone fails too: `make mypy-baseline` drops it.
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-logo
	@if grep -q '^flows/' mypy-baseline.txt; then echo "mypy-baseline.txt may list no error in flows/"; exit 1; fi
	@mkdir -p .mypy_cache
	$(BIN)/mypy > $(MYPY_REPORT) || [ $$? -eq 1 ]
	$(BIN)/mypy-baseline filter < $(MYPY_REPORT)

# Drops from mypy-baseline.txt the errors that are gone; refuses while there is a new one (fix it instead).
mypy-baseline: $(VENV)/.installed
	@mkdir -p .mypy_cache
	$(BIN)/mypy > $(MYPY_REPORT) || [ $$? -eq 1 ]
	$(BIN)/mypy-baseline filter --allow-unsynced < $(MYPY_REPORT)
	$(BIN)/mypy-baseline sync < $(MYPY_REPORT)

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@
