# The two commands of the README:
#   make demo   installs everything and runs the embedded demo (SQLite + embedded queue)
#   make test   installs everything (dev tools, Chromium) and runs lint, types and all tests
# Installs are idempotent and fast on re-run: stamp files skip them until pyproject.toml,
# package.json or package-lock.json change (delete .venv or node_modules to start over).

VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3
PY_STAMP := $(VENV)/.lungsign-installed
NPM_STAMP := node_modules/.lungsign-installed
CHROMIUM := /usr/bin/chromium
# extra pytest arguments, e.g. make test PYTEST_ARGS="-x -k login"
PYTEST_ARGS ?=
PYTEST := $(BIN)/pytest -q --durations=5 $(PYTEST_ARGS)
# Pure PyTorch tests never touch the database: the PostgreSQL run leaves them out.
PG_SUITE := tests --ignore=tests/models

export PIP_DISABLE_PIP_VERSION_CHECK := 1
export DEBIAN_FRONTEND := noninteractive

.PHONY: demo test install chromium lint test-sqlite test-postgres mutation screenshots

$(PY_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	@# torch first, the CPU build from local disk, and only when no torch is there yet:
	@# installed after the project, pip would pick a multi-GB CUDA build.
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# htmx and swagger-ui-dist (Swagger UI for /docs), served from node_modules/, never a CDN
$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(PY_STAMP) $(NPM_STAMP)

# options for `lungsign demo`, e.g. make demo DEMO_ARGS="--port 8080 --reset-passwords"
DEMO_ARGS ?=
demo: install
	$(BIN)/lungsign demo $(DEMO_ARGS)

# Debian's Chromium for the browser tests (never Playwright's own download). Without root a
# local run goes on and the browser tests skip with a reason; in CI (CI=true) they would fail.
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
		elif sudo -n true 2>/dev/null; then sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; \
		else echo "note: $(CHROMIUM) missing and no root to install it: browser tests will skip"; fi; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The SQLite suite ignores the PostgreSQL/Redis URLs even when they are set.
test-sqlite: install chromium
	@echo "== test suite on SQLite"
	env -u LUNGSIGN_TEST_DATABASE_URL -u LUNGSIGN_TEST_REDIS_URL $(PYTEST) tests

# The same suite on PostgreSQL and Redis, when their URLs are set (.ci/run sets both).
test-postgres: install chromium
	@if [ -n "$$LUNGSIGN_TEST_DATABASE_URL" ]; then \
		echo "== test suite on PostgreSQL $$LUNGSIGN_TEST_DATABASE_URL, Redis $$LUNGSIGN_TEST_REDIS_URL"; \
		$(PYTEST) $(PG_SUITE); \
	else echo "== LUNGSIGN_TEST_DATABASE_URL not set: the PostgreSQL/Redis suite did not run"; fi

# Every stage runs even when an earlier one fails, so one run shows every problem; the exit
# status is non-zero when any failed (pytest's "no tests collected", exit 5, included).
test: install chromium
	@failed=""; \
	$(MAKE) --no-print-directory lint || failed="$$failed lint"; \
	$(MAKE) --no-print-directory test-sqlite || failed="$$failed test-sqlite"; \
	$(MAKE) --no-print-directory test-postgres || failed="$$failed test-postgres"; \
	if [ -n "$$failed" ]; then echo "== make test FAILED:$$failed"; exit 1; fi; \
	echo "== make test passed"

# Screenshots of every page at 1280x900 and 390x844, from a fresh demo in a temporary data dir
# (demo study 1 must open first: minutes on 2 idle cores, 18 min on a busy machine):
# var/screenshots/<page>-<size>.png with its report.txt, and the README's images in docs/img/.
# tools/screenshots.py lists the pages.
screenshots: install chromium
	$(BIN)/python -m tools.screenshots

# Mutation testing of the modules that carry the guarantees (not part of `make test`: too slow
# for CI's 2 cores). Config in pyproject.toml [tool.mutmut]; each mutant runs against the fast
# tests that call the mutated function. One module at a time, e.g.
#   make mutation MUTATION_MODULES=models.hu
# then a kill score per module (killed + timed out) / (all tested). Details: docs/testing.md.
MUTATION_MODULES ?= app.services.studies.sampling app.services.reading.loop models.folds models.metrics \
	app.services.studies.stats app.security models.hu
mutation: install
	@for module in $(MUTATION_MODULES); do \
		echo "== mutmut run $$module.*"; \
		nice -n 10 $(BIN)/mutmut run --max-children 2 "$$module.*" > /dev/null || exit 1; \
	done
	@$(BIN)/mutmut results --all true | awk -F': ' -v modules="$(MUTATION_MODULES)" ' \
		{ name = $$1; sub(/^ +/, "", name); sub(/\.x.*/, "", name); status[name, $$2]++ } \
		END { n = split(modules, m, " "); \
			printf "%-30s %7s %8s %8s %9s\n", "module", "killed", "survived", "no tests", "score"; \
			for (i = 1; i <= n; i++) { \
				k = status[m[i], "killed"] + status[m[i], "timeout"]; \
				s = status[m[i], "survived"] + status[m[i], "suspicious"]; \
				t = k + s + status[m[i], "no tests"]; \
				printf "%-30s %7d %8d %8d %8.1f%%\n", m[i], k, s, status[m[i], "no tests"], t ? 100 * k / t : 0 } }'
