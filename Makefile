# District data hub — the commands of the README. Everything installs into .venv.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
export DAGSTER_HOME ?= $(CURDIR)/dagster_home
export HUB_DATA_DIR ?= $(CURDIR)/data
export HUB_DISTRICT ?= $(CURDIR)/district.yaml
# The sample's SFTP firm is served by scripts/sftp-demo.sh with keys under the data folder.
export HUB_SFTP_USER ?= $(shell id -un)
export HUB_SFTP_KEY ?= $(HUB_DATA_DIR)/sftp-demo/client_ed25519
export HUB_SFTP_KNOWN_HOSTS ?= $(HUB_DATA_DIR)/sftp-demo/known_hosts

.PHONY: setup demo ui test test-fast bench lint format clean-data clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --upgrade pip
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $@

setup: $(VENV)/.installed ## create the environment and install the hub

# The sample's SFTP firm and Tryton firm need their servers: hub.demo starts a local sshd
# (scripts/sftp-demo.sh) and a Tryton (installed by scripts/tryton-env.sh), runs the command and
# stops both afterwards. A server that cannot be had is reported and its firm skipped.
demo: setup ## run the nightly sync once on the sample district and print a summary
	$(PY) -m hub.demo sync

ui: setup ## the Dagster UI on the same instance and data as `make demo`
	$(PY) -m hub.demo run $(VENV)/bin/dagster dev -m hub.definitions -h 127.0.0.1 -p 3000

$(VENV)/.installed-postgres: $(VENV)/.installed
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e ".[dev,postgres]"
	touch $@

test: setup $(VENV)/.installed-postgres ## lint, then every test (real servers included)
	scripts/system-deps.sh
	scripts/tryton-env.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -q

test-fast: setup ## the unit tests only
	$(VENV)/bin/pytest -q -m "not integration"

bench: setup $(VENV)/.installed-postgres ## benchmarks: ratios against a baseline measured in the same run
	$(PY) -m bench.run

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean-data: ## forget every sync: warehouse, raw/staged files, Dagster runs
	-scripts/sftp-demo.sh stop
	rm -rf $(HUB_DATA_DIR)
	find dagster_home -mindepth 1 ! -name dagster.yaml -exec rm -rf {} +

clean: clean-data
	rm -rf $(VENV)
