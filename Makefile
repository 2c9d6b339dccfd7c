# The two commands of the README:
#   make demo   installs everything and runs the embedded demo (SQLite + embedded queue)
#   make test   installs everything (dev tools, Chromium) and runs lint, types and all tests
# Installs are idempotent: a stamp file skips them until pyproject.toml or package.json change.

VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.lungsign-installed
PYTHON ?= python3
PG_SUITE := tests --ignore=tests/models

export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test install chromium lint unit integration

$(STAMP): pyproject.toml package.json package-lock.json
	$(PYTHON) -m venv $(VENV)
	# torch first, CPU build from local disk, unless a torch is already present
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	npm ci --no-audit --no-fund --loglevel=error
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/lungsign demo

chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit: install chromium
	$(BIN)/pytest -q tests

# The same suite (less the pure-model tests) on PostgreSQL and Redis, when their URLs are set.
integration: install chromium
	@if [ -n "$$LUNGSIGN_TEST_DATABASE_URL" ]; then \
		echo "== PostgreSQL $$LUNGSIGN_TEST_DATABASE_URL, Redis $$LUNGSIGN_TEST_REDIS_URL"; \
		$(BIN)/pytest -q $(PG_SUITE); \
	else echo "== LUNGSIGN_TEST_DATABASE_URL not set: PostgreSQL/Redis suite not run"; fi

test: lint unit integration
