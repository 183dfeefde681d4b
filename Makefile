# quobyte-mesos build, test and run targets. `make help` lists them.
GO       ?= go
BIN      ?= bin
PKGS     ?= ./...
# Packages with goroutines and shared state run under the race detector.
RACE_PKGS ?= ./...
TEST_TIMEOUT ?= 20m
# staticcheck: installed by scripts/install-deps.sh (make deps) into GOPATH/bin.
STATICCHECK ?= $(shell command -v staticcheck 2>/dev/null || echo $$($(GO) env GOPATH)/bin/staticcheck)

.PHONY: help check deps build images test test-short lint rules bench fuzz chaos run clean

help:
	@echo "make check   install what the tests need, then lint and run every test (CI runs this)"
	@echo "make build   build bin/quobyte-mesos, bin/mesos-sim, bin/quobyte-standin"
	@echo "make test    every test (unit, race, conformance, end-to-end)"
	@echo "make lint    gofmt check, go vet and staticcheck"
	@echo "make rules   check the Prometheus alerting rules and run their unit tests (promtool)"
	@echo "make bench   benchmarks"
	@echo "make fuzz    run each fuzz target for FUZZTIME (default 20s)"
	@echo "make chaos   seeded fault schedules 1..SEEDS (default 20) over the whole system, and the table (test/chaos)"
	@echo "make images  build the framework image and the stand-in server image (needs a Docker engine)"
	@echo "make run     a local simulated cluster with the framework on it (RUNTIME=docker: in containers)"

# Everything the tests need: Go modules, and Debian packages (filesystem
# tools for the prober's real-mount tests, ZooKeeper) when run as root.
deps:
	scripts/install-deps.sh

check: deps lint rules test

build:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ ./cmd/...

# The framework image (examples/Dockerfile) and the stand-in server image
# (test/standin/Dockerfile), both FROM scratch around a static binary: no
# base image to pull. IMAGE_TAG names the tag of both.
IMAGE_TAG       ?= local
FRAMEWORK_IMAGE ?= quobyte-mesos
SERVER_IMAGE    ?= quobyte-server
IMAGE_BIN       ?= $(BIN)/image
images:
	@mkdir -p $(IMAGE_BIN)/framework $(IMAGE_BIN)/server
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o $(IMAGE_BIN)/framework/ ./cmd/quobyte-mesos
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o $(IMAGE_BIN)/server/ ./cmd/quobyte-standin
	docker build -q -f examples/Dockerfile -t $(FRAMEWORK_IMAGE):$(IMAGE_TAG) $(IMAGE_BIN)/framework
	docker build -q -f test/standin/Dockerfile -t $(SERVER_IMAGE):$(IMAGE_TAG) $(IMAGE_BIN)/server

test: build
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) $(RACE_PKGS)

test-short:
	$(GO) test -short -count=1 $(PKGS)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	@test -x "$(STATICCHECK)" || { echo "staticcheck not found: run make deps (scripts/install-deps.sh)"; exit 1; }
	$(STATICCHECK) $(PKGS)

# The alerting rules of examples/prometheus and their unit tests. promtool
# comes with Debian's prometheus package (scripts/install-deps.sh).
PROMTOOL ?= promtool
rules:
	@command -v $(PROMTOOL) >/dev/null || { echo "promtool not found: run make deps (scripts/install-deps.sh, as root)"; exit 1; }
	$(PROMTOOL) check rules examples/prometheus/alerts.yml
	cd examples/prometheus && $(PROMTOOL) test rules alerts_test.yml

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 1s $$pkg || exit 1; \
	  done; \
	done

# The chaos runner (test/chaos): seeds 1..SEEDS, CHAOS_RUNS at a time (each
# takes about a minute and little CPU), then the table: faults injected by
# kind, invariant checks made, violations, slowest convergence.
# CHAOS_FLAGS=-ha: two framework instances electing a leader in ZooKeeper.
# `make test` runs a fixed set of seeds.
SEEDS       ?= 20
CHAOS_RUNS  ?= 6
CHAOS_FLAGS ?=
chaos:
	$(GO) test -race -count=1 -timeout 0 -run '^TestChaos$$' ./test/chaos -v -seeds $(SEEDS) -runs $(CHAOS_RUNS) $(CHAOS_FLAGS)

RUNTIME ?= command
run:
	RUNTIME=$(RUNTIME) scripts/local-run.sh

clean:
	rm -rf $(BIN)
