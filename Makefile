# The teaching archive. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# The test suite's services (started by scripts/services.sh); override to use others.
TEST_DATABASE_URL ?= postgres://ta:ta@127.0.0.1:5432/ta
TEST_BROKER_URL ?= redis://127.0.0.1:6379/0
# The site's secrets, generated once (mode 0600) unless the environment sets them: see keys.
KEYS_FILE ?= var/keys.env

-include .env
export

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -hE '^[a-z][a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)."; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip==25.3
	$(PY) -m pip install -q -r requirements.txt
	touch $@

venv: $(VENV)/.installed ## Create .venv and install the pinned requirements

$(KEYS_FILE): | $(VENV)/.installed
	$(PY) -m teaching_archive.keys $@

keys: $(KEYS_FILE) ## Generate the secret keys once into var/keys.env (back it up apart from the data)

setup: venv keys ## Migrate the embedded SQLite database, load ICD-10, collect static files, demo data
	mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_icd10
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py seed_demo

run: setup ## Serve the site on http://$(HOST):$(PORT) with a Celery worker (Ctrl-C stops both)
	HOST=$(HOST) PORT=$(PORT) scripts/run.sh

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --ignore-scripts --no-audit --no-fund

assets: frontend/node_modules/.package-lock.json ## Build the viewer bundle into static/viewer/ (Node 20 + npm; commit the result)
	cd frontend && node build.mjs

assets-check: frontend/node_modules/.package-lock.json ## Fail if the committed viewer bundle is not what frontend/ builds
	rm -rf var/assets-check && mkdir -p var/assets-check
	cd frontend && VIEWER_OUT=../var/assets-check node build.mjs
	diff -r static/viewer var/assets-check && echo "static/viewer is what frontend/ builds."

es-node: ## Run one Elasticsearch 7.10 node on 127.0.0.1:9200 (Java 17 JDK + Maven; jars fetched once)
	search/es_node/run.sh

s3-node: ## Run a local S3 API server (S3Proxy) on 127.0.0.1:8333 for the storage tests (Java 17 + Maven)
	archive/s3_node/run.sh

services: ## Install (if missing) and start PostgreSQL and Redis on 127.0.0.1 for the tests
	scripts/services.sh

test: venv keys services ## The whole suite: PostgreSQL, Redis, real workers, browser, Elasticsearch and S3 servers
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
	  $(PY) manage.py makemigrations --check --dry-run
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) TA_START_ES_NODE=1 \
	  TA_START_S3_NODE=1 $(PY) -m pytest $(PYTEST_ARGS)

test-fast: venv keys services ## The suite without the slow end-to-end tests
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
	  $(PY) -m pytest -m "not e2e" $(PYTEST_ARGS)

fuzz: venv keys services ## The fuzzer's long run: 20,000 mutated real files, a new seed each run (TA_FUZZ_EXAMPLES, TA_FUZZ_SEED)
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
	  TA_FUZZ_EXAMPLES=$${TA_FUZZ_EXAMPLES:-20000} TA_FUZZ_SEED=$${TA_FUZZ_SEED:-$$(date +%s)} \
	  $(PY) -m pytest tests/hostile/test_fuzz.py -s -q

lint: venv ## ruff check, ruff format --check, and mypy on the de-identification library
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy archive/deid --ignore-missing-imports --exclude archive/deid/pixels

messages: venv ## Refresh the Czech translations (locale/cs) and compile them (needs gettext)
	$(PY) manage.py makemessages -l cs --ignore=.venv --ignore=var --ignore=search/es_node \
	  --ignore=benchmarks --ignore=tests --no-location
	$(PY) manage.py compilemessages -l cs --ignore=.venv --ignore=var

bench: venv keys services ## Run the benchmarks and print their figures
	for b in benchmarks/*_bench.py; do echo "== $$b"; $(PY) $$b || exit 1; done
	@echo "== benchmarks/redaction_precision_bench.py --random 12 (placements the rules were not tuned on)"
	$(PY) benchmarks/redaction_precision_bench.py --random 12 --no-baseline

clean: ## Remove var/ except the keys (database, media, caches); demo data comes back on the next run
	find var -mindepth 1 -maxdepth 1 ! -name keys.env -exec rm -rf {} + 2>/dev/null || true

.PHONY: help venv keys setup run assets assets-check es-node s3-node services test test-fast fuzz lint messages bench clean
