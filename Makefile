# Two commands on a fresh machine:
#   make demo   run the whole lab offline (no AWS account) and print a summary
#   make test   run every test (unit, offline stand-in, notebooks)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# Two installs: DEMO_STAMP is what `make demo` needs (requirements.txt: the kit, the stand-in, the
# kernels); STAMP adds the test and browser tools (requirements-test.txt) for everything else.
DEMO_STAMP := $(VENV)/.installed-demo
STAMP  := $(VENV)/.installed

.PHONY: demo test lint format serve lab clean chromium venv bench

# uv (from PyPI, into the venv) installs in seconds what pip resolves in minutes; when uv cannot
# be had, pip installs the same files. Plain `pip install -r requirements.txt` works as well.
UV := $(VENV)/bin/uv
install = if [ -x $(UV) ]; then $(UV) pip install --quiet --native-tls --python $(PY) $(1); \
          else $(PY) -m pip install --quiet $(1); fi
# The test install compiles every package's bytecode (tests folders aside): where
# PYTHONDONTWRITEBYTECODE is set (this machine, many containers) Python would otherwise compile
# pandas, boto3 and ipykernel from source in every kernel, about 3 s each, and the tests start
# hundreds. `make demo`'s install is left as uv makes it (no bytecode: .venv stays under 400 MB;
# a first run compiles what it imports, and writes it unless PYTHONDONTWRITEBYTECODE is set).
SITE = $$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
compile = $(PY) -m compileall -q -j 0 -x '/tests?/' $(SITE) helpers > /dev/null || true

$(DEMO_STAMP): pyproject.toml requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet "uv>=0.5,<1" || echo "uv not available: installing with pip"
	$(call install,-r requirements.txt --editable .)
	touch $(DEMO_STAMP)

$(STAMP): $(DEMO_STAMP) requirements-test.txt
	$(call install,-r requirements-test.txt)
	$(compile)
	touch $(STAMP)

venv: $(STAMP)

# Parameters for the notebooks, as papermill's command line takes them, each to the notebooks that
# declare it: make demo PARAMS='-p rules broadcast-standard -p min_confidence 60'
demo: $(DEMO_STAMP)
	$(PY) -m helpers.demo $(PARAMS)

lint: $(STAMP)
	$(PY) -m ruff check helpers tests datasets notebooks benchmarks
	$(PY) -m ruff format --check helpers tests datasets notebooks benchmarks

format: $(STAMP)
	$(PY) -m ruff check --fix helpers tests datasets notebooks benchmarks
	$(PY) -m ruff format helpers tests datasets notebooks benchmarks

# Browser tests drive Debian's chromium through Playwright (Playwright's own download is not
# needed). Installed here when missing and when this machine can (root or sudo, with apt).
chromium:
	@if [ -n "$$VMK_CHROMIUM" ] || command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then \
	  true; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  apt-get install -y -q chromium >/dev/null || (apt-get update -q && apt-get install -y -q chromium); \
	elif command -v apt-get >/dev/null && command -v sudo >/dev/null; then \
	  sudo apt-get install -y -q chromium; \
	else \
	  echo "No chromium found: install it, set VMK_CHROMIUM, or run .venv/bin/playwright install chromium"; \
	fi

test: lint chromium
	$(PY) -m pytest tests
	$(PY) -m pytest --nbval-lax --nbval-sanitize-with tests/nbval-sanitize.cfg notebooks

# Benchmarks: the kit against the lab's approach (results in benchmarks/results/).
bench: $(STAMP) chromium
	$(PY) benchmarks/run.py

# Start the offline stand-in in the foreground, for running the notebooks by hand in Jupyter.
serve: $(DEMO_STAMP)
	$(PY) -m helpers.offline serve --port 4566

# Run the lab by hand, offline: the stand-in with the auto reviewer off (you review in its worker
# portal, the link notebook 04 and the stand-in print, http://worker-portal.localhost:4566,
# plain HTTP) and JupyterLab with every kernel pointed at it. Ctrl-C
# stops both. Offline runs keep their state in .kit/offline-run.json, apart from AWS runs; each
# `make lab` starts a fresh stand-in, so run the notebooks from 01. A second `make lab` while one
# runs stops at once, before it touches the first one's files (LAB_PORT picks another port).
LAB_PORT ?= 4566
lab: $(STAMP)
	@$(PY) -m helpers.offline check-port --port $(LAB_PORT) || exit 1
	@mkdir -p .kit && rm -f .kit/offline.env .kit/offline-run.json
	@touch .kit/aws-config .kit/aws-credentials
	@$(PY) -m helpers.offline serve --port $(LAB_PORT) --auto-review off --env-file .kit/offline.env & \
	server=$$!; trap 'kill $$server 2>/dev/null' EXIT INT TERM; \
	for i in $$(seq 150); do [ -f .kit/offline.env ] && break; kill -0 $$server 2>/dev/null || break; sleep 0.2; done; \
	if [ ! -f .kit/offline.env ]; then echo "The stand-in did not start: is port $(LAB_PORT) in use?"; exit 1; fi; \
	. ./.kit/offline.env; \
	export AWS_CONFIG_FILE="$(CURDIR)/.kit/aws-config" AWS_SHARED_CREDENTIALS_FILE="$(CURDIR)/.kit/aws-credentials"; \
	export VMK_STATE_FILE="$(CURDIR)/.kit/offline-run.json"; \
	root=$$([ "$$(id -u)" = 0 ] && echo --allow-root); \
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $$root $(JUPYTER_ARGS)

clean:
	rm -rf executed .kit .pytest_cache .ruff_cache
