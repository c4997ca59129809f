# livegrad: `make run` and `make test` set everything up themselves (see README.md).
# GNU make. Everything goes into $(VENV); a stamp file makes a second setup instant.

VENV    ?= .venv
PY      := $(VENV)/bin/python
PIP     := $(PY) -m pip
PYTHON  ?= python3
STAMP   := $(VENV)/.stamp

export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup run test lint typecheck imports bench clean browser jslint jstest

# Web front end: its npm libraries go into web/node_modules (served at /node_modules),
# exactly as web/package-lock.json pins them. The browser tests need a Chromium: the system's
# when there is one, else Debian's package (as root), else Playwright's own download.
NPM_STAMP     := web/node_modules/.stamp
BROWSER_STAMP := $(VENV)/.browser
SETUP_STAMPS  := $(STAMP) $(NPM_STAMP)

$(NPM_STAMP): web/package.json web/package-lock.json
	@command -v npm >/dev/null || { echo "livegrad's web UI needs Node 20 and npm." >&2; exit 1; }
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

browser: $(BROWSER_STAMP)
$(BROWSER_STAMP): $(STAMP)
	@if [ -x /usr/bin/chromium ] || command -v chromium >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && apt-get install -y -qq chromium; \
	else $(VENV)/bin/playwright install chromium; fi
	@touch $@

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

test: lint typecheck imports browser jslint jstest
	$(VENV)/bin/pytest

lint: setup
	$(VENV)/bin/ruff check .

typecheck: setup
	$(VENV)/bin/mypy engine

imports: setup
	$(VENV)/bin/lint-imports

# The front end: eslint (web/eslint.config.js) and Node's test runner on its pure modules.
jslint: $(NPM_STAMP)
	cd web && node_modules/.bin/eslint .

jstest: $(NPM_STAMP)
	node --test tests/webunit/

bench: setup
	@set -e; found=; for f in benchmarks/*.py; do \
	  grep -q '__main__' "$$f" || continue; found=1; \
	  echo "== $$f"; $(PY) "$$f"; \
	done; [ -n "$$found" ] || echo "no benchmarks/*.py yet"

clean:
	rm -rf $(VENV) web/node_modules .pytest_cache .mypy_cache .ruff_cache .import_linter_cache build dist *.egg-info
