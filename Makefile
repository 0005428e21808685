# relix — build, test, lint, fuzz, bench. `make test` is what CI runs.
GO        ?= go
PKGS      := ./...
STATICCHECK_VERSION := v0.7.0
GOVULNCHECK_VERSION := v1.9.0
# The Go vulnerability database as the golang.org/x/vulndb module holds it
# (OSV files under data/osv); `make vuln` builds govulncheck's layout from
# it once per version, under the gitignored .cache/.
VULNDB_VERSION := v0.0.0-20261105234957-e22db6528018
VULNDB_DIR := .cache/vulndb/$(VULNDB_VERSION)
# `go run PKG@VERSION` asks the proxy about PKG even when the module is in
# the cache; reading the cache as a proxy first lets `make vuln` run with no
# network once its modules are downloaded.
VULN_GOPROXY = file://$(shell $(GO) env GOMODCACHE)/cache/download,$(shell $(GO) env GOPROXY)
FUZZTIME  ?= 10s

.PHONY: all build test race lint vuln fuzz bench results ablation robustness clean

all: build test

## build: the relix binary in ./bin
build:
	$(GO) build -o bin/relix ./cmd/relix

## test: every unit, golden and script test (under 5 minutes on 2 cores)
test:
	$(GO) test -count=1 $(PKGS)

## race: the tests again under the race detector
race:
	$(GO) test -race -count=1 $(PKGS)

## lint: gofmt, go vet and staticcheck at a pinned version
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) $(PKGS)

## vuln: govulncheck (pinned) against a local Go vulnerability database, golang.org/x/vulndb at VULNDB_VERSION built once under .cache/ (no vuln.go.dev)
vuln: $(VULNDB_DIR)/index/db.json
	GOPROXY='$(VULN_GOPROXY)' $(GO) run golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION) -db file://$(CURDIR)/$(VULNDB_DIR) $(PKGS)

# vulndb's own cmd/indexdb writes the layout govulncheck reads (index/*.json,
# ID/*.json) from the module's OSV files; into a temporary directory first,
# so that an interrupted build leaves no half database behind.
$(VULNDB_DIR)/index/db.json:
	@set -e; \
	export GOPROXY='$(VULN_GOPROXY)'; \
	src=$$($(GO) mod download -json golang.org/x/vulndb@$(VULNDB_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
	if [ ! -d "$$src/data/osv" ]; then echo "no data/osv in golang.org/x/vulndb@$(VULNDB_VERSION) ($$src)"; exit 1; fi; \
	echo "building the vulnerability database $(VULNDB_DIR) from $$src/data/osv"; \
	rm -rf $(VULNDB_DIR).tmp; mkdir -p $(dir $(VULNDB_DIR)); \
	$(GO) run golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION) -vulns "$$src/data/osv" -out $(VULNDB_DIR).tmp; \
	rm -rf $(VULNDB_DIR); mv $(VULNDB_DIR).tmp $(VULNDB_DIR)

## fuzz: a short pass of every fuzz target (FUZZTIME each)
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "fuzz $$pkg $$target"; \
			$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

## bench: every benchmark, for benchstat (go test -bench . -count 10 > new.txt)
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

## results: run the committed experiments that fit CI and regenerate EXPERIMENTS.md
results: build
	bin/relix run -q --force experiments/paired.yaml
	bin/relix sweep -q experiments/zone-sweep.yaml
	bin/relix report --experiments EXPERIMENTS.md results/paired results/zone-sweep

## ablation: paired.yaml with each sim and training mechanism off in turn, seed 1 (~15 min on 2 cores)
ABLATION := all-on no-reach no-termination no-sharpen one-pool zero-reward serial-timing
ablation: build
	@set -e; for v in $(ABLATION); do \
		echo "ablation $$v"; \
		bin/relix run -q --force --set 'seeds=[1]' experiments/ablation/$$v.yaml; \
	done
	$(GO) run ./scripts/ablation -o results/ablation/ablation.md $(addprefix results/ablation/,$(ABLATION))

## robustness: paired.yaml with each uncalibrated constant one step below and above its value, seeds 1, 2 and 3 (~40 min on 2 cores)
ROBUSTNESS := default noise-16 noise-64 lr-1000 lr-4000 skills-4 skills-16 \
	step-sd-0.25 step-sd-1 loop-wrong-1 loop-wrong-3 loop-difficulty-0.15 loop-difficulty-0.6 \
	stop-wrong-0.5 stop-wrong-2 cooldown-50 cooldown-150 pool-2400 pool-8000 miners-4 miners-16 \
	budget-market-1000 budget-1000 auction-deadline-75 auction-deadline-300 auction-carry auction-carry-300
robustness: build
	@set -e; for v in $(ROBUSTNESS); do \
		echo "robustness $$v"; \
		bin/relix run -q --force --set 'seeds=[1,2,3]' experiments/robustness/$$v.yaml; \
	done
	$(GO) run ./scripts/robustness -o results/robustness/robustness.md $(addprefix results/robustness/,$(ROBUSTNESS))

clean:
	rm -rf bin
