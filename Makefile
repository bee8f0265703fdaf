# Khojaly Knowledge Graph: one entry point for humans and CI (.ci/run calls these targets).
# `make help` lists the targets. Needs only python3 (3.11+) and make.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.setup-stamp
SERVE_STAMP := $(VENV)/.serve-stamp
DOCS_STAMP  := $(VENV)/.docs-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000

.DEFAULT_GOAL := help
.PHONY: help setup serve-setup serve-build build validate serve test lint docs settings-doc bench bench-deps bench-quick bench-shapes stress audit lock browsers virtuoso clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-12s %s\n", $$1, $$2}'

$(SERVE_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e .
	@touch $(SERVE_STAMP)

$(STAMP): $(SERVE_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,docs]'
	@touch $(STAMP)

$(DOCS_STAMP): $(SERVE_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	@touch $(DOCS_STAMP)

serve-setup: $(SERVE_STAMP) ## Create .venv and install only what serving needs (fast when done)

setup: $(STAMP) ## Create .venv and install the project with its test and docs extras

serve-build: serve-setup
	$(BIN)/kg build

build: setup ## Parse, validate and build the graph into var/store (atomic swap)
	$(BIN)/kg build

validate: serve-setup ## Validate the data without building (exit 0 OK, 1 not conforming, 2 error)
	$(BIN)/kg validate

serve: serve-build ## Build, then serve the graph (HOST=127.0.0.1 PORT=8000); no test extras
	@echo "Khojaly Knowledge Graph: http://$(HOST):$(PORT)/ (SPARQL: http://$(HOST):$(PORT)/sparql)"
	$(BIN)/kg serve --host $(HOST) --port $(PORT)

# The order is random (pytest-randomly) but seeded, so CI and a fresh clone run the same order and
# the same hypothesis examples: `make test TEST_SEED=` draws a new seed, TEST_SEED=N picks one.
TEST_SEED ?= 1992
test: build ## Build, then run every test (in a seeded random order: TEST_SEED, empty for a new one)
	$(BIN)/pytest -q $(if $(TEST_SEED),-p randomly --randomly-seed=$(TEST_SEED))

docs: $(DOCS_STAMP) ## Build docs/ into var/site with mkdocs (--strict: a broken link fails)
	$(BIN)/python -m mkdocs build --strict --quiet --site-dir var/site

settings-doc: serve-setup ## Regenerate docs/settings.md from graph/config.py
	$(BIN)/kg settings --markdown > docs/settings.md

lint: setup ## Lint with ruff, and vulture for dead code (vulture_whitelist.py says who uses the rest)
	$(BIN)/ruff check graph endpoint tests bench
	$(BIN)/vulture graph endpoint vulture_whitelist.py --min-confidence 60

bench-deps: setup ## Benchmark tools: Debian's wrk (apt-get) and Oxigraph's server in var/oxigraph-venv
	@if command -v wrk >/dev/null; then echo "wrk: $$(command -v wrk)"; else \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y wrk \
		|| echo "wrk not installed: bench/loadgen.py falls back to its Python client"; \
	fi
	@[ -x var/oxigraph-venv/bin/oxigraph ] || { $(PYTHON) -m venv var/oxigraph-venv && \
		var/oxigraph-venv/bin/pip install --quiet oxigraph==0.5.13; }

bench: bench-deps ## Benchmarks at 1M and 10M triples -> bench/results/<date>-1M-10M.md (long)
	$(BIN)/python -m bench.run --sizes 1M,10M --duration 5 --build-timeout 3600

bench-quick: bench-deps ## CI-sized benchmark at 100k triples -> bench/results/<date>-100k.md
	$(BIN)/python -m bench.run --sizes 100k --duration 3

bench-shapes: setup ## Fail if a site query slows down with the store (1M vs 10k, ratio to a lookup)
	$(BIN)/python -m bench.shapes --size 1M

STRESS_CLIENTS ?= 16
STRESS_SECONDS ?= 60
stress: build ## Load test (every answer checked), then light beside 8 heavy and 256 slow -> bench/results/
	$(BIN)/python -m bench.stress --clients $(STRESS_CLIENTS) --seconds $(STRESS_SECONDS)
	$(BIN)/python -m bench.isolation --heavy 8 --light 200 --slow 256

# pip-audit runs from its own venv, so its dependencies never mix with the locked ones. The
# vulnerability data come from PyPI's JSON API (OSV may be unreachable from CI); --strict fails
# when a dependency could not be audited at all, instead of passing without having looked.
AUDIT_VENV    := var/audit-venv
AUDIT_SERVICE ?= pypi
AUDIT_STRICT  ?= --strict
audit: ## Audit requirements.lock (pinned, hashed) for known vulnerabilities with pip-audit
	@[ -x $(AUDIT_VENV)/bin/pip-audit ] || { $(PYTHON) -m venv $(AUDIT_VENV) && \
		$(AUDIT_VENV)/bin/pip install -q pip-audit==2.10.1; }
	$(AUDIT_VENV)/bin/pip-audit -r requirements.lock --require-hashes --disable-pip $(AUDIT_STRICT) \
		--vulnerability-service $(AUDIT_SERVICE) --progress-spinner off

lock: ## Re-pin requirements.lock (with hashes) from pyproject.toml after a dependency change
	@[ -x $(AUDIT_VENV)/bin/pip-compile ] || { $(PYTHON) -m venv $(AUDIT_VENV) && \
		$(AUDIT_VENV)/bin/pip install -q pip-audit==2.10.1 pip-tools==7.6.2; }
	$(AUDIT_VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
		--extra test --extra docs --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml

browsers: ## Install Debian's chromium for the browser tests (apt-get; skipped when present)
	@if [ -x /usr/bin/chromium ]; then echo "chromium: /usr/bin/chromium is installed"; else \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	fi

virtuoso: ## Install Debian's virtuoso-opensource for the remote-backend tests (skipped when present)
	@if command -v virtuoso-t >/dev/null && command -v isql-vt >/dev/null; then \
		echo "virtuoso: $$(command -v virtuoso-t) is installed"; else \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y --no-install-recommends virtuoso-opensource; \
	fi

clean: ## Remove built stores (var/); keeps .venv
	rm -rf var
