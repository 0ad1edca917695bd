# Pacer operator commands. `make run` and `make test` set themselves up from nothing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app app
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install migrate setup run test lint demo health status shell superuser db-reset test-spend \
        simulate-spend import-spend simulate-time replay enforce-budgets apply-dayparting reset-daily reset-monthly \
        reconcile task-budget-check task-dayparting task-daily-reset task-monthly-reset prune-uploads monitor logs \
        load-test bench bench-smoke clean

# $(call require,TARGET,VARS,EXAMPLE): stop before doing anything when `make TARGET` lacks one of VARS.
require = $(if $(filter $(1),$(MAKECMDGOALS)),$(foreach v,$(2),$(if $(strip $($(v))),,$(error make $(1) needs \
  $(v)=...; for example: make $(3)))))
$(call require,test-spend,BRAND CAMPAIGN AMOUNT,test-spend BRAND="Acme Outdoor" CAMPAIGN="Search - Brand" AMOUNT=25.00)
$(call require,simulate-spend,MIN MAX,simulate-spend MIN=5 MAX=50)
$(call require,import-spend,FILE,import-spend FILE=spend.csv)
$(call require,simulate-time,HOUR DAY,simulate-time HOUR=9 DAY=mon)
$(call require,replay,FROM TO,replay FROM=2026-11-01T00:00Z TO=2026-11-02T00:00Z)
$(call require,superuser,EMAIL,superuser EMAIL=you@example.com)
ifneq ($(filter db-reset,$(MAKECMDGOALS)),)
ifneq ($(filter-out yes,$(CONFIRM)),)
$(error make db-reset takes CONFIRM=yes or nothing (it then asks), not CONFIRM=$(CONFIRM))
endif
endif

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
	$(FLASK) seed-demo --no-logins
	$(BIN)/python -m app.devserver

test: install ## Run the test suite (SQLite; set PACER_TEST_DATABASE_URL for PostgreSQL)
	$(BIN)/python -m pytest

lint: install ## Ruff, and the import contracts (arrows point down only: docs/architecture.md)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

setup: migrate ## Set up from nothing: virtualenv, install, migrate, demo data and logins (once)
	$(FLASK) seed-demo

demo: migrate ## The demonstration on the running stack (make run): spend, over budget, dayparting, reset
	$(FLASK) demo run

health: install ## The checks of /healthz from here: database, Redis, workers per queue, scheduler
	$(FLASK) health

status: migrate ## Show every campaign's state
	$(FLASK) status

shell: migrate ## A Python shell in the app, with db, session and the models
	$(FLASK) shell

superuser: migrate ## Create an admin: make superuser EMAIL=you@example.com [PASSWORD=...] (asked when omitted)
	$(FLASK) users create "$(EMAIL)" --role admin $(if $(PASSWORD),--password "$(PASSWORD)")

db-reset: install ## Empty the database and the stored uploads (asks; CONFIRM=yes without a terminal)
	$(FLASK) reset-database $(if $(CONFIRM),--yes)

test-spend: migrate ## Record a spend: make test-spend BRAND="Acme Outdoor" CAMPAIGN="Search - Brand" AMOUNT=25.00
	$(FLASK) spend record --brand "$(BRAND)" --campaign "$(CAMPAIGN)" --amount "$(AMOUNT)"

simulate-spend: migrate ## Random spend for every running campaign: make simulate-spend MIN=5 MAX=50 (brand currency)
	$(FLASK) spend simulate --min "$(MIN)" --max "$(MAX)"

import-spend: migrate ## Import a spend CSV or report: make import-spend FILE=spend.csv [SKIP_BAD_ROWS=1] [FORMAT=meta] [BRAND=Acme]
	$(FLASK) spend import "$(FILE)"$(if $(SKIP_BAD_ROWS), --skip-bad-rows)$(if $(FORMAT), --format "$(FORMAT)")$(if $(BRAND), --brand "$(BRAND)")

simulate-time: migrate ## What dayparting would do at a local hour and weekday (dry run): make simulate-time HOUR=9 DAY=mon
	$(FLASK) simulate-time --hour "$(HOUR)" --day "$(DAY)"

replay: migrate ## Replay the rule over time: make replay FROM=2026-11-01T00:00Z TO=2026-11-02T00:00Z [SPEND=file.csv]
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

task-budget-check: enforce-budgets ## The original name of enforce-budgets (AT=ISO)
task-dayparting: apply-dayparting ## The original name of apply-dayparting (AT=ISO)
task-daily-reset: reset-daily ## The original name of reset-daily (AT=ISO)
task-monthly-reset: reset-monthly ## The original name of reset-monthly (AT=ISO)

prune-uploads: migrate ## Delete stored uploads kept PACER_UPLOAD_RETENTION_DAYS (30) days after their import
	$(FLASK) spend prune-uploads

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
