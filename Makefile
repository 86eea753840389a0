# The two commands of the README do all the set-up themselves: `make qualify` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: qualify test lint serve clean

qualify: $(INSTALLED)
	$(BIN)/recette run

test: $(INSTALLED)
	$(BIN)/ruff check harness mocks tests
	$(BIN)/pytest

lint: $(INSTALLED)
	$(BIN)/ruff check harness mocks tests
	$(BIN)/ruff format --check harness mocks tests

serve: $(INSTALLED)
	$(BIN)/recette serve

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

clean:
	rm -rf $(VENV) reports/*/ .pytest_cache
