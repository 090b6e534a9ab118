#!/usr/bin/env bash
# Installs what building and testing wasmrt needs on a Debian 12 machine:
# the Debian packages (only those missing) and the Go modules. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

# qemu-user-static: oracle for the riscv64 CPU and Linux layer.
# gcc-riscv64-linux-gnu, libc6-dev-riscv64-cross: riscv64 C test programs.
# docker-registry: a real registry server for integration tests.
# wabt: wasm-validate for every module we write.
# dpkg-dev, gpgv, debian-archive-keyring: building the riscv64 fixtures.
# zstd: an independent zstd encoder for layer tests.
# libseccomp-dev, pkg-config: wasmrt's seccomp support (cgo).
# busybox-static, runc, crun, util-linux: runtime tests, the runc differential
#   test and the runtime benchmark.
# nodejs: running converted modules under Node's WASI in tests.
# time: GNU time for the CPU benchmark's CPU-second figures.
# clang-14, lld-14, wasi-libc, libclang-rt-14-dev-wasm32: C programs built
#   for wasm32-wasi, run by the WebAssembly host and executor tests.
# containerd, bsdutils (script), containernetworking-plugins, libc6-dev: the
#   shim's tests under a real containerd, with a terminal, and CRI pods with
#   a bridge network and a static pause program.
# chromium: the browser page's tests (headless, driven by playwright-core).
bash scripts/apt-ensure.sh ca-certificates git make gcc tar \
	qemu-user-static gcc-riscv64-linux-gnu libc6-dev-riscv64-cross \
	docker-registry wabt dpkg-dev gpgv debian-archive-keyring time zstd \
	libseccomp-dev pkg-config busybox-static runc crun util-linux nodejs \
	clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32 containerd bsdutils \
	containernetworking-plugins libc6-dev chromium

# npm: the browser page's packages (convert/browser/web). Some nodejs
# builds bring their own npm; Debian's comes as a package of its own.
if ! command -v npm >/dev/null; then
	bash scripts/apt-ensure.sh npm
fi

if ! command -v go >/dev/null; then
	echo "install-deps: Go is not installed: install the version go.mod names at /usr/local/go" >&2
	exit 1
fi
go mod download
