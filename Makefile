# The README's commands: `make run` sets everything up and serves; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STARTER_DATA ?= ../shared/data/lastfm-2k
HOST ?= 127.0.0.1
PORT ?= 5000
# Debian packages the test suite needs (installed with apt when missing).
TEST_SYSTEM_PACKAGES := chromium chromium-driver
# ... and those the attack suite needs (`make security`).
SECURITY_SYSTEM_PACKAGES := sqlmap
# semgrep pins versions the test tools cannot share: it gets a virtualenv of its own.
SEMGREP_VENV := .venv-semgrep

export STARTER_DATA

.PHONY: run setup serve test test-quick test-deps system-deps security security-deps bench lint clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(VENV)/bin/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

$(VENV)/.security-installed: $(VENV)/.test-installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[test,security]'
	touch $@

$(SEMGREP_VENV)/bin/semgrep:
	$(PYTHON) -m venv $(SEMGREP_VENV)
	$(SEMGREP_VENV)/bin/pip install --quiet semgrep

run: setup serve

setup: $(VENV)/.installed
	$(BIN)/musicrec setup --data "$(STARTER_DATA)"

serve: $(VENV)/.installed
	$(BIN)/musicrec serve --host $(HOST) --port $(PORT)

system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
		dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing system packages:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing; \
	fi

test-deps: $(VENV)/.test-installed
	$(MAKE) system-deps SYSTEM_PACKAGES="$(TEST_SYSTEM_PACKAGES)"

test: test-deps
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

security-deps: $(VENV)/.security-installed $(SEMGREP_VENV)/bin/semgrep
	$(MAKE) system-deps SYSTEM_PACKAGES="$(SECURITY_SYSTEM_PACKAGES)"

# The attack suite against live servers on SQLite and PostgreSQL (about 15 minutes, bounded):
# sqlmap, schemathesis, bandit, semgrep, atheris, slow clients, brute force, pip-audit, and the
# security properties. The summary table is printed and written to security/results/latest.md.
security: security-deps
	SEMGREP=$(SEMGREP_VENV)/bin/semgrep $(BIN)/python -m pytest -p no:cacheprovider \
		security tests/security -m security $(PYTEST_ARGS)

# The local loop: no browser, nothing marked slow. `make test` and CI run everything.
test-quick: $(VENV)/.test-installed
	$(BIN)/python -m pytest -n 2 -m "not browser and not slow" $(PYTEST_ARGS)

bench: $(VENV)/.installed
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

lint: $(VENV)/.test-installed
	$(BIN)/ruff check src tests benchmarks security
	$(BIN)/ruff format --check src tests benchmarks security
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) $(SEMGREP_VENV) .pytest_cache .ruff_cache .mypy_cache
