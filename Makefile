# The README's commands: `make run` sets everything up and serves; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STARTER_DATA ?= ../shared/data/lastfm-2k
HOST ?= 127.0.0.1
PORT ?= 5000
# Debian packages the test suite and the benchmarks need (installed with apt when missing).
TEST_SYSTEM_PACKAGES := chromium chromium-driver
BENCH_SYSTEM_PACKAGES := wrk openjdk-17-jre-headless

export STARTER_DATA

.PHONY: run setup serve test test-deps system-deps bench-system-deps bench bench-quick lint clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(VENV)/bin/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

$(VENV)/.bench-installed: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[bench]'
	touch $@

run: setup serve

setup: $(VENV)/.installed
	$(BIN)/musicrec setup --data "$(STARTER_DATA)"

serve: $(VENV)/.installed
	$(BIN)/musicrec serve --host $(HOST) --port $(PORT)

define install-missing
	@missing=""; for p in $(1); do \
		dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing system packages:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing; \
	fi
endef

system-deps:
	$(call install-missing,$(TEST_SYSTEM_PACKAGES))

bench-system-deps:
	$(call install-missing,$(BENCH_SYSTEM_PACKAGES))

test-deps: $(VENV)/.test-installed system-deps

test: test-deps
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

# Every case, ours against the reference (under 30 minutes): benchmarks/results/latest.json and
# docs/benchmarks.md. The quick mode (CI's smoke test, under 10 minutes) skips train-scale-full.
bench: $(VENV)/.bench-installed bench-system-deps
	$(BIN)/python benchmarks/run.py

bench-quick: $(VENV)/.bench-installed bench-system-deps
	$(BIN)/python benchmarks/run.py --quick

lint: $(VENV)/.test-installed
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
