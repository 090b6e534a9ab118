# wasmrt — build, test, fixtures, benchmarks and the demo.
# Every target installs what it needs (Debian packages, Go modules) first.

export PATH := /usr/local/go/bin:$(PATH)
GO ?= go
BIN := bin
FIXTURES := .fixtures
# Packages whose tests run in `make test`.
PKGS := ./...

.PHONY: all build deps fixtures test vet fmt-check bench demo clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@mkdir -p $(BIN)
	$(GO) build -trimpath -o $(BIN)/c2w ./cmd/c2w

fixtures: deps
	@bash scripts/fixtures.sh

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

test: deps fixtures fmt-check vet
	GOOS=wasip1 GOARCH=wasm $(GO) build ./emulator/...
	$(GO) test -timeout 20m $(PKGS)

bench: deps fixtures
	@bash scripts/bench.sh

demo: build fixtures
	@bash scripts/demo.sh

clean:
	rm -rf $(BIN)
