# One entry point for everything: `make up`, `make test`, `make demo` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Node >= 22: the system node when new enough, else Node 24 from npm (infra/local/node.sh).
NODE_BIN := $(shell bash infra/local/node.sh)
ifeq ($(NODE_BIN),)
$(error no Node >= 22: infra/local/node.sh failed, see its message above)
endif
export PATH := $(NODE_BIN):$(PATH)
# `npm ci` builds native modules (node-gyp) against the headers of the node that runs
# them, never another Node's (such as a ~/.npmrc nodedir=/usr) and without a download.
NODE_DIR := $(abspath $(NODE_BIN)/..)
NPM_NODEDIR := $(if $(wildcard $(NODE_DIR)/include/node/node.h),npm_config_nodedir=$(NODE_DIR))
STACK := bash infra/local/stack.sh
JEST := NODE_OPTIONS=--experimental-vm-modules npx jest

.PHONY: browsers help deps build up down status reset lint typecheck test test-unit test-integration test-chaos bench bench-sink bench-flags bench-enricher demo clean bench-collector bench-dedupe bench-pipeline test-fresh

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

node_modules/.installed: package.json package-lock.json
	$(NPM_NODEDIR) npm ci --no-audit --no-fund --loglevel=error
	@touch $@

deps: node_modules/.installed ## Install npm dependencies (with Node >= 22)

build: deps ## Compile TypeScript to dist/ (the packages/ SDKs and the console/ web app to their dist/)
	npm run build:packages --silent
	npx tsc -p tsconfig.build.json

up: build ## Install (if missing) and start the local stack, then show its status
	$(STACK) up

down: ## Stop everything `make up` started
	$(STACK) down

status: ## Show each part of the stack with its address
	@$(STACK) status

reset: ## Stop the stack and delete its data (keeps installed tools)
	$(STACK) reset

lint: deps ## ESLint and Prettier check
	npx eslint .
	npx prettier --check .

typecheck: deps ## TypeScript strict type check
	npx tsc -p tsconfig.json --noEmit
	@# The packages check against each other's published types (dist/*.d.ts): build them first.
	npm run build:packages --silent
	npm run typecheck --workspaces --if-present --silent

test-unit: deps ## Unit tests (no infrastructure)
	$(JEST) --selectProjects unit

test-integration: $(if $(filter testcontainers,$(XP_TEST_STACK)),deps,up) browsers ## Integration tests against the real stack
	$(JEST) --selectProjects integration --runInBand

browsers: ## Install Debian's Chromium (if missing) for the browser tests
	@bash infra/local/chromium.sh >/dev/null

test: lint typecheck test-unit test-integration ## Everything CI runs: lint, types, unit and integration tests

test-chaos: up ## Longer soak and chaos runs (not part of `make test`)
	$(JEST) --selectProjects chaos --runInBand

bench: bench-sink bench-flags bench-enricher bench-collector bench-dedupe bench-pipeline ## Benchmarks (bench/)

demo: up ## The main job: an experiment end to end, from simulated traffic to results in BigQuery (DEMO_USERS=5000)
	node dist/scripts/demo.js

test-fresh: ## The README's two commands on a bare Debian 12 root (debootstrap; root only), timed
	bash infra/fresh/test-fresh.sh

clean: ## Remove build output
	rm -rf dist coverage

bench-sink: up ## Sink: rows/s into BigQuery and end-to-end latency, vs a direct bulk load
	node dist/bench/sink.js

bench-flags: up ## Flag evaluation vs GrowthBook and Unleash SDKs, and the payload endpoint's p99
	node dist/bench/flags.js

bench-enricher: up ## Enricher: events/s with exactly-once, joins and windows, vs a consume-and-produce pass-through
	node dist/bench/enricher.js

bench-pipeline: up ## Pipeline: events/s from HTTP to queryable in BigQuery through every service, vs raw appends; backlog per stage
	node dist/bench/pipeline.js

bench-dedupe: build ## Enricher dedupe state: memory per million messageIds vs the ids alone (no stack needed)
	node --expose-gc dist/bench/dedupe-memory.js

bench-collector: up ## Collector: events/s, p50/p99 and RSS vs a no-Kafka ceiling and ProducerPerformance
	node dist/bench/collector.js
