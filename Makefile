# livegrad: `make run` and `make test` set everything up themselves (see README.md).
# GNU make. Everything goes into $(VENV); a stamp file makes a second setup instant.

VENV    ?= .venv
PY      := $(VENV)/bin/python
PIP     := $(PY) -m pip
PYTHON  ?= python3
STAMP   := $(VENV)/.stamp

export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup run test lint typecheck imports bench clean

# Web front end (added by the UI issue): a node_modules stamp built by `npm ci` from
# web/package-lock.json goes here, and joins SETUP_STAMPS.
SETUP_STAMPS := $(STAMP)

setup: $(SETUP_STAMPS)

# torch goes in first, pinned, so that the resolver never picks a torch of its own.
$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "livegrad needs Python 3.11 or newer; '$(PYTHON)' is: $$($(PYTHON) --version 2>&1)." >&2; \
	  echo "Install Python 3.11+, or point make at it: make PYTHON=python3.11 ..." >&2; \
	  exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -c constraints.txt torch==2.13.0
	$(PIP) install -q -c constraints.txt -e '.[dev]'
	@touch $@

# Starts the playground on embedded defaults.
run: setup
	$(VENV)/bin/livegrad serve

test: lint typecheck imports
	$(VENV)/bin/pytest

lint: setup
	$(VENV)/bin/ruff check .

typecheck: setup
	$(VENV)/bin/mypy engine

imports: setup
	$(VENV)/bin/lint-imports

bench: setup
	@set -e; found=; for f in benchmarks/*.py; do \
	  [ -e "$$f" ] || continue; found=1; \
	  echo "== $$f"; $(PY) "$$f"; \
	done; [ -n "$$found" ] || echo "no benchmarks/*.py yet"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache build dist *.egg-info
