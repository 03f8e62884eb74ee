# Citizen Wallet. `make run` starts everything; `make test` runs every test.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The independent implementations the interop tests drive (tests/interop/README.md): npm
# packages pinned in package-lock.json, installed when Node.js is here (stamped like the venv).
INTEROP := tests/interop
NODE_STAMP := $(INTEROP)/node_modules/.installed
NODE_DEPS := $(if $(shell command -v npm),$(NODE_STAMP))

.PHONY: run test lint format bench clean-data help screenshots vendor

help:
	@echo "make run    - embedded PostgreSQL + Redis, migrate, seed, API on http://127.0.0.1:8000"
	@echo "make test   - every test, against real PostgreSQL and Redis"
	@echo "make lint   - ruff and mypy (strict)"
	@echo "make bench  - benchmarks against a running system (see bench/README.md)"
	@echo "make screenshots - the console screenshots in docs/img/ (browser tests)"
	@echo "make vendor - re-vendor the consoles' browser libraries from npm (scripts/vendor.sh)"

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

$(NODE_STAMP): $(INTEROP)/package.json $(INTEROP)/package-lock.json
	cd $(INTEROP) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

run: $(STAMP)
	$(BIN)/wallet dev

test: $(STAMP) $(NODE_DEPS)
	@test -x /usr/bin/chromium || echo "NOTE: Chromium is not installed: the console browser tests will be SKIPPED, and FAIL under CI=1 (apt-get install -y chromium)."
	@test -n "$(NODE_DEPS)" || echo "NOTE: Node.js/npm are not installed: the interop tests will be SKIPPED, and FAIL under CI=1 (apt-get install -y nodejs npm)."
	$(BIN)/pytest

# The console screenshots in docs/img/, taken by the browser tests.
screenshots: $(STAMP)
	WALLET_SCREENSHOTS=docs/img $(BIN)/pytest -q tests/documents/test_verifier_web.py \
		tests/documents/test_verifier_openid4vp.py tests/documents/test_agency_console.py tests/disbursement/test_welfare_console.py

# Third-party browser code of the consoles, from npm at pinned versions (scripts/vendor.sh).
vendor:
	scripts/vendor.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m bench.run_all

clean-data:
	rm -rf .wallet
