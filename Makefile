# Two commands: `make run` and `make test`. With DATABASE_URL unset, both
# bring up a project-local PostgreSQL under .pg/ (git-ignored).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

GO      ?= go
BIN     := bin/webstore
PG_DEV  := .pg/dev
PG_TEST := .pg/test

# The local sandboxes (payments, LINE Login) are mounted only when
# WEBSTORE_ENV=development is set explicitly; unset is production's rules.
# make run and make test ask for development unless told otherwise.
WEBSTORE_ENV ?= development
export WEBSTORE_ENV

.PHONY: run test build generate check-generated vet bench-renew bench-pages bench-sim screenshots browser-deps pooler-deps bench-deps fuzz-money

build: generate
	$(GO) build -o $(BIN) ./cmd/webstore

generate:
	$(GO) tool templ generate -log-level error

## run: a local PostgreSQL (unless DATABASE_URL is set), Mailpit (unless SMTP_URL is set),
## migrations, demo data, the app on :8080.
run: build
	@if [ -z "$${DATABASE_URL:-}" ]; then export DATABASE_URL=$$(db/localpg.sh start $(PG_DEV) 5433); fi; \
	if [ -z "$${SMTP_URL:-}" ]; then \
		mkdir -p .pg; mp=$$($(GO) tool -n mailpit); \
		$$mp --smtp 127.0.0.1:1025 --listen 127.0.0.1:8025 --quiet --disable-version-check --database .pg/mailpit.db & \
		mailpit=$$!; trap 'kill $$mailpit 2>/dev/null' EXIT; \
		export SMTP_URL=smtp://127.0.0.1:1025; inbox="  mail (Mailpit): http://127.0.0.1:8025"; \
	fi; \
	./$(BIN) migrate; \
	./$(BIN) seed; \
	echo; echo "  webstore: http://localhost:8080"; \
	echo "$${inbox:-  mail: $$SMTP_URL}"; \
	echo "  demo sign-ins (password demo1234): alice (admin of 熊美服飾店 and 貓咪咖啡), oscar (operator), kenji (東京ラーメン), staff (billing team)"; \
	echo; \
	./$(BIN) serve

## test: a throwaway PostgreSQL (unless DATABASE_URL is set), then every check and test.
test: check-generated vet browser-deps pooler-deps
	@if [ -z "$${DATABASE_URL:-}" ]; then \
		export DATABASE_URL=$$(db/localpg.sh fresh $(PG_TEST) 5434); \
		trap 'db/localpg.sh stop $(PG_TEST)' EXIT; \
	fi; \
	$(GO) test -count=1 -timeout 30m ./...

check-generated: generate
	@if [ -n "$$(git status --porcelain -- '*_templ.go')" ]; then \
		echo "generated templ files are stale: run 'go tool templ generate' and commit them"; \
		git status --porcelain -- '*_templ.go'; exit 1; \
	fi

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' | grep -v '_templ.go$$')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

## fuzz-money: the randomized money fault campaign with 10,000 seeds (make test runs 340).
fuzz-money:
	@if [ -z "$${DATABASE_URL:-}" ]; then \
		export DATABASE_URL=$$(db/localpg.sh fresh .pg/fuzz 5436); \
		trap 'db/localpg.sh stop .pg/fuzz' EXIT; \
	fi; \
	start=$$(date +%s); \
	MONEY_SEED=$${MONEY_SEED:-0} MONEY_SEEDS=$${MONEY_SEEDS:-10000} MONEY_WORKERS=$${MONEY_WORKERS:-3} $(GO) test -count=1 -parallel $${MONEY_WORKERS:-3} -timeout 4h -run '^TestMoneyFaults$$' ./db/; \
	echo "fuzz-money: $${MONEY_SEEDS:-10000} seeds in $$(( $$(date +%s) - start )) s"

## browser-deps: Debian's chromium and CJK fonts for the browser tests.
browser-deps:
	@.ci/browser-deps

## pooler-deps: Debian's pgbouncer, which the tests put in front of the test database.
pooler-deps:
	@.ci/pooler-deps

## bench-deps: Debian's wrk, bench-pages' load client.
bench-deps:
	@.ci/bench-deps

## bench-renew: loadgen 1,000,000 accounts (ACCOUNTS=N for another size) into a fresh database, time
## `renew`, then a bare INSERT … SELECT of the same charges; prints the ratio (figures in README).
bench-renew: build
	@.ci/bench-renew

## bench-sim: 20 scenarios in one process, and in the same run the same 20 with a schema
## made and dropped per scenario (figures in README).
bench-sim:
	@if [ -z "$${DATABASE_URL:-}" ]; then \
		export DATABASE_URL=$$(db/localpg.sh fresh .pg/bench-sim 5438); \
		trap 'db/localpg.sh stop .pg/bench-sim' EXIT; \
	fi; \
	$(GO) test -count=1 -run '^$$' -bench '^BenchmarkSimulator20$$' -benchtime $${RUNS:-3}x ./sim/

## bench-pages: the account pages and an independent one-read ceiling (a separate bare Echo
## process), each loaded by wrk -t2 -c64 from its own process, in one run on a fresh database
## reached over TCP (figures in README). Flags go in ARGS, e.g. make bench-pages ARGS='-d 10s'.
bench-pages: bench-deps
	$(GO) build -o bin/benchpages ./cmd/benchpages
	@export DATABASE_URL=$$(LOCALPG_TCP=1 db/localpg.sh fresh .pg/bench 5437); \
	trap 'db/localpg.sh stop .pg/bench' EXIT; \
	./bin/benchpages $(ARGS)

## screenshots: the README's pictures, taken by the browser tests at 375 px and 1280 px.
screenshots: browser-deps
	@mkdir -p testdata/screenshots
	@if [ -z "$${DATABASE_URL:-}" ]; then \
		export DATABASE_URL=$$(db/localpg.sh fresh $(PG_TEST) 5434); \
		trap 'db/localpg.sh stop $(PG_TEST)' EXIT; \
	fi; \
	SCREENSHOTS=$(CURDIR)/testdata/screenshots $(GO) test -count=1 -run 'Phone|Desktop|Members|Staff|BrowserJourneys' ./web/
