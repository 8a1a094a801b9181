# The README's two set-up commands are `make up` and `make test`; the rest are helpers.
SHELL := /bin/bash
VENV := .venv/bin

.PHONY: help deps up down status test test-unit test-integration bench lint

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

deps: ## Install apt packages, the pinned .venv and the cached Kubernetes binaries
	@scripts/install.sh

up: deps ## Start the whole system locally (brokers, 2x Redis, 2x API, ingest, simulators, control plane, operator)
	@$(VENV)/python -m tier0_devenv up

down: ## Stop everything `make up` started, and nothing else
	@$(VENV)/python -m tier0_devenv down

status: ## Show what `make up` started and whether it is healthy
	@$(VENV)/python -m tier0_devenv status

test: deps ## Run the whole test suite (unit, integration, end-to-end, operator on a real API server)
	@$(VENV)/python -m pytest

test-unit: ## Fast unit tests only
	@$(VENV)/python -m pytest tests/unit

bench: deps ## Run the benchmarks (print figures next to their baselines)
	@$(VENV)/python -m benchmarks.ingest_throughput
