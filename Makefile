# Switchboard — tasks. `make help` lists them.
SHELL := /bin/bash
GO    ?= go
BIN   := $(CURDIR)/bin
STATICCHECK_VERSION   := v0.8.2
WORKFLOWCHECK_VERSION := v0.6.0

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the tasks
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## build switchboard (CLI + dev platform), switchboard-api and switchboard-worker into bin/
	$(GO) build -o $(BIN)/switchboard ./cmd/switchboard
	$(GO) build -o $(BIN)/switchboard-api ./cmd/api
	$(GO) build -o $(BIN)/switchboard-worker ./cmd/worker

.PHONY: run
run: ## start the embedded platform (switchboard dev; state in ./.switchboard/)
	$(GO) build -o $(BIN)/switchboard ./cmd/switchboard
	$(BIN)/switchboard dev

.PHONY: test
test: ## run every test (what CI runs)
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 25m ./...
	SWITCHBOARD_API_TEST_STORE=postgres $(GO) test -count=1 -timeout 10m ./api/

.PHONY: lint
lint: $(BIN)/staticcheck $(BIN)/workflowcheck ## go vet + staticcheck + Temporal's workflowcheck
	$(GO) vet ./...
	$(BIN)/staticcheck ./...
	$(BIN)/workflowcheck -config workflowcheck.config.yaml ./workflows/...

$(BIN)/staticcheck:
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

$(BIN)/workflowcheck:
	GOBIN=$(BIN) $(GO) install go.temporal.io/sdk/contrib/tools/workflowcheck@$(WORKFLOWCHECK_VERSION)

.PHONY: bench
bench: ## benchmarks: DSL vs native Go workflows, compile time, run starts over the API vs the Temporal client
	$(GO) test -run='^$$' -bench=. -benchtime=$${BENCHTIME:-15x} -count=$${COUNT:-1} ./workers/bench/ ./dsl/
	$(GO) test -run='^$$' -bench=Starts -benchtime=$${STARTS:-2000x} ./cli/

.PHONY: bench-records
bench-records: ## the records benchmark: 1,000,000 customers (CUSTOMERS=...), 50 API clients, PostgreSQL and SQLite (~15 min)
	SWITCHBOARD_BENCH_CUSTOMERS=$${CUSTOMERS:-1000000} $(GO) test -run='^$$' -bench=CustomerQueries -benchtime=$${REQUESTS:-2000x} -timeout 90m -v ./store/storebench/

.PHONY: schema
schema: ## regenerate schemas/dsl-v1.json from the action registry
	$(GO) run ./cmd/switchboard schema > schemas/dsl-v1.json

.PHONY: fuzz
fuzz: ## fuzz the DSL parser and compiler for a minute
	$(GO) test ./dsl -run='^$$' -fuzz=FuzzCompile -fuzztime=$${FUZZTIME:-60s}

.PHONY: histories
histories: ## re-record the replay-test histories in workflows/testdata (embedded server)
	$(GO) test ./workers/devserver -run TestRecordHistories -record -count=1
