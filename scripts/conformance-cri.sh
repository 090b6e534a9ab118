#!/usr/bin/env bash
# cri-tools' CRI validation suite (critest) through containerd's CRI plugin,
# with the runtime handler wasmrt (containerd-shim-wasmrt-v1) and runc
# (containerd's runc shim) in the same run; fails when wasmrt passes fewer
# specs than runc. About 10 minutes on 2 cores. See docs/conformance.md.
#
# Usage: sudo bash scripts/conformance-cri.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
if [ "$(id -u)" != 0 ]; then
	echo "conformance-cri: must run as root" >&2
	exit 2
fi
bash scripts/apt-ensure.sh containerd runc containernetworking-plugins docker-registry busybox-static gcc libc6-dev >&2
WASMRT_CRITEST=1 go test -count=1 -timeout 60m -run '^TestCritest$' -v ./shim
