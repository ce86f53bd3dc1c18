.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
VENV_AGNO2 ?= .venv-agno2
AGNO2_REQUIREMENTS := tools/contract/requirements-agno2.txt
AGNO2_STAMP := $(VENV_AGNO2)/.installed
T ?= tests
DEPLOY_STAMP := $(VENV)/.deploy-installed
NPM_PREFIX := tools/npm

##@ Setup
$(STAMP): setup.cfg pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (found " + sys.version.split()[0] + ")")'
	@$(PYTHON) -m venv $(VENV) || { echo "python3-venv is missing: apt-get install python3-venv"; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test,contract,dev]'
	@touch $(STAMP)

install: $(STAMP) ## create the virtualenv and install the pinned dependencies (service, test, contract, dev)

# agno 2.9.0 cannot share a virtualenv with agno 3.1.10 (a test dependency of the main one): the
# legacy-layout reference of 'make contract-test' (and round-trip tests) run under this one.
$(AGNO2_STAMP): $(AGNO2_REQUIREMENTS)
	@$(PYTHON) -m venv $(VENV_AGNO2) || { echo "python3-venv is missing: apt-get install python3-venv"; exit 1; }
	$(VENV_AGNO2)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_AGNO2)/bin/python -m pip install --quiet -r $(AGNO2_REQUIREMENTS)
	@touch $(AGNO2_STAMP)

agno2-venv: $(AGNO2_STAMP) ## create .venv-agno2 with the pinned agno 2.9.0 AgentOS (legacy-layout reference)

pg-bin: ## make sure PostgreSQL server binaries exist (installs them with apt when root)
	@if $(PY) tools/pgcluster.py check >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing PostgreSQL server binaries with apt"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	else \
		echo "PostgreSQL server binaries (initdb, pg_ctl) are missing: install the 'postgresql' package" \
		     "(Debian: sudo apt-get install postgresql) or set AGNO_TEST_PG to a server URL"; exit 1; \
	fi

wrk-bin: ## make sure wrk (the HTTP load generator of the benchmark) exists (installs it with apt when root)
	@if command -v wrk >/dev/null; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing wrk with apt"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	else \
		echo "wrk (the HTTP load generator) is missing: install the 'wrk' package (Debian: sudo apt-get install wrk)"; exit 1; \
	fi

$(DEPLOY_STAMP): $(STAMP) $(NPM_PREFIX)/package-lock.json
	$(PY) -m pip install --quiet -c constraints.txt -e '.[deploy]'
	@command -v npm >/dev/null || { echo "npm (Node.js 20.19+) is missing: apt-get install nodejs npm"; exit 1; }
	npm ci --prefix $(NPM_PREFIX) --no-audit --no-fund --loglevel=error
	@touch $(DEPLOY_STAMP)

deploy-tools: $(DEPLOY_STAMP) ## install the offline deployment linters (hadolint, shellcheck, yamllint, helm SDK, kubernetes-validate, dclint)

constraints: install ## rewrite constraints.txt (every run-time package pinned) from the virtualenv, after changing setup.cfg
	$(PY) tools/constraints.py

##@ Run
# With no database configured the service creates and serves an embedded SQLite file
# (AGNO_SQLITE_PATH, default ./data/agno.db): nothing to install beyond the virtualenv.
run: install ## run the service under gunicorn on :$AGNO_SERVICE_PORT (default 8080); no database set: embedded SQLite
	exec $(VENV)/bin/gunicorn -c gunicorn.conf.py wsgi:app

migrate: install ## create agno's tables in every configured database that has none (alembic, under an advisory lock; never run at start-up)
	$(VENV)/bin/agno-session-service migrate $(MIGRATE_ARGS)

##@ Quality
test: install agno2-venv pg-bin ## run the test suite on a throwaway PostgreSQL cluster (T=path narrows it)
	AGNO2_PYTHON=$(VENV_AGNO2)/bin/python $(PY) -m pytest $(T)

contract-test: install agno2-venv pg-bin ## live parity with real AgentOS (agno 3.1.10 on PostgreSQL and SQLite, agno 2.9.0 on a legacy database) and ADK's api_server (google-adk 2.13.0 on PostgreSQL and SQLite) (report: build/contract-report.json)
	$(PY) tools/contract/run.py --agno2-python $(VENV_AGNO2)/bin/python $(CONTRACT_ARGS)

golden: install ## replay the agno 3.1.10 golden captures against this service (needs ../shared and a PostgreSQL at 127.0.0.1:5432)
	$(PY) tools/golden/replay.py --report build/golden-report.json

lint: install ## static checks (ruff)
	$(VENV)/bin/ruff check app tests tools wsgi.py gunicorn.conf.py

lint-deploy: deploy-tools ## lint and validate the deployment assets offline: Dockerfile, scripts, compose file, Helm chart (rendered, checked against Kubernetes schemas)
	$(PY) tools/deploy/lint.py

smoke: install pg-bin ## start gunicorn on a throwaway PostgreSQL (migrate first), run scripts/test-session-api.sh, check /metrics, /openapi.json and a SIGTERM drain
	$(PY) tools/smoke.py

reliability: install pg-bin ## the reliability suite: schema fuzzing, hostile input, database faults, shutdown, concurrency, isolation (table: build/reliability-report.json)
	$(PY) -m pytest tests/reliability $(RELIABILITY_ARGS)

# With AGNO_BENCH_PG (a server URL) no local PostgreSQL binaries are needed.
BENCH_PG := $(if $(AGNO_BENCH_PG),,pg-bin)

bench: install wrk-bin $(BENCH_PG) ## this service vs agno 3.1.10 AgentOS side by side at 2,000 and 10,000 sessions; fails on a missed target (BENCH_ARGS; table: build/bench-report.json)
	$(PY) tools/bench/run.py $(BENCH_ARGS)

bench-ci: install wrk-bin $(BENCH_PG) ## the benchmark's quick subset (small scales, short rounds, a few minutes): fails only below half of a target
	$(PY) tools/bench/run.py --ci $(BENCH_ARGS)

help: ## show this help
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} \
		/^[a-zA-Z0-9_-]+:.*?##/ { printf "  %-14s %s\n", $$1, $$2 } \
		/^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

.PHONY: install constraints agno2-venv deploy-tools pg-bin wrk-bin run migrate test contract-test golden lint lint-deploy smoke reliability bench bench-ci help
