# One command each: the first use creates .venv from pinned dependencies, later uses reuse it.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# dbt, dagster and ruff are found on PATH by the tools that call them.
export PATH := $(abspath $(BIN)):$(PATH)
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: setup run check bench rebuild-raw docs dev test test-fast browser lint format clean constraints

# Python compiles each module it imports from source on every start when it may not write its
# bytecode cache (uv installs without one; some machines set PYTHONDONTWRITEBYTECODE): ~10 s more
# for every process that imports dagster or dbt. So the installed packages are compiled once, and
# make's commands let Python cache the project's own modules (in __pycache__, ignored by git).
export PYTHONDONTWRITEBYTECODE :=
$(INSTALLED): pyproject.toml constraints.txt Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip install --quiet --python $(BIN)/python -c constraints.txt -e '.[dev,spark]'
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib
	touch $@

setup: $(INSTALLED)

run: setup  ## extract → landing → raw → dbt → checks, then print a summary
	$(BIN)/python -m stripe_assets.tooling.launcher run

check: setup  ## the whole graph with every check, for CI: exits 1 when an ERROR check fails
	$(BIN)/python -m stripe_assets.tooling.launcher check

bench: setup  ## benchmarks against the sandbox on loopback (~30 min): docs/bench/results.json
	$(BIN)/python -m stripe_assets.tooling.benchmark

rebuild-raw: setup  ## empty raw and reload it from the landing zone (no Stripe requests)
	$(BIN)/python -m stripe_assets.tooling.launcher rebuild-raw

docs: setup  ## dbt's documentation site on http://127.0.0.1:8080 (DBT_DOCS_PORT)
	$(BIN)/python -m stripe_assets.tooling.launcher docs

dev: setup  ## the Dagster UI on http://127.0.0.1:3000 (with the sandbox unless STRIPE_API_KEY is set)
	$(BIN)/python -m stripe_assets.tooling.launcher dev

test: setup lint browser  ## the whole suite (make check's cases included)
	$(BIN)/python -m pytest -n 6 --dist loadfile --no-loadscope-reorder --durations=30

test-fast: setup  ## the unit tests of pure logic alone (tests/unit), in seconds
	$(BIN)/python -m pytest -q tests/unit

# The UI test drives Debian's Chromium (no browser can be downloaded here): install it if missing.
browser:
	@command -v chromium >/dev/null || command -v google-chrome >/dev/null || { \
	  echo "Installing Debian's chromium for the UI test..."; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf data dbt_project/target dbt_project/logs

constraints: setup  ## re-pin every transitive dependency from the current .venv
	{ echo "# Every transitive dependency pinned, from a working install (regenerate: make constraints)."; \
	  $(BIN)/uv pip freeze --python $(BIN)/python | grep -v -e '^-e' -e '^stripe-assets'; } > constraints.txt
