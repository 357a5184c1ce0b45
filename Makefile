# stedi-lakehouse: `make build` sets everything up and builds the lakehouse on
# the embedded Spark; `make test` runs every check. See README.md.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

PYTHON ?= python3
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
DEV_INSTALLED := $(VENV)/.installed-dev
REPORT_INSTALLED := $(VENV)/.installed-report
# The template checkers pin versions that clash with dbt's: a venv of their own, never `make build`'s.
INFRA_VENV := $(CURDIR)/.venv-infra
INFRA_INSTALLED := $(INFRA_VENV)/.installed

# The landing root every step reads, made absolute once here so that the preflight and the build
# see the same folder: a relative path is relative to the folder make runs in, file:///data is
# /data, s3:// and other URIs stay as given (`stedi` resolves it the same way when run directly).
# Without STEDI_LANDING_PATH the build runs on demo data generated here.
DEMO_LANDING := $(CURDIR)/demo_landing
override STEDI_LANDING_PATH := $(strip $(STEDI_LANDING_PATH))
ifeq ($(STEDI_LANDING_PATH),)
override STEDI_LANDING_PATH := $(DEMO_LANDING)
USE_DEMO_DATA := 1
else ifneq ($(filter file:///%,$(STEDI_LANDING_PATH)),)
override STEDI_LANDING_PATH := $(patsubst file://%,%,$(STEDI_LANDING_PATH))
else ifeq ($(findstring ://,$(STEDI_LANDING_PATH)),)
override STEDI_LANDING_PATH := $(abspath $(STEDI_LANDING_PATH))
endif
export STEDI_LANDING_PATH

export STEDI_WAREHOUSE_DIR ?= $(CURDIR)/warehouse
export DBT_PROFILES_DIR := $(CURDIR)/.dbt
export SPARK_CONF_DIR := $(CURDIR)/spark
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

STEDI := $(BIN)/stedi
# Every dbt command that opens the warehouse goes through `stedi dbt`: one at a time per warehouse,
# the JVM's boilerplate left out, Ctrl+C stopping dbt and Spark in one line.
DBT := $(STEDI) dbt
DBT_ARGS ?=
# The main job leaves out dbt's unit tests (fixed rows through the SQL logic): they run in
# `make test`, and dbt advises against them in production builds.
MAIN_JOB := build --exclude-resource-type unit_test

.PHONY: help install bench build build-thrift build-cluster build-athena athena-check infra-check docs docs-serve chromium test lint pytest demo-data preflight profiles clean lock record-counts erase report

# Starts each build's recipe line, in the shell that then runs dbt: the build's secrets read from
# AWS Secrets Manager where <VARIABLE>_SECRET_ID names them (nothing is written to disk), then
# `stedi preflight --target <target>` (Java, the landing zone, no public salt on real data).
SECRETS_AND_PREFLIGHT = secrets="$$($(STEDI) secrets env)"; eval "$$secrets"; $(STEDI) preflight --target

# The product's runtime packages only; `make test` adds the test and lint tools.
$(INSTALLED): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing the pinned runtime dependencies into .venv (a minute on a fresh clone)"
	$(BIN)/python -m pip install --quiet pip==26.3
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

$(DEV_INSTALLED): $(INSTALLED) requirements-dev.lock
	@echo "installing the pinned test and lint tools into .venv"
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	@touch $@

# The report's plotting library and Parquet reader, which the build itself never needs.
$(REPORT_INSTALLED): $(INSTALLED) requirements-report.lock
	@echo "installing the pinned report packages (matplotlib, DuckDB) into .venv"
	$(BIN)/python -m pip install --quiet -r requirements-report.lock
	@touch $@

## install: create .venv with the pinned runtime dependencies and the tooling package
install: $(INSTALLED)

## profiles: render .dbt/profiles.yml from profiles.example.yml
profiles: $(DBT_PROFILES_DIR)/profiles.yml
$(DBT_PROFILES_DIR)/profiles.yml: profiles.example.yml
	@mkdir -p $(@D)
	cp $< $@

## demo-data: generate a week of demo landing data into demo_landing/ once (only when STEDI_LANDING_PATH is unset)
demo-data: $(INSTALLED)
ifdef USE_DEMO_DATA
	@# once: `stedi generate demo_landing --append-day` adds the next day, which regenerating would drop
	@test -f $(DEMO_LANDING)/stedi-generator.json || $(STEDI) generate $(DEMO_LANDING)
endif

## preflight: check Java, the landing zone and the secrets (STEDI_TARGET, default local) before a build
preflight: $(INSTALLED) demo-data
	@$(SECRETS_AND_PREFLIGHT) "$${STEDI_TARGET:-local}"

## help: list every target with its description
help:
	@grep -E '^## [a-z-]+:' $(MAKEFILE_LIST) | sed -E 's/^## ([a-z-]+): /\1\t/' | awk -F'\t' '{ printf "  make %-14s %s\n", $$1, $$2 }'

## build: install, generate demo data if needed, and `dbt build` on the embedded Spark
build: $(INSTALLED) demo-data profiles
	@mkdir -p $(STEDI_WAREHOUSE_DIR)
	$(SECRETS_AND_PREFLIGHT) local; \
	  $(DBT) $(MAIN_JOB) --target local $(DBT_ARGS)

## build-thrift: start a local Spark Thrift server, `dbt build --target thrift`, stop it (also on failure)
THRIFT_WAREHOUSE := $(STEDI_WAREHOUSE_DIR)/thrift
build-thrift: $(INSTALLED) demo-data profiles
	$(SECRETS_AND_PREFLIGHT) thrift; \
	  $(STEDI) thrift start --warehouse $(THRIFT_WAREHOUSE); \
	  trap '$(STEDI) thrift stop --warehouse $(THRIFT_WAREHOUSE)' EXIT; \
	  $(DBT) $(MAIN_JOB) --target thrift $(DBT_ARGS)

## build-cluster: start a Spark standalone master, two workers and a Thrift server on them, `dbt build --target thrift`, stop all
## (127.0.0.1, ports from STEDI_CLUSTER_PORT; shows the tasks each worker ran; stops them also on failure or Ctrl+C)
CLUSTER_DIR := $(STEDI_WAREHOUSE_DIR)/cluster
build-cluster: $(INSTALLED) demo-data profiles
	@case "$(STEDI_LANDING_PATH)" in /*|*://*) ;; \
	  *) echo "build-cluster: STEDI_LANDING_PATH=$(STEDI_LANDING_PATH) is relative; the executors read it from their own folders: give an absolute path" >&2; exit 2;; esac
	$(SECRETS_AND_PREFLIGHT) thrift; \
	  trap '$(STEDI) cluster stop --dir $(CLUSTER_DIR)' EXIT; \
	  $(STEDI) cluster start --dir $(CLUSTER_DIR); \
	  $(DBT) $(MAIN_JOB) --target thrift $(DBT_ARGS); \
	  $(STEDI) cluster status --dir $(CLUSTER_DIR)

## erase: carry out every pending erasure request on the landing zone and the warehouses (S3 and Athena if STEDI_LANDING_PATH=s3://...)
erase: $(INSTALLED)
	secrets="$$($(STEDI) secrets env)"; eval "$$secrets"; $(STEDI) erase

## docs: build, then generate the docs site with its catalog and the build report into target/
docs: build $(REPORT_INSTALLED)
	$(DBT) run-operation compute_table_statistics --target local
	$(DBT) docs generate --target local --static
	$(STEDI) report --output target/report/index.html
	@echo "docs site: target/index.html (make docs-serve PORT=8080), or open target/static_index.html"

## report: after a build, write the build report (a static HTML page) to target/report/index.html
report: $(REPORT_INSTALLED)
	$(STEDI) report --output target/report/index.html

## docs-serve: serve the docs site on 127.0.0.1:PORT (default 8080)
PORT ?= 8080
docs-serve: profiles
	@test -f "$${DBT_TARGET_PATH:-target}/index.html" || { echo "no docs site in $${DBT_TARGET_PATH:-target}/: run 'make docs' first" >&2; exit 2; }
	$(BIN)/dbt docs serve --target local --host 127.0.0.1 --port $(PORT) --no-browser

## chromium: Debian's headless Chromium, for the docs site test
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

## build-athena: dbt build on Amazon Athena (STEDI_LANDING_PATH=s3://..., settings and roles: docs/aws.md)
build-athena: $(INSTALLED) profiles
	$(SECRETS_AND_PREFLIGHT) athena; \
	  $(DBT) $(MAIN_JOB) --target athena $(DBT_ARGS)

## athena-check: prove the Athena target offline: the full build (compiled, parsed, run on DuckDB) and two delivered days built incrementally by dbt-athena on a local stand-in for AWS, each compared with Spark
## with an embedded Spark build of generated data and edge cases, in its own warehouse (or reuse one:
## STEDI_ATHENA_CHECK_WAREHOUSE=<warehouse> with STEDI_LANDING_PATH the folder it was built from)
athena-check: $(DEV_INSTALLED) profiles
	$(STEDI) athena-check --work-dir $(STEDI_WAREHOUSE_DIR)/athena-check

## bench: time the build against the seed-style jobs and at 10x and 100x scale (not part of make test)
bench: $(DEV_INSTALLED) profiles
	$(STEDI) bench

## infra-check: cfn-lint, checkov and parliament on infra/stedi-lakehouse.yaml, no finding unjustified
infra-check: $(INFRA_INSTALLED)
	$(INFRA_VENV)/bin/python infra/check_template.py infra/stedi-lakehouse.yaml

$(INFRA_INSTALLED): requirements-infra.lock
	@test -x $(INFRA_VENV)/bin/python || $(PYTHON) -m venv $(INFRA_VENV)
	@echo "installing the pinned template checkers into .venv-infra (two minutes on a fresh clone)"
	$(INFRA_VENV)/bin/python -m pip install --quiet pip==26.3
	$(INFRA_VENV)/bin/python -m pip install --quiet -r requirements-infra.lock
	@touch $@

## test: lint, the template checks and the pytest suite (which builds on real Spark and runs the offline Athena check)
test: lint infra-check pytest

## lint: sqlfluff lint of the models and analyses
lint: $(DEV_INSTALLED) profiles
	$(BIN)/sqlfluff lint models analyses

## pytest: the pytest suite (builds the project on real Spark)
pytest: $(DEV_INSTALLED) profiles chromium
	$(BIN)/pytest

## lock: re-pin requirements-dev.lock (everything), requirements.lock (runtime only), requirements-report.lock and requirements-infra.lock in scratch venvs
LOCK_VENV := $(CURDIR)/.lock-venv
LOCK_HEADER := every version pinned so a fresh clone gets the same build.
lock:
	rm -rf $(LOCK_VENV) && $(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet -r requirements-dev.in
	{ echo "# Generated by 'make lock' from requirements-dev.in; $(LOCK_HEADER)"; \
	  $(LOCK_VENV)/bin/pip freeze --all --exclude-editable | grep -v -E '^(pip|setuptools)=='; } > requirements-dev.lock
	rm -rf $(LOCK_VENV) && $(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet -r requirements.in -c requirements-dev.lock
	{ echo "# Generated by 'make lock' from requirements.in; $(LOCK_HEADER)"; \
	  $(LOCK_VENV)/bin/pip freeze --all --exclude-editable | grep -v -E '^(pip|setuptools)=='; } > requirements.lock
	rm -rf $(LOCK_VENV) && $(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet -r requirements-report.in -c requirements-dev.lock
	{ echo "# Generated by 'make lock' from requirements-report.in; $(LOCK_HEADER)"; \
	  $(LOCK_VENV)/bin/pip freeze --all --exclude-editable | grep -v -E '^(pip|setuptools)=='; } > requirements-report.lock
	rm -rf $(LOCK_VENV) && $(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet -r requirements-infra.in
	{ echo "# Generated by 'make lock' from requirements-infra.in; $(LOCK_HEADER)"; \
	  $(LOCK_VENV)/bin/pip freeze --all --exclude-editable | grep -v -E '^(pip|setuptools)=='; } > requirements-infra.lock
	rm -rf $(LOCK_VENV)

## clean: remove the warehouse, demo data and dbt output
clean:
	rm -rf $(STEDI_WAREHOUSE_DIR) $(DEMO_LANDING) target logs dbt_packages

## record-counts: rows per landing, staging, trusted and curated table and malformed lines per landing file (after a build; reads STEDI_LANDING_PATH, generates nothing)
record-counts: $(INSTALLED) profiles
	@$(STEDI) preflight --landing-only
	$(DBT) run-operation record_counts --target local
