# The two commands a newcomer needs are `make demo` and `make test`; each builds .venv itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint soak bench install clean migration theme-check theme-check-install

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The sandbox stores and the demo are a second, development-only distribution (sandbox/pyproject.toml).
$(STAMP): $(BIN)/python pyproject.toml sandbox/pyproject.toml
	$(BIN)/python -m pip install -qq --upgrade pip
	$(BIN)/python -m pip install -qq -e '.[dev]' -e ./sandbox
	touch $(STAMP)

install: $(STAMP)

# Shopify's theme-check lints the theme app extension (extensions/backorder-eta). It is an npm package,
# pinned by .ci/node/package-lock.json and installed into .ci/node; `make test` installs it where npm exists.
THEME_CHECK := .ci/node/node_modules/@shopify/theme-check-node/package.json
HAVE_NPM := $(shell command -v npm 2>/dev/null)

$(THEME_CHECK): .ci/node/package.json .ci/node/package-lock.json
	npm ci --prefix .ci/node --no-audit --no-fund --loglevel=error
	touch $(THEME_CHECK)

theme-check-install: $(THEME_CHECK)

theme-check: $(THEME_CHECK)
	node .ci/theme-check.mjs extensions/backorder-eta

demo: $(STAMP)
	$(BIN)/connector demo $(DEMO_ARGS)

# The suite runs on one process per core (pytest-xdist); work stealing keeps the long end-to-end tests
# from leaving a core idle at the end. PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= auto
test: $(STAMP) $(if $(HAVE_NPM),$(THEME_CHECK))
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# ruff's rule set and mypy's settings are stated in pyproject.toml; both must report nothing.
lint: $(STAMP)
	$(BIN)/ruff check
	$(BIN)/mypy

soak: $(STAMP)
	$(BIN)/python -m pytest -m "soak or fuzz" --run-soak $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) data build *.egg-info
