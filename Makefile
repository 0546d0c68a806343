# The two set-up commands: `make demo` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test lint typecheck pytest test-workers demo bench bench-compare bench-quota docs clean

# The venv's own pip (23.x with Python 3.11) installs an editable pyproject package; upgrading
# it first only added time to every fresh run.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[test,cli,fastapi,bench,parquet,redis,docs]'
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
	$(BIN)/pytest -q $(PYTEST_JOBS) --ignore=tests/redis --ignore=tests/workers
else
	$(BIN)/pytest -q $(PYTEST_JOBS) --ignore=tests/workers
endif

test: lint typecheck pytest

# The worker integrations, each with real worker processes, a real redis-server and a
# 2,000-account ledger: too slow for `make test`. arq 0.28 pins redis<6 and celery[redis]
# needs redis>=6.1, so each engine gets its own environment.
ENGINES := arq celery

.venv-%/.installed: pyproject.toml
	$(PYTHON) -m venv .venv-$*
	.venv-$*/bin/python -m pip install --quiet -e '.[test,redis,$*]'
	touch $@

test-workers: $(foreach engine,$(ENGINES),.venv-$(engine)/.installed)
ifeq ($(REDIS_SERVER),)
	@echo "error: the worker tests need a redis-server binary (apt-get install redis-server)"; exit 1
endif
	@set -e; for engine in $(ENGINES); do \
		echo "== thoughtcredits.workers.$$engine"; \
		.venv-$$engine/bin/mypy thoughtcredits/workers/$$engine.py tests/workers/$${engine}_app.py; \
		.venv-$$engine/bin/pytest -q tests/workers/test_$$engine.py tests/workers/test_engine_retries.py \
			tests/test_docs.py tests/test_public_api.py \
			-k "test_$$engine or workers.md or workers.$$engine" \
			--basetemp="$${TMPDIR:-/tmp}/thoughtcredits-test-workers-$$engine"; \
	done

demo: $(STAMP)
	$(BIN)/python -m thoughtcredits._cli.demo

# The guide and the API reference (generated from the docstrings) into site/. `make test`
# builds it too, with --strict, in tests/test_reference.py: a broken reference fails the suite.
docs: $(STAMP)
	$(BIN)/mkdocs build --strict

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# The key's quota (issue 16), about 15 minutes: one process against each limiter model of the
# local server, then several processes sharing a key (a redis-server on PATH for the Redis ones).
bench-quota: $(STAMP)
	$(BIN)/python benchmarks/quota.py --json benchmarks/quota.json
	$(BIN)/python benchmarks/shared_quota.py --json benchmarks/shared_quota.json

# Before and after: (a) and (d) for the SDK at BASE and for the working tree, paired in one run.
BASE ?= main
bench-compare: $(STAMP)
	$(BIN)/python benchmarks/compare.py --base $(BASE)

clean:
	rm -rf $(VENV) $(foreach engine,$(ENGINES),.venv-$(engine)) .mypy_cache .ruff_cache site
