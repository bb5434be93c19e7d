# Loa Bản — every set-up step is here, so `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HTMX := admin/static/vendor/htmx.min.js
CHARTJS := admin/static/vendor/chart.umd.min.js
PYBABEL := $(BIN)/pybabel
LOCALES := locales
# Two test processes per core: most tests wait on servers, subprocesses and browsers, not on the CPU
# (a suite on 2 cores left half the CPU idle with one per core).
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) * 2 )))

.PHONY: run test install system-deps frontend lint format locales-extract locales-update locales-pull locales-compile bench clean

run: install frontend system-deps
	$(BIN)/loaban migrate
	$(BIN)/loaban import-content
	$(BIN)/loaban create-admin --first
	$(BIN)/loaban serve

test: install frontend system-deps
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS)

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres,semantic,stt]'
	touch $(STAMP)

frontend: $(HTMX) $(CHARTJS)

# One npm install brings both; a grouped target, so an older checkout missing one file gets it too.
$(HTMX) $(CHARTJS) &: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	mkdir -p admin/static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $(HTMX)
	cp node_modules/chart.js/dist/chart.umd.min.js $(CHARTJS)

# Browser tests need Debian's chromium; voice notes need ffmpeg; offline speech needs espeak-ng.
# Installed only when missing (needs root).
system-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v ffmpeg >/dev/null || missing="$$missing ffmpeg"; \
	command -v espeak-ng >/dev/null || missing="$$missing espeak-ng"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "note: missing$$missing (install with apt-get as root); the tests that need them are skipped"; fi; \
	fi

lint: install
	$(BIN)/ruff check bot admin tests bench tools
	$(BIN)/ruff format --check bot admin tests bench tools
	$(BIN)/mypy

format: install
	$(BIN)/ruff format bot admin tests bench tools
	$(BIN)/ruff check --fix bot admin tests bench tools

locales-extract: install
	$(PYBABEL) extract -F babel.cfg -k mark -k _ --no-location --sort-output \
	  --project "Loa Ban" --copyright-holder "Loa Ban contributors" -o $(LOCALES)/messages.pot .

# pybabel update refuses languages CLDR lacks (hmn, tyz, ium, nut); tools/locales.py merges them all.
locales-update: locales-extract
	$(BIN)/python tools/locales.py

# Strings native speakers reviewed in the admin's workbench (database) written into locales/ to commit.
locales-pull: install
	$(BIN)/loaban locales pull

# The app compiles catalogs in memory at start-up; .mo files are for packagers who want them.
locales-compile: install
	$(PYBABEL) compile -d $(LOCALES) --use-fuzzy --statistics

bench: install frontend
	$(BIN)/python -m bench.updates

clean:
	rm -rf $(VENV) node_modules admin/static/vendor .pytest_cache .mypy_cache .ruff_cache loaban.db*
