# The habits of this project. `make run` and `make test` work on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := run

# uv from PATH, else the one pip installs (`python3 -m uv` works wherever pip put it).
UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export KAIZEN_HOME ?= $(CURDIR)/data

.PHONY: run test lint bench setup browser postgres oidc container

setup:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 \
		|| python3 -m pip install --quiet uv
	$(UV) sync --frozen

# The app, and beside it `kaizen serve` (the REST API and the demos that share links open),
# stopped with it.
run: setup
	$(UV) run --frozen kaizen init
	@$(UV) run --frozen kaizen serve --host 127.0.0.1 --port 8000 & serve=$$!; \
		trap 'kill $$serve 2>/dev/null' EXIT; \
		$(UV) run --frozen streamlit run app.py --server.address 127.0.0.1 --server.port 8501

# Debian's Chromium for the browser tests (Playwright drives it; it never downloads one).
browser:
	@test -x /usr/bin/chromium || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-dejavu-core; }

# Debian's PostgreSQL for the tests that run the job system on a real server.
postgres:
	@test -x /usr/lib/postgresql/15/bin/initdb || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql-15; }

# A real OpenID Connect provider for the sign-in tests: Node.js (Debian's, if missing) and the
# npm package oidc-provider at the version tests/e2e/oidc/package-lock.json pins. It needs
# Node.js 20.12 or newer (these machines have 20; Debian 12's own package is 18).
NODE_IS_RECENT := if (!require("crypto").hash) { console.error("Node.js " + process.version \
	+ " is too old for oidc-provider 9: install 20.12 or newer."); process.exit(1); }
oidc:
	@command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs npm; }
	@node -e '$(NODE_IS_RECENT)'
	npm ci --prefix tests/e2e/oidc --no-audit --no-fund --loglevel=error

# Podman for the container tests and `kaizen publish --image` (Docker's client here has no
# daemon): Debian's podman with runc (crun fails on these machines' cgroups), a containers.conf
# without default ulimits (the container may not raise them), and a local stand-in for
# python:3.11-slim made with debootstrap, since no image registry can be reached.
CONTAINER_DIR := $(CURDIR)/build/container
BASE_IMAGE := docker.io/library/python:3.11-slim
PODMAN := CONTAINERS_CONF=$(CONTAINER_DIR)/containers.conf podman --runtime runc
DEBIAN_MIRROR = $(shell sed -nE 's/^URIs: *([^ ]+).*/\1/p; s/^deb +(\[[^]]*\] +)?([^ ]+).*/\2/p' \
	/etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | grep -v security | head -1)
container:
	@command -v podman >/dev/null 2>&1 && command -v runc >/dev/null 2>&1 \
		&& command -v debootstrap >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq podman runc debootstrap; }
	@mkdir -p $(CONTAINER_DIR)
	@printf '[containers]\ndefault_ulimits = []\n' > $(CONTAINER_DIR)/containers.conf
	@$(PODMAN) image exists $(BASE_IMAGE) || { \
		root=$$(mktemp -d $(CONTAINER_DIR)/rootfs.XXXXXX) && \
		echo "building the stand-in $(BASE_IMAGE) from $(DEBIAN_MIRROR)" && \
		$(SUDO) debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
			bookworm $$root $(DEBIAN_MIRROR) >$(CONTAINER_DIR)/debootstrap.log && \
		$(SUDO) ln -s python3 $$root/usr/bin/python && \
		$(SUDO) tar -C $$root -c . | $(PODMAN) import - $(BASE_IMAGE) && \
		$(SUDO) rm -rf $$root; }

test: setup browser postgres oidc container lint
	$(UV) run --frozen pytest tests/unit tests/integration tests/ui tests/e2e tests/container

lint: setup
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy

# benchmarks/automl.py runs its full spec (issue 5): about 2 hours on 2 cores. A quick look:
# `uv run python benchmarks/automl.py --budgets 60 --datasets breast_cancer default --rows 10000`
bench: setup
	$(UV) run --frozen python benchmarks/ingest.py
	$(UV) run --frozen python benchmarks/jobs.py
	$(UV) run --frozen python benchmarks/profiling_summary.py
	$(UV) run --frozen python benchmarks/profiling_report.py
	$(UV) run --frozen python benchmarks/explain.py
	$(UV) run --frozen python benchmarks/serving.py
	$(UV) run --frozen python benchmarks/demo.py
	$(UV) run --frozen python benchmarks/automl.py
