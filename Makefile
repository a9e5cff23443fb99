# Two commands for a fresh machine: `make demo` (run Tessera with demo data) and `make test`.
# Both create .venv, install the package with its dev extra and fetch the front-end libraries.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
VENDORED := tessera/platform/static/vendor/.stamp
PYTEST_ARGS ?=

.PHONY: install vendor demo serve test test-sqlite lint format wheel clean

install: $(INSTALLED)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

vendor: $(VENDORED)

$(VENDORED): package.json scripts/vendor.py
	npm install --no-package-lock --no-audit --no-fund --loglevel=error
	$(PYTHON) scripts/vendor.py

demo: install vendor
	$(VENV)/bin/tessera demo

serve: install vendor
	$(VENV)/bin/tessera serve

# Every database test runs on SQLite, and on PostgreSQL too when TESSERA_TEST_POSTGRES_URL is set.
test: install vendor
	$(PY) -m pytest -n auto --dist loadgroup $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(PY) scripts/check_templates.py

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

wheel: install
	rm -rf dist && $(PY) -m pip wheel --no-deps --wheel-dir dist .

clean:
	rm -rf $(VENV) node_modules tessera/platform/static/vendor dist build .mypy_cache .ruff_cache .pytest_cache
