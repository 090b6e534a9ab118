#!/usr/bin/env bash
# Tasks through a private containerd (Debian's containerd, started by the
# benchmark): N short tasks one after another (ctr run --rm, runwasi's
# method) for a Wasm task and a native task under containerd-shim-wasmrt-v1
# and a native task under containerd's runc shim, in the same run; then the
# shims' memory per container for 10 long-running containers.
#
# Usage: scripts/bench-shim.sh [N]   (default N=200; root required)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
n=${1:-200}
if [ "$(id -u)" != 0 ]; then
	echo "bench-shim: must run as root" >&2
	exit 2
fi
bash scripts/apt-ensure.sh containerd runc busybox-static clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32 >&2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -run '^$' -bench 'BenchmarkContainerdTasks' -benchtime "${n}x" -timeout 60m ./shim | tee "$out"
go test -run '^$' -bench 'BenchmarkShimRSS' -benchtime 1x -timeout 20m ./shim | tee -a "$out"
echo
echo "tasks/s through containerd, N=$n each:"
awk '/BenchmarkContainerdTasks\// { split($1, p, "/"); sub(/-[0-9]+$/, "", p[2]); for (i = 1; i < NF; i++) if ($(i+1) == "tasks/s") r[p[2]] = $i }
     END { for (k in r) printf "  %-16s %7.2f tasks/s  %.2fx runc shim\n", k, r[k], r[k] / r["runc-native"] }' "$out"
