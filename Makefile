# Two entry points: `make synth` (the main job) and `make test` (everything CI runs).
# Both set up what they need on first use: .venv (pinned Python deps) and node_modules
# (the pinned CDK CLI). Nothing here needs AWS credentials except `diff` and `deploy`.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# A stamp, not .venv/bin/python: that is a symlink whose target's mtime would always be old.
VENV_STAMP := $(VENV)/.requirements-installed
NODE_STAMP := node_modules/.package-lock.json
CDK := node_modules/.bin/cdk
CDK_ARGS ?=

# jsii (the CDK's Python bridge) warns loudly on Node versions it no longer tests; the
# synthesized output does not depend on it. Silence the deprecated and end-of-life notices
# for the Node major that is running (upgrade Node to make them moot).
NODE_MAJOR := $(shell node -p 'process.versions.node.split(".")[0]' 2>/dev/null)
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := $(NODE_MAJOR)
# The CLI otherwise checks npm for a newer version and sends telemetry (network calls that
# synth does not need).
export CDK_DISABLE_VERSION_CHECK := true
export CDK_DISABLE_CLI_TELEMETRY := true

.PHONY: help synth test lint typecheck bench diff deploy clean distclean demo tests

help:
	@echo "make synth    synthesize the app into cdk.out/ (no AWS account needed)"
	@echo "make test     ruff, ruff format --check, mypy, pytest (everything CI runs)"
	@echo "make demo     the handler against a simulated account on loopback (no AWS)"
	@echo "make bench    API-call, memory, cold-start, synth and latency figures (BENCH_ARGS=--quick)"
	@echo "make diff     cdk diff against the deployed stack (needs credentials)"
	@echo "make deploy   cdk deploy (needs credentials and a bootstrapped account)"
	@echo "make clean    remove cdk.out and caches (distclean: also .venv, node_modules)"

$(VENV_STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

synth: $(VENV_STAMP) $(NODE_STAMP)
	$(CDK) synth --quiet $(CDK_ARGS)

lint: $(VENV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV_STAMP)
	$(BIN)/mypy

tests: $(VENV_STAMP) $(NODE_STAMP)
	AWS_EC2_METADATA_DISABLED=true $(BIN)/pytest

test: lint typecheck tests

# The real handler against a simulated account on loopback: no AWS account needed.
demo: $(VENV_STAMP)
	$(BIN)/python -m demo

# Prints a table of figures next to their targets (not timed tests; a few minutes).
BENCH_ARGS ?=
bench: $(VENV_STAMP) $(NODE_STAMP)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

diff: $(VENV_STAMP) $(NODE_STAMP)
	$(CDK) diff $(CDK_ARGS)

deploy: $(VENV_STAMP) $(NODE_STAMP)
	$(CDK) deploy $(CDK_ARGS)

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache
	find . -path ./$(VENV) -prune -o -path ./node_modules -prune -o \
		-name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) node_modules
