#!/usr/bin/env bash
# Installs what building and testing wasmrt needs on a Debian 12 machine:
# Debian packages (only those missing) and the Go modules. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
	ca-certificates git make gcc
	qemu-user-static             # oracle for the riscv64 CPU and Linux layer
	gcc-riscv64-linux-gnu libc6-dev-riscv64-cross  # riscv64 C test programs
	docker-registry              # real registry server for integration tests
	wabt                         # wasm-validate for every module we write
	dpkg-dev                     # dpkg-deb for building fixtures
)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "install-deps: missing Debian packages: ${missing[*]} (run as root, or install them)" >&2
		exit 1
	fi
	echo "install-deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v go >/dev/null; then
	if [ -x /usr/local/go/bin/go ]; then
		export PATH=/usr/local/go/bin:$PATH
	else
		echo "install-deps: Go is not installed (need the version in go.mod)" >&2
		exit 1
	fi
fi
go mod download
