# One entry point for humans and CI. `make demo` runs the three-entity pipeline locally;
# `make test` runs ruff, mypy and every test suite; `make test-fast` the tier without servers.
# All build .venv from pinned versions.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export PIP_CONSTRAINT := $(CURDIR)/constraints.txt
# Meltano installs plugins with uv, which reads its own variable.
export UV_CONSTRAINT := $(CURDIR)/constraints.txt
export PIP_DISABLE_PIP_VERSION_CHECK := 1
PACKAGES := exact-sandbox tap-exactonline target-snowflake-audit
# Each package with its test extra, and the dev kit every test tier shares (never shipped).
EDITABLES := -e ./exact-sandbox[test] -e ./devkit -e ./tap-exactonline[test] -e ./target-snowflake-audit[test]
SOURCES := exact-sandbox/exact_sandbox tap-exactonline/tap_exactonline target-snowflake-audit/target_snowflake_audit devkit/archive_devkit

.PHONY: venv test test-fast lint typecheck pytest demo chaos benchmarks clean

$(BIN)/.installed: constraints.txt requirements-dev.txt devkit/pyproject.toml $(foreach p,$(PACKAGES),$(p)/pyproject.toml)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements-dev.txt $(EDITABLES)
	touch $@

venv: $(BIN)/.installed

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy $(SOURCES) benchmarks scripts

pytest: venv
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

# The fast tier: lint, types and the tests that start no server (under 3 minutes).
UNIT_TESTS := $(wildcard exact-sandbox/tests/unit tap-exactonline/tests/unit target-snowflake-audit/tests/unit devkit/tests)
test-fast: lint typecheck
	$(BIN)/pytest $(UNIT_TESTS) $(PYTEST_ARGS)

demo: venv
	$(BIN)/python scripts/demo.py $(DEMO_ARGS)

# The pipeline under seeded faults, kills and edits, then every invariant checked (under 10
# minutes); e.g. `make chaos CHAOS_ARGS="--seed 7 --rounds 6"`, or `--short` as `make test` runs it.
chaos: venv
	$(BIN)/python scripts/chaos.py $(CHAOS_ARGS)

# Figures, not tests. Sizes can be changed, e.g. `make benchmarks TARGET_BENCH_ARGS="--rows 200000"`.
benchmarks: venv
	$(BIN)/python benchmarks/sandbox_throughput.py $(SANDBOX_BENCH_ARGS)
	$(BIN)/python benchmarks/tap_throughput.py $(TAP_BENCH_ARGS)
	$(BIN)/python benchmarks/target_throughput.py $(TARGET_BENCH_ARGS)

clean:
	rm -rf $(VENV) .meltano .demo .chaos .pytest_cache .mypy_cache .ruff_cache
