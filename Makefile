# Pacer operator commands. `make run` and `make test` set themselves up from nothing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app app
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install migrate run test lint demo status test-spend simulate-spend simulate-time \
        enforce-budgets apply-dayparting reset-daily reset-monthly reconcile monitor logs load-test bench bench-smoke clean

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit("Pacer needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	@echo "Installing Pacer into $(VENV) (log: $(VENV)/install.log)"
	@$(BIN)/python -m pip install --upgrade pip > $(VENV)/install.log 2>&1 \
	  && $(BIN)/python -m pip install -e '.[test]' >> $(VENV)/install.log 2>&1 \
	  || { tail -n 30 $(VENV)/install.log; exit 1; }
	@touch $@

install: $(STAMP) ## Build .venv and install Pacer with its test tools

migrate: install ## Create or upgrade the database
	$(FLASK) db upgrade

run: migrate ## Run Pacer: web, worker, scheduler and Redis (embedded unless REDIS_URL is set)
	$(FLASK) seed-demo
	$(BIN)/python -m app.devserver

test: install ## Run the test suite (SQLite; set PACER_TEST_DATABASE_URL for PostgreSQL)
	$(BIN)/python -m pytest

lint: install ## Ruff, and the import contracts (arrows point down only: docs/architecture.md)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

demo: migrate ## Load the demo brands, campaigns, spend and users (once)
	$(FLASK) seed-demo

status: migrate ## Show every campaign's state
	$(FLASK) status

test-spend: migrate ## Record a spend: make test-spend BRAND="Acme Outdoor" CAMPAIGN="Search - Brand" AMOUNT=25.00
	$(FLASK) spend record --brand "$(BRAND)" --campaign "$(CAMPAIGN)" --amount "$(AMOUNT)"

simulate-spend: migrate ## Import a spend CSV: make simulate-spend FILE=spend.csv
	$(FLASK) spend import "$(FILE)"

simulate-time: migrate ## Replay the rule: make simulate-time FROM=2026-11-01T00:00Z TO=2026-11-02T00:00Z [SPEND=file.csv]
	$(FLASK) simulate --from "$(FROM)" --to "$(TO)" $(if $(SPEND),--spend "$(SPEND)")

enforce-budgets: migrate ## Run the sweep (every brand to the whole rule) now (AT=ISO to run as of another time)
	$(FLASK) jobs run enforce-budgets $(if $(AT),--at "$(AT)")

apply-dayparting: migrate ## The same sweep by its dayparting name (AT=ISO)
	$(FLASK) jobs run apply-dayparting $(if $(AT),--at "$(AT)")

reset-daily: migrate ## Run the daily reset now (AT=ISO)
	$(FLASK) jobs run reset-daily $(if $(AT),--at "$(AT)")

reset-monthly: migrate ## Run the monthly reset now (AT=ISO)
	$(FLASK) jobs run reset-monthly $(if $(AT),--at "$(AT)")

reconcile: migrate ## Bring every campaign to the rule's state now (AT=ISO)
	$(FLASK) jobs run reconcile $(if $(AT),--at "$(AT)")

monitor: migrate ## A live view of every brand (Ctrl-C to stop)
	$(FLASK) monitor

logs: migrate ## Follow the audit log of campaign changes (Ctrl-C to stop)
	$(FLASK) log --follow

load-test: install ## Benchmarks: spend-to-pause latency and CSV import speed (figures in docs/benchmarks.md)
	$(BIN)/python bench/enforcement_latency.py
	$(BIN)/python bench/ingest.py

bench: install ## Every benchmark at agency scale (10,000 brands; DATABASE_URL for PostgreSQL); rewrites docs/benchmarks.md
	$(BIN)/python bench/run_all.py

bench-smoke: install ## Every benchmark at a tiny size: checks they complete (CI), never how fast
	$(BIN)/python bench/run_all.py --smoke

clean: ## Remove the virtualenv and local data (instance/)
	rm -rf $(VENV) instance
