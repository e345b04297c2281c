# QuotaLink: `make run` (set-up, synthetic province, full pipeline) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PERSONS ?= 3000
SEED ?= 42
SOURCES_DIR ?= data/sources
TRUTH_DIR ?= data/truth
export SOURCES_DIR TRUTH_DIR

.PHONY: run test unit integration ui review lint bench generate install system-deps clean-warehouse

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

# Chromium, CJK fonts and poppler-utils through apt, when missing (the same script as .ci/run).
system-deps:
	./scripts/install-system-deps.sh

generate: $(STAMP)
	@if [ ! -d "$(SOURCES_DIR)" ]; then \
	  $(BIN)/quotalink generate --out $(SOURCES_DIR) --truth $(TRUTH_DIR) --persons $(PERSONS) --seed $(SEED); \
	else echo "using the deliveries already in $(SOURCES_DIR)"; fi

run: generate
	$(BIN)/quotalink run

test: $(STAMP) system-deps
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest -q -n 2 --dist loadfile tests

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

integration: $(STAMP) system-deps
	$(BIN)/pytest -q tests/integration

ui: $(STAMP)
	$(BIN)/quotalink ui

review: $(STAMP)
	$(BIN)/quotalink review

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/bench_registry_load.py --rows 100000

clean-warehouse:
	rm -rf var/pgdata
