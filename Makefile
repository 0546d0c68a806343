# The two set-up commands: `make demo` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test lint typecheck pytest demo bench bench-compare clean

# The venv's own pip (23.x with Python 3.11) installs an editable pyproject package; upgrading
# it first only added time to every fresh run.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[test,cli,fastapi,bench,parquet,redis]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# Most tests wait on sockets, servers and subprocesses rather than on the CPU: four workers
# (pytest-xdist) keep `make test` under three minutes on two cores. PYTEST_JOBS= for none.
PYTEST_JOBS ?= -n 4

# The Redis tests need a redis-server binary; CI (CI=true) must run them, a developer may skip.
REDIS_SERVER := $(shell command -v redis-server 2>/dev/null)

pytest: $(STAMP)
ifeq ($(REDIS_SERVER),)
	@if [ "$$CI" = true ]; then echo "error: CI=true but no redis-server binary, so the Redis tests cannot run (apt-get install redis-server)"; exit 1; fi
	@echo "note: no redis-server binary: the Redis tests (tests/redis) are skipped; install it with apt-get install redis-server (or brew install redis)"
	$(BIN)/pytest -q $(PYTEST_JOBS) --ignore=tests/redis
else
	$(BIN)/pytest -q $(PYTEST_JOBS)
endif

test: lint typecheck pytest

demo: $(STAMP)
	$(BIN)/python -m thoughtcredits._cli.demo

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# Before and after: (a) and (d) for the SDK at BASE and for the working tree, paired in one run.
BASE ?= main
bench-compare: $(STAMP)
	$(BIN)/python benchmarks/compare.py --base $(BASE)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
