# wasmrt — build, test, fixtures, benchmarks and the demo.
# Every target installs what it needs (Debian packages, Go modules) first.

export PATH := /usr/local/go/bin:$(PATH)
GO ?= go
BIN := bin
FIXTURES := .fixtures
# Packages whose tests run in `make test`.
PKGS := ./...
# The emulator module c2w embeds (go:embed) and packs images into; built
# before anything compiles cmd/c2w (see cmd/c2w/emulator.go).
EMULATOR_WASM := cmd/c2w/module/c2w-emulator.wasm

.PHONY: all build emulator-wasm web deps fixtures test unit vet fmt-check conformance conformance-guest conformance-cri bench demo clean

all: build

deps:
	@bash scripts/install-deps.sh

# Always rerun: go build is incremental and knows when the module is stale.
emulator-wasm:
	GOOS=wasip1 GOARCH=wasm $(GO) build -trimpath -o $(EMULATOR_WASM) ./cmd/c2w-emulator

# The browser page's scripts c2w embeds (convert/browser/dist), bundled
# from convert/browser/web with the npm packages its lock file pins.
web: deps
	@bash scripts/build-web.sh

build: deps emulator-wasm web
	@mkdir -p $(BIN)
	$(GO) build -trimpath -o $(BIN)/c2w ./cmd/c2w
	$(GO) build -trimpath -o $(BIN)/containerd-shim-wasmrt-v1 ./cmd/containerd-shim-wasmrt-v1
	# Static, so each container start skips the dynamic loader (docs/performance-runtime.md).
	$(GO) build -trimpath -tags netgo,osusergo -ldflags '-linkmode=external -extldflags=-static' -o $(BIN)/wasmrt ./cmd/wasmrt

fixtures: deps
	@bash scripts/fixtures.sh

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet: emulator-wasm web
	$(GO) vet $(PKGS)

test: unit conformance conformance-guest

# Every Go test: unit, hostile-input corpora, fuzz seeds, real registry,
# qemu and runc differential tests.
unit: deps fixtures fmt-check vet
	GOOS=wasip1 GOARCH=wasm $(GO) build ./emulator/... ./cmd/c2w-emulator
	$(GO) test -timeout 20m $(PKGS)
	# The CPU's wasm-only instruction forms, checked natively against qemu.
	$(GO) test -tags unifiedops ./emulator/riscv64/

# The OCI runtime-tools validation suite against wasmrt and runc in one job;
# fails when wasmrt fails a test file runc passes (see docs/conformance.md).
conformance: deps
	@bash scripts/conformance.sh

# CPython's regression tests in the converted python-tests image and under
# qemu-riscv64 on the same root filesystem, module by module; fails when a
# module passes under qemu only (see docs/conformance.md).
conformance-guest: deps
	@bash scripts/conformance-guest.sh

# cri-tools' critest through containerd's CRI plugin, wasmrt's shim against
# runc's (~10 min; not part of make test, see docs/conformance.md).
conformance-cri: deps
	@bash scripts/conformance-cri.sh

bench: build fixtures
	@bash scripts/bench.sh
	@bash scripts/bench-pack.sh
	@bash scripts/bench-runtime.sh
	@bash scripts/bench-shim.sh
	@bash scripts/bench-net.sh
	@bash scripts/bench-browser.sh

demo: build fixtures
	@bash scripts/demo.sh

clean:
	rm -rf $(BIN) $(EMULATOR_WASM)
	find convert/browser/dist -type f ! -name README.md ! -name .gitignore -delete
