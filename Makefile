# copycat's front door. `make` lists the targets.
#
# Optional C codecs are compiled in when their Debian libraries are
# installed (see `make deps`): CharLS for JPEG-LS, OpenJPEG for JPEG 2000,
# libjpeg-turbo for reduced-scale JPEG decoding, libspng for faster PNG
# decoding, libdeflate for faster grey PNG decoding. The pure-Go build is
# always tested too.

GO      ?= go
BIN     := bin/copycat
TAGS    := $(strip $(shell pkg-config --exists charls 2>/dev/null && echo charls) \
                   $(shell pkg-config --exists libopenjp2 2>/dev/null && echo openjpeg) \
                   $(shell pkg-config --exists libturbojpeg 2>/dev/null && echo turbojpeg) \
                   $(shell pkg-config --exists spng 2>/dev/null && echo spng) \
                   $(shell pkg-config --exists libdeflate 2>/dev/null && echo libdeflate))
FUZZTIME ?= 10s
CODEC_PKGS := ./ingest/... ./scan/...
DEMO_DIR ?= demo-out

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'
	@echo "  build tags found here: $(if $(TAGS),$(TAGS),none (pure Go))"

.PHONY: tags
tags: ## print the build tags found here (the scripts in bench/scripts use them)
	@echo $(TAGS)

.PHONY: build
build: ## build bin/copycat with every codec installed here
	$(GO) build -tags '$(TAGS)' -o $(BIN) ./cmd/copycat

.PHONY: test
test: ## go vet and go test -race, pure-Go build and (when libraries are installed) the cgo codec build
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...
	@# The corpus-wide measurement studies sample under -race; run them whole.
	$(GO) test -count=1 ./hash/
	$(GO) test -count=1 -run 'Recall' ./scan/
	$(GO) test -count=1 -run 'TestVerifyStudy|TestQuality' ./bench/
	$(GO) test -count=1 ./internal/reupload/
	$(GO) test -count=1 -run 'SIGINT|FaultFullDisk|FreeSpaceFloor|TestShardScanImportEqualsFullScan' ./cmd/copycat/
	$(GO) test -count=1 -run 'SIGKILLMidCompact|TestPageOut' ./index/
ifneq ($(TAGS),)
	$(GO) vet -tags '$(TAGS)' ./...
	@# Only these packages decode, so only they behave differently with the C codecs
	@# (cmd and lineage decode through scan: their tagged race pass cost CI 1.5 minutes
	@# and caught nothing scan's does not; `make test-codecs` runs them too).
	$(GO) test -race -count=1 -tags '$(TAGS)' $(CODEC_PKGS)
	@# The C codecs decode more of the corpus: the verification study samples other images.
	$(GO) test -count=1 -tags '$(TAGS)' -run 'TestVerifyStudy' ./bench/
endif

.PHONY: test-codecs
test-codecs: ## every decoding package, cmd and lineage included, with the C codecs and -race (not in CI: make test covers ingest and scan)
	$(GO) test -race -count=1 -tags '$(TAGS)' ./ingest/... ./scan/... ./cmd/... ./lineage/...

.PHONY: test-beam
test-beam: ## the Beam module's pipeline tests on Prism, short (beam/, its own module; .ci/run runs it after test)
	cd beam && $(GO) vet ./pipeline/... && $(GO) test -short -count=1 -timeout 30m ./pipeline/...

.PHONY: build-beam
build-beam: ## build bin/copycat-beam (every Beam runner compiled in: 156 MB, minutes cold; not in CI)
	cd beam && $(GO) vet ./... && $(GO) build -o ../bin/copycat-beam ./cmd/copycat-beam

BEAM_IMAGES ?= 1000000
.PHONY: bench-beam
bench-beam: ## the Beam pairs step on BEAM_IMAGES (1,000,000) generated fingerprints against copycat's own search (long, Prism holds ~80 KB per image; not in CI)
	cd beam && $(GO) test -count=1 -timeout 3h -run 'TestPairsGenerated$$' -v ./pipeline/ -gen-images $(BEAM_IMAGES)

.PHONY: lint
lint: ## gofmt and go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...

.PHONY: generate
generate: ## regenerate lineage's SPDX licence table from github.com/github/go-spdx's copy of the SPDX License List
	$(GO) generate ./lineage

.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZTIME each (default 10s)
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

.PHONY: bench
bench: ## go test benchmarks of every package
	$(GO) test -run '^$$' -bench . -benchmem -tags '$(TAGS)' ./...

.PHONY: demo
demo: build ## build derived uploads from the fixtures, scan them, print the lineage, write demo-report.html
	rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)
	$(GO) run ./internal/demogen testdata/demo/original $(DEMO_DIR)/uploads
	./$(BIN) scan --index $(DEMO_DIR)/index testdata/demo/original $(DEMO_DIR)/uploads/upload.zip $(DEMO_DIR)/uploads/kaggle-copy.tar.gz testdata/demo/broken
	./$(BIN) datasets --index $(DEMO_DIR)/index
	./$(BIN) lineage --index $(DEMO_DIR)/index
	./$(BIN) report --index $(DEMO_DIR)/index --html demo-report.html

.PHONY: deps
deps: ## install the Debian packages the full test suite uses (needs root)
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	  pkg-config dcmtk libgdcm-tools imagemagick libcharls-dev libopenjp2-7-dev libturbojpeg0-dev libspng-dev libdeflate-dev \
	  libjpeg-turbo-progs chromium mricron-data

.PHONY: clean
clean: ## remove build and demo output
	rm -rf bin $(DEMO_DIR) demo-report.html demo-report_clusters
