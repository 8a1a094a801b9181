# The README's two set-up commands are `make up` and `make test`; the rest are helpers.
SHELL := /bin/bash
VENV := .venv/bin

.PHONY: help deps up down status cluster cluster-down cluster-status test test-unit bench lint

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

cluster: deps ## A real single-node Kubernetes cluster here (containerd, kubelet, kube-proxy, CoreDNS) with the chart installed; needs root
	@$(VENV)/python -m tier0_devenv.node up

cluster-down: ## Stop `make cluster` and remove everything it left on the host (processes, links, rules, mounts, cgroups, folders)
	@$(VENV)/python -m tier0_devenv.node down

cluster-status: ## Show the real node's daemons and whether they run
	@$(VENV)/python -m tier0_devenv.node status

test: deps lint ## Lint, then run the whole test suite (unit, integration, end-to-end, operator on a real API server, real node)
	@$(VENV)/python -m pytest

test-unit: ## Fast unit tests only (no servers)
	@$(VENV)/python -m pytest --fast

lint: ## ruff check and format --check, mypy (strict), the import contracts (.importlinter)
	@$(VENV)/ruff check .
	@$(VENV)/ruff format --check .
	@$(VENV)/mypy
	@$(VENV)/lint-imports

bench: deps ## Run every benchmark (each prints its figures next to a baseline from the same run)
	@$(VENV)/python -m benchmarks.ingest_throughput
	-@$(VENV)/python -m benchmarks.failover_latency  # exits 1 on a missed target; the others still run
	@$(VENV)/python -m benchmarks.api_latency --devices 100000 --requests 200
	@$(VENV)/python -m benchmarks.retrieval_quality
